"""compare: the legacy ``*Metric`` AllTime values (SPEC §6) against the sums of events.

For every metric with a legacy column, each entity's ``AllTime`` value is set against
``SUM(metricValue)`` of all its events in the target (backfilled and live) created before the
as-of moment: by default the legacy row's own ``updatedAt``, when that value was computed (a
NULL ``updatedAt``, or no legacy row at all, counts as the cutoff); ``--as-of cutoff`` or a
timestamp puts every entity at one moment. An entity with events but no legacy row has legacy
value 0 ("only in events").

Read-only and bounded like verify: the legacy rows are read from Postgres in key-range chunks
and streamed into a scratch table of the target (``mb_compare_…``), each entity type is
compared there one entity-id range at a time into a second scratch table holding one row per
entity compared, and only counts, totals, quantiles, histograms and the worst entities come
back to Python. No event ever travels through Python.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa

from .clickhouse import string_literal
from .expected import VERIFY_SETTINGS, stream_into
from .idranges import id_ranges
from .legacy import LEGACY_TABLES, TIMEFRAME, LegacyTable, legacy_column, reasons
from .plan import cut
from .progress import Steps
from .scratch import Scratch, sweep_leftovers, terminate_as_interrupt
from .sources import PostgresSource, ch_time_literal
from .target import Target
from .verify import MetricKey

MAX_WORST = 2**24 - 1
"""The most entities ``--worst`` lists per metric: what ClickHouse's groupArraySorted takes."""
READ_ROWS = 250_000
"""Legacy rows per Postgres read (a key range of the legacy table)."""
CHUNK_ROWS = 250_000
"""Legacy values plus target events compared per query: bounds ClickHouse's GROUP BY."""
MARKER = ""
"""The metricType of the one scratch row per legacy row that carries its as-of moment."""

LEGACY_COLUMNS = ("entityType LowCardinality(String), entityId Int64, "
                  "metricType LowCardinality(String), value Int64, asOf DateTime64(3, 'UTC')")
_LEGACY_SCHEMA = pa.schema([("entityType", pa.string()), ("entityId", pa.int64()),
                            ("metricType", pa.string()), ("value", pa.int64()),
                            ("asOf", pa.timestamp("ms"))])
DIFF_COLUMNS = ("entityType LowCardinality(String), metricType LowCardinality(String), "
                "entityId Int64, legacy Int64, events Int64, arel Float64")
"""One row per (metric, entity) compared; ``arel`` = |events − legacy| / |legacy| (inf when
the legacy value is 0), the sort key that makes quantiles a read in order."""

BINS = ("50 % or more lower", "10 to 50 % lower", "1 to 10 % lower", "under 1 % lower", "equal",
        "under 1 % higher", "1 to 10 % higher", "10 to 50 % higher", "50 % or more higher",
        "only in events")
"""Histogram bins of the relative difference (events − legacy) / |legacy|: how much lower or
higher the sum of events is than the legacy value; last, entities without a legacy value."""
_BIN_SQL = ("legacy != 0 AND rel <= -0.5", "rel > -0.5 AND rel <= -0.1",
            "rel > -0.1 AND rel <= -0.01", "rel > -0.01 AND rel < 0", "legacy != 0 AND rel = 0",
            "rel > 0 AND rel < 0.01", "rel >= 0.01 AND rel < 0.1", "rel >= 0.1 AND rel < 0.5",
            "legacy != 0 AND rel >= 0.5", "legacy = 0")


@dataclass(frozen=True)
class AsOf:
    """Which events count: those created before ``at`` (kind ``cutoff`` or ``time``), or
    before each legacy row's updatedAt (kind ``row``; ``at`` then serves NULL and missing
    rows)."""

    kind: str
    at: datetime

    def describe(self) -> str:
        if self.kind == "row":
            return "as of each legacy row's updatedAt"
        return f"as of {self.at.isoformat(sep=' ', timespec='milliseconds')}" + (
            " (the cutoff)" if self.kind == "cutoff" else "")


