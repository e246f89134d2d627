"""A reproducible sample of entities per metric, decided by arithmetic both SQL dialects share.

An entity is in the sample of a metric when ``(entityId × 2654435761) mod 2³²`` (Knuth's
multiplicative hash) is below that metric's threshold. The same expression runs in Postgres
and in ClickHouse, so it can be pushed into the expected queries at the source (less to read,
stream and compare) and applied to the target alike: both sides hold the same entities. The
threshold is ``N / distinct entities`` of 2³², the entity count estimated in the target
(``uniq``), so each metric gets about N entities; the same data gives the same sample.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .clickhouse import string_literal
from .events import Window
from .target import Target

_SPACE = 2**32
_MULTIPLIER = 2654435761


@dataclass(frozen=True)
class Sampler:
    thresholds: dict[str, int]
    """Metric → hash threshold; metrics with fewer than N entities are checked whole."""

    @classmethod
    def for_target(cls, target: Target, metrics: list[str], window: Window, n: int) -> Sampler:
        rows = target.ch.query_rows(
            f"SELECT entityType, metricType, uniq(entityId) FROM {target.quoted} "
            f"WHERE {target.metric_condition(metrics)} AND {target.window_condition(window)} "
            f"GROUP BY entityType, metricType"
        )
        thresholds = {}
        for et, mt, entities in rows:
            if int(entities) > n:
                thresholds[f"{et}.{mt}"] = math.ceil(n * _SPACE / int(entities))
        return cls(thresholds)

    def narrowed(self, entities: dict[str, int], n: int) -> Sampler:
        """The sample cut down to about ``n`` entities per metric, given how many entities each
        metric has under this sample (both sides): a subset of it, so both sides agree."""
        thresholds = dict(self.thresholds)
        for name, count in entities.items():
            if count > n:
                limit = thresholds.get(name, _SPACE)
                thresholds[name] = max(1, n * limit // count)
        return Sampler(thresholds)

    def condition(self, entity_type: str, metric_type: str, entity_id: str) -> str:
        """SQL (Postgres and ClickHouse): the row's entity is in its metric's sample."""
        if not self.thresholds:
            return "true"
        cases = " ".join(
            f"WHEN {entity_type} = {string_literal(et)} AND {metric_type} = {string_literal(mt)} "
            f"THEN ({entity_id} * {_MULTIPLIER}) % {_SPACE} < {limit}"
            for et, mt, limit in ((*name.split(".", 1), t) for name, t in sorted(self.thresholds.items()))
        )
        return f"(CASE {cases} ELSE true END)"