@dataclass
class MetricDrift(MetricKey):
    table: str
    column: str
    entities: int = 0
    """Entities with either side non-zero."""
    equal: int = 0
    within: int = 0
    """|events − legacy| ≤ max(1, 1 % of |legacy|)."""
    only_in_events: int = 0
    only_in_legacy: int = 0
    legacy_total: int = 0
    events_total: int = 0
    median: float | None = None
    """Median of |events − legacy| / |legacy| over entities with a legacy value (a fraction)."""
    p99: float | None = None
    worst: list[dict] = field(default_factory=list)
    histogram: list[int] = field(default_factory=lambda: [0] * len(BINS))

    @property
    def reasons(self) -> tuple[str, ...]:
        return reasons(self.name)

    @property
    def unequal(self) -> int:
        return self.entities - self.equal

    @property
    def unequal_pct(self) -> float:
        return 100.0 * self.unequal / self.entities if self.entities else 0.0

    @property
    def status(self) -> str:
        """``equal``, ``known`` (drifting with a by-design reason) or ``unexplained``."""
        if not self.unequal:
            return "equal"
        return "known" if self.reasons else "unexplained"

    def to_json(self) -> dict:
        return {
            "entityType": self.entity_type, "metricType": self.metric_type,
            "legacy": f"{self.table}.{self.column}", "status": self.status,
            "reasons": list(self.reasons), "entities": self.entities, "equal": self.equal,
            "unequal": self.unequal, "unequal_pct": float(f"{self.unequal_pct:.4g}"),
            "within_1pct": self.within, "only_in_events": self.only_in_events,
            "only_in_legacy": self.only_in_legacy, "legacy_total": self.legacy_total,
            "events_total": self.events_total,
            "median_rel_diff_pct": None if self.median is None else round(100 * self.median, 3),
            "p99_rel_diff_pct": None if self.p99 is None else round(100 * self.p99, 3),
            "worst": self.worst, "histogram": dict(zip(BINS, self.histogram, strict=True)),
        }


@dataclass
class CompareReport:
    metrics: list[MetricDrift]
    as_of: AsOf
    new_metrics: list[str] = field(default_factory=list)
    """Selected metrics without a legacy column (SPEC §6): not compared."""
    skipped: dict[str, str] = field(default_factory=dict)
    """Metric → why it was not compared (its legacy table or column is missing)."""
    max_drift: float | None = None

    def count(self, status: str) -> int:
        return sum(m.status == status for m in self.metrics)

    @property
    def over_max_drift(self) -> list[MetricDrift]:
        """Metrics without a by-design reason with more than ``max_drift`` % unequal."""
        if self.max_drift is None:
            return []
        return [m for m in self.metrics if not m.reasons and m.unequal_pct > self.max_drift]

    @property
    def ok(self) -> bool:
        return not self.over_max_drift

    def summary(self) -> str:
        n = len(self.metrics)
        return (f"{n} metric{'s' * (n != 1)} compared {self.as_of.describe()}: "
                f"{self.count('equal')} equal, {self.count('known')} drifting with a known "
                f"reason, {self.count('unexplained')} drifting without one")

    def to_json(self) -> dict:
        return {
            "ok": self.ok, "as_of": self.as_of.kind,
            "as_of_time": self.as_of.at.isoformat(sep=" ", timespec="milliseconds"),
            "summary": {"compared": len(self.metrics), "equal": self.count("equal"),
                        "known_reason": self.count("known"),
                        "no_known_reason": self.count("unexplained")},
            "max_drift": self.max_drift, "over_max_drift": [m.name for m in self.over_max_drift],
            "metrics": [m.to_json() for m in self.metrics],
            "new_metrics": self.new_metrics, "skipped": self.skipped,
        }


def compare(pg: PostgresSource, target: Target, metrics: list[str], as_of: AsOf,
            worst: int = 10, progress: Steps | None = None,
            log: Callable[[str], None] = lambda s: print(s, file=sys.stderr)) -> CompareReport:
    """Compare ``metrics`` (each with a legacy column) as described in the module docstring."""
    progress = progress or Steps(enabled=False)
    order = {m: i for i, m in enumerate(m for t in LEGACY_TABLES for m in t.metric_names())}
    metrics = sorted(metrics, key=order.__getitem__)  # by legacy table, as SPEC §6 lists them
    tables, skipped = LegacyLayout.read(pg, metrics, as_of, log)
    compared = [m for m in metrics if m not in skipped]
    sweep_leftovers(target.ch, target.database, log)
    with terminate_as_interrupt(), Scratch(target.ch, target.database, "compare") as scratch:
        legacy = scratch.create("legacy", LEGACY_COLUMNS, "entityType, entityId")
        _load(pg, tables, legacy, as_of, target, progress)
        diffs = scratch.create("diffs", DIFF_COLUMNS, "entityType, metricType, arel, entityId")
        run = Comparison(target, legacy, diffs, as_of)
        run.fill(compared, progress)
        results = run.results(compared, worst)
    progress.close()
    return CompareReport([results[m] for m in compared], as_of, skipped=skipped)


@dataclass
class LegacyLayout:
    """What one legacy table offers: the metrics to read from it, by column, and whether its
    rows say when they were computed."""

    table: LegacyTable
    metrics: dict[str, str]
    """metricType → column, for the selected metrics whose column exists."""
    dated: bool

    @classmethod
    def read(cls, pg: PostgresSource, metrics: list[str], as_of: AsOf,
             log: Callable[[str], None]) -> tuple[list[LegacyLayout], dict[str, str]]:
        """The tables to read, and the metrics skipped because their table or column is
        missing (a deployment that dropped them): one notice per missing table or column."""
        names = ", ".join(f"'{t.name}'" for t in LEGACY_TABLES)
        present: dict[str, set[str]] = {}
        for table, column in pg.fetch(
            "SELECT table_name, column_name FROM information_schema.columns "
            f"WHERE table_schema = ANY (current_schemas(false)) AND table_name IN ({names})"
        ).iter_rows():
            present.setdefault(table, set()).add(column)
        layouts, skipped = [], {}
        for t in LEGACY_TABLES:
            wanted = {m.split(".", 1)[1]: legacy_column(m)[1] for m in metrics  # type: ignore[index]
                      if m.split(".", 1)[0] == t.entity_type}
            if wanted:
                layout = cls._layout(t, wanted, present.get(t.name, set()), as_of, skipped, log)
                layouts += [layout] if layout else []
        return layouts, skipped

    @classmethod
    def _layout(cls, t: LegacyTable, wanted: dict[str, str], columns: set[str], as_of: AsOf,
                skipped: dict[str, str], log: Callable[[str], None]) -> LegacyLayout | None:
        names = [f"{t.entity_type}.{m}" for m in wanted]
        lacking = [c for c in (t.id_column, "timeframe") if c not in columns]
        if lacking:
            why = (f"legacy table {t.name} is missing" if not columns
                   else f"legacy table {t.name} has no column {lacking[0]}")
            log(f"note: {why}: {', '.join(names)} not compared")
            skipped.update(dict.fromkeys(names, why))
            return None
        for metric, column in list(wanted.items()):
            if column not in columns:
                why = f"legacy column {t.name}.{column} is missing"
                log(f"note: {why}: {t.entity_type}.{metric} not compared")
                skipped[f"{t.entity_type}.{metric}"] = why
                del wanted[metric]
        dated = "updatedAt" in columns
        if not dated and as_of.kind == "row":
            log(f"note: legacy table {t.name} has no updatedAt: its values are compared as of "
                "the cutoff")
        return cls(t, wanted, dated) if wanted else None

    def sql(self, as_of: AsOf, lo: int | None, hi: int | None) -> str:
        """Per AllTime row of ``[lo, hi)``: a marker row carrying its as-of moment, and one row
        per selected metric whose value is not 0."""
        t, key = self.table, f'm."{self.table.id_column}"'
        default = f"TIMESTAMP '{as_of.at.isoformat(sep=' ', timespec='milliseconds')}'"
        at = f'COALESCE(m."updatedAt", {default})' if as_of.kind == "row" and self.dated else default
        values = ", ".join([f"('{MARKER}', 0::bigint)",
                            *(f"('{m}', m.\"{c}\"::bigint)" for m, c in self.metrics.items())])
        bounds = [f"{key} >= {lo}"] * (lo is not None) + [f"{key} < {hi}"] * (hi is not None)
        return (f"SELECT '{t.entity_type}' AS \"entityType\", {key}::bigint AS \"entityId\", "
                f"v.metric AS \"metricType\", v.value AS value, {at} AS \"asOf\" "
                f'FROM "{t.name}" m CROSS JOIN LATERAL (VALUES {values}) AS v(metric, value) '
                f"WHERE m.timeframe = '{TIMEFRAME}' AND (v.metric = '{MARKER}' OR v.value <> 0)"
                + "".join(f" AND {b}" for b in bounds))

    def ranges(self, pg: PostgresSource) -> list[tuple[int | None, int | None]]:
        """Key ranges of about ``READ_ROWS`` AllTime rows, the first open below and the last
        open above (rows written while compare reads are in exactly one range)."""
        key = f'"{self.table.id_column}"'
        lo, hi, n = pg.fetch(f'SELECT min({key}), max({key}), count(*) FROM "{self.table.name}" '
                             f"WHERE timeframe = '{TIMEFRAME}'").row(0)
        if not n:
            return [(None, None)]
        cuts: list[tuple[int | None, int | None]] = list(cut(int(lo), int(hi), int(n), READ_ROWS))
        cuts[0], cuts[-1] = (None, cuts[0][1]), (cuts[-1][0], None)
        if len(cuts) == 1:
            cuts = [(None, None)]
        return cuts


def _load(pg: PostgresSource, layouts: list[LegacyLayout], dest: str, as_of: AsOf,
          target: Target, progress: Steps) -> None:
    """Stream every selected legacy value (and each row's as-of) into ``dest``."""
    work = [(layout, r) for layout in layouts for r in layout.ranges(pg)]
    progress.phase("compare: legacy rows", len(work), "reads")
    for layout, (lo, hi) in work:
        progress.label(layout.table.name)
        stream_into(target.ch, pg, layout.sql(as_of, lo, hi), dest, _LEGACY_SCHEMA, progress.rows)
        progress.step()


@dataclass
class Comparison:
    """The legacy scratch table against the target's events, inside the target ClickHouse."""

    target: Target
    legacy: str
    diffs: str
    as_of: AsOf

    def query(self, sql: str) -> list[tuple]:
        return self.target.ch.query_rows(sql, settings=self.target.ch.supported(VERIFY_SETTINGS))

    def _events(self, entity_type: str, names: list[str], where: str = "true") -> str:
        """The target's events of ``names`` as ``mt, eid, value, createdAt`` (new names: an
        alias equal to a column name would change what ``where`` means)."""
        return (f"SELECT toString(metricType) AS mt, toInt64(entityId) AS eid, "
                f"toInt64(metricValue) AS value, createdAt FROM {self.target.quoted} "
                f"WHERE entityType = {string_literal(entity_type)} "
                f"AND {self.target.metric_condition(names)} AND {where}")

    def _values(self, entity_type: str, names: list[str], where: str = "true") -> str:
        types = ", ".join(string_literal(n.split(".", 1)[1]) for n in names)
        return (f"SELECT metricType, entityId, value FROM {self.legacy} "
                f"WHERE entityType = {string_literal(entity_type)} AND metricType IN ({types}) "
                f"AND {where}")

    def fill(self, metrics: list[str], progress: Steps) -> None:
        """One row per (metric, entity) with either side non-zero into the diffs table."""
        by_type: dict[str, list[str]] = {}
        for name in metrics:
            by_type.setdefault(name.split(".", 1)[0], []).append(name)
        chunks = []
        for et, names in by_type.items():
            rows = (f"SELECT entityId FROM ({self._values(et, names)}) UNION ALL "
                    f"SELECT eid FROM ({self._events(et, names)})")
            chunks += [(et, names, r) for r in id_ranges(self.query, rows, CHUNK_ROWS)]
        progress.phase("compare: entities", len(chunks), "chunks")
        for et, names, (lo, hi) in chunks:
            progress.label(et)
            self.fill_chunk(et, names, f"entityId >= {lo} AND entityId < {hi}")
            progress.step()

    def fill_chunk(self, entity_type: str, names: list[str], where: str) -> None:
        default = ch_time_literal(self.as_of.at)
        as_of = (f"SELECT entityId, any(asOf) AS asOf, toUInt8(1) AS known FROM {self.legacy} "
                 f"WHERE entityType = {string_literal(entity_type)} "
                 f"AND metricType = {string_literal(MARKER)} AND {where} GROUP BY entityId")
        self.target.ch.command(
            f"INSERT INTO {self.diffs} SELECT {string_literal(entity_type)}, metricType, entityId, "
            f"legacy, events, if(legacy = 0, inf, abs(events - legacy) / abs(legacy)) FROM ("
            f"SELECT metricType, entityId, sum(l) AS legacy, sum(e) AS events FROM ("
            f"SELECT metricType, entityId, value AS l, toInt64(0) AS e "
            f"FROM ({self._values(entity_type, names, where)}) UNION ALL "
            f"SELECT ev.mt, ev.eid, toInt64(0), ev.value "
            f"FROM ({self._events(entity_type, names, where)}) AS ev "
            f"LEFT JOIN ({as_of}) AS r ON r.entityId = ev.eid "
            f"WHERE ev.createdAt < if(r.known = 1, r.asOf, {default})"
            f") GROUP BY metricType, entityId) WHERE legacy != 0 OR events != 0",
            # the joined side is one range's legacy rows (fewer than CHUNK_ROWS): a plain hash
            # join is bounded, and faster than the grace hash join verify needs for its lookup
            settings=self.target.ch.supported({**VERIFY_SETTINGS, "join_algorithm": "hash"}))

    def results(self, metrics: list[str], worst: int) -> dict[str, MetricDrift]:
        out = {}
        for m in metrics:
            table, column = legacy_column(m)  # type: ignore[misc]
            out[m] = MetricDrift(*m.split(".", 1), table.name, column)
        bins = ", ".join(f"countIf({b})" for b in _BIN_SQL)
        rows = self.query(
            f"SELECT entityType, metricType, count(), countIf(legacy = events), "
            f"countIf(abs(events - legacy) <= greatest(1, abs(legacy) / 100)), "
            f"countIf(legacy = 0), countIf(events = 0), sum(legacy), sum(events), "
            f"groupArraySortedIf({worst})((-abs(events - legacy), entityId, legacy, events), "
            f"legacy != events), [{bins}] "
            f"FROM (SELECT *, if(legacy = 0, nan, (events - legacy) / abs(legacy)) AS rel "
            f"FROM {self.diffs}) GROUP BY entityType, metricType")
        for et, mt, n, eq, within, only_ev, only_lg, lg, ev, bad, hist in rows:
            r = out[f"{et}.{mt}"]
            r.entities, r.equal, r.within = int(n), int(eq), int(within)
            r.only_in_events, r.only_in_legacy = int(only_ev), int(only_lg)
            r.legacy_total, r.events_total = int(lg), int(ev)
            r.worst = [{"entityId": int(i), "legacy": int(a), "events": int(b)} for _, i, a, b in bad]
            r.histogram = [int(h) for h in hist]
        self.quantiles([out[m] for m in metrics])
        return out

    def quantiles(self, results: list[MetricDrift]) -> None:
        """The median and 99th percentile (nearest rank) of the relative difference over the
        entities with a legacy value, for every metric in one query: each reads its metric's
        rows in the table's order (``arel`` is in the sort key), so nothing is sorted in memory."""
        picks = {}
        for r in results:
            n = r.entities - r.only_in_events
            if n > 0:
                picks[r.name] = ((n - 1) // 2, math.ceil(0.99 * n) - 1)
        if not picks:
            return
        parts = [f"(SELECT {string_literal(name)} AS m, {k} AS k, arel FROM {self.diffs} "
                 f"WHERE entityType = {string_literal(name.split('.', 1)[0])} "
                 f"AND metricType = {string_literal(name.split('.', 1)[1])} "
                 f"ORDER BY arel LIMIT 1 OFFSET {k})"
                 for name, ks in picks.items() for k in set(ks)]
        found = {(m, int(k)): float(v) for m, k, v in self.query(" UNION ALL ".join(parts))}
        for r in results:
            if r.name in picks:
                median, p99 = picks[r.name]
                r.median, r.p99 = found[(r.name, median)], found[(r.name, p99)]
