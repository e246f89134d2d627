"""verify: expected sums from independent SQL aggregates over the sources vs. the target.

Sums are compared per (entityType, entityId, metricType) and per (entityType, metricType,
month of the event time) inside ``[since, cutoff)``, so an event on the wrong entity, with the
wrong value or in the wrong month is a mismatch. A metric fed by several packages
(User.reactionCount) adds up the contributions of the packages selected.

Memory does not grow with the data: the expected sums are streamed into a scratch table of the
target ClickHouse (see ``expected``) and compared there with SQL, one entity type and entity-id
range at a time, with spilling settings; only counts, totals and the worst examples come back.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field

from .clickhouse import string_literal
from .events import Window
from .expected import VERIFY_SETTINGS, ExpectedLoader, families, in_metrics
from .idranges import id_ranges
from .package import Expected, Package
from .progress import Steps
from .sampling import Sampler
from .scratch import Scratch, signals_deferred, sweep_leftovers, terminate_as_interrupt
from .sources import PostgresSource, Source
from .target import Target

CHUNK_ROWS = 250_000
"""Expected rows plus target events compared per query: bounds ClickHouse's GROUP BY."""


@dataclass
class MetricKey:
    """One metric, ``entityType.metricType``: what verify and compare report on."""

    entity_type: str
    metric_type: str

    @property
    def name(self) -> str:
        return f"{self.entity_type}.{self.metric_type}"


@dataclass
class MetricResult(MetricKey):
    entities: int = 0
    mismatches: int = 0
    expected_total: int = 0
    actual_total: int = 0
    worst: list[dict] = field(default_factory=list)
    top: list[dict] = field(default_factory=list)
    month_mismatches: int = 0

    def to_json(self) -> dict:
        return {
            "entityType": self.entity_type,
            "metricType": self.metric_type,
            "entities": self.entities,
            "mismatches": self.mismatches,
            "month_mismatches": self.month_mismatches,
            "expected_total": self.expected_total,
            "actual_total": self.actual_total,
            "worst": self.worst,
            "top": self.top,
        }


@dataclass
class MonthSum:
    entity_type: str
    metric_type: str
    month: str
    """``YYYY-MM`` of the event time (UTC)."""
    expected: int
    actual: int

    def to_json(self) -> dict:
        return {"entityType": self.entity_type, "metricType": self.metric_type,
                "month": self.month, "expected": self.expected, "actual": self.actual}


@dataclass
class VerifyReport:
    metrics: list[MetricResult]
    months: list[MonthSum] = field(default_factory=list)
    sample: int | None = None
    """Entities per metric checked, when verify checked a sample."""

    @property
    def mismatches(self) -> int:
        return sum(m.mismatches + m.month_mismatches for m in self.metrics)

    @property
    def ok(self) -> bool:
        return self.mismatches == 0

    def to_json(self) -> dict:
        return {"ok": self.ok, "mismatches": self.mismatches, "sample": self.sample,
                "metrics": [m.to_json() for m in self.metrics],
                "months": [m.to_json() for m in self.months]}


def verify(packages: list[Package], sources: dict[str, Source], target: Target, window: Window,
           metrics: list[str], params: dict[str, object] | None = None,
           pg: PostgresSource | None = None, examples: int = 5, sample: int | None = None,
           progress: Steps | None = None, concurrency: int | None = None,
           log: Callable[[str], None] = lambda s: print(s, file=sys.stderr)) -> VerifyReport:
    progress = progress or Steps(enabled=False)
    sweep_leftovers(target.ch, target.database, log)
    with terminate_as_interrupt(), Scratch(target.ch, target.database) as scratch:
        sampler = Sampler.for_target(target, metrics, window, sample) if sample else None
        loader = ExpectedLoader(scratch, sources, pg, window, params or {},
                                sampler.condition if sampler else None)
        # chdb's memory is this process's: one stream at a time keeps it flat with the data
        concurrency = concurrency or (1 if target.ch.embedded else 2)
        _load_all(loader, families(packages, set(metrics)), set(metrics), progress, concurrency)
        comparison = Comparison(target, loader.table, window, metrics, loader.sample, examples)
        if sampler and sample:
            # the target alone may undercount a metric's entities (it may lack events): the
            # sample as loaded is narrowed to about N over both sides before comparing
            comparison.sample = sampler.narrowed(comparison.entity_counts(), sample).condition
        results = comparison.entities(progress)
        months = comparison.months()
    progress.close()
    for m in months:
        if m.expected != m.actual:
            results[f"{m.entity_type}.{m.metric_type}"].month_mismatches += 1
    return VerifyReport([results[name] for name in metrics], months, sample)


def _load_all(loader: ExpectedLoader, work: list[tuple[Package, Expected]], metrics: set[str],
              progress: Steps, concurrency: int) -> None:
    """The Expected queries, ``concurrency`` at a time: each is one source query the source
    aggregates alone (a CTE is never parallel in Postgres), so two keep two cores busy.

    Queries the target ClickHouse runs itself go first, one at a time: beside them (chdb
    serialises its calls) a streamed result would pile up in the reader's buffers."""
    progress.phase("verify: expected sums", len(work), "queries")
    streamed = []
    for pkg, exp in work:
        if not loader.server_side(pkg):
            streamed.append((pkg, exp))
            continue
        progress.label(pkg.name)
        loader.load(pkg, exp, metrics, progress.rows)
        progress.step()
    with ThreadPoolExecutor(max(1, concurrency)) as pool:
        futures = {pool.submit(loader.load, pkg, exp, metrics, progress.rows): pkg.name
                   for pkg, exp in streamed}
        try:
            for done in as_completed(futures):
                done.result()
                progress.label(futures[done])
                progress.step()
        except BaseException:
            loader.stop.set()  # the others stop at their next batch; then the scratch is dropped
            with signals_deferred():
                pool.shutdown(wait=True, cancel_futures=True)
            raise


@dataclass
class Comparison:
    """The expected scratch table against the target, in SQL inside the target ClickHouse."""

    target: Target
    expected: str
    window: Window
    metrics: list[str]
    sample: Callable[[str, str, str], str] | None
    examples: int

    def sides(self, names: list[str], where: str = "true") -> str:
        """Both sides as rows ``entityType, metricType, entityId, month, e, a``."""
        t = self.target
        if self.sample:
            where = f"{where} AND {self.sample('entityType', 'metricType', 'entityId')}"
        return (
            f"SELECT entityType, metricType, entityId, month, value AS e, toInt64(0) AS a "
            f"FROM {self.expected} WHERE {in_metrics(names, 'entityType', 'metricType')} AND {where} "
            f"UNION ALL "
            f"SELECT entityType, metricType, toInt64(entityId), toDate32(toStartOfMonth(createdAt, 'UTC')), "
            f"toInt64(0), toInt64(metricValue) FROM {t.quoted} WHERE {t.metric_condition(names)} "
            f"AND {t.window_condition(self.window)} AND {where}"
        )

    def query(self, sql: str) -> list[tuple]:
        return self.target.ch.query_rows(sql, settings=self.target.ch.supported(VERIFY_SETTINGS))

    def entities(self, progress: Steps) -> dict[str, MetricResult]:
        results = {n: MetricResult(*n.split(".", 1)) for n in self.metrics}
        by_type: dict[str, list[str]] = {}
        for name in self.metrics:
            by_type.setdefault(name.split(".", 1)[0], []).append(name)
        chunks = [(et, names, r) for et, names in by_type.items() for r in self.ranges(et, names)]
        progress.phase("verify: compare", len(chunks), "chunks")
        for et, names, (lo, hi) in chunks:
            progress.label(et)
            self.compare_chunk(et, names, lo, hi, results)
            progress.step()
        return results

    def ranges(self, entity_type: str, names: list[str]) -> list[tuple[int, int]]:
        """Entity-id ranges of about ``CHUNK_ROWS`` rows (both sides) covering the entity type."""
        rows = f"SELECT entityId FROM ({self.sides(names)}) WHERE entityType = {string_literal(entity_type)}"
        return id_ranges(self.query, rows, CHUNK_ROWS)

    def entity_counts(self) -> dict[str, int]:
        """Distinct entities per metric over both sides (estimated, ``uniq``)."""
        rows = self.query(f"SELECT entityType, metricType, uniq(entityId) FROM "
                          f"({self.sides(self.metrics)}) GROUP BY entityType, metricType")
        return {f"{et}.{mt}": int(n) for et, mt, n in rows}

    def compare_chunk(self, entity_type: str, names: list[str], lo: int, hi: int,
                      results: dict[str, MetricResult]) -> None:
        k = self.examples
        where = f"entityType = {string_literal(entity_type)} AND entityId >= {lo} AND entityId < {hi}"
        rows = self.query(
            f"SELECT metricType, count(), countIf(expected != actual), sum(expected), sum(actual), "
            f"groupArraySortedIf({k})((-abs(actual - expected), entityId, expected, actual), "
            f"expected != actual), groupArraySorted({k})((-actual, entityId)) "
            f"FROM (SELECT metricType, entityId, sum(e) AS expected, sum(a) AS actual "
            f"FROM ({self.sides(names, where)}) GROUP BY metricType, entityId) GROUP BY metricType"
        )
        for mt, n, bad, exp_total, act_total, worst, top in rows:
            r = results[f"{entity_type}.{mt}"]
            r.entities += int(n)
            r.mismatches += int(bad)
            r.expected_total += int(exp_total)
            r.actual_total += int(act_total)
            r.worst = sorted(r.worst + [{"entityId": int(i), "expected": int(e), "actual": int(a)}
                                        for _, i, e, a in worst],
                             key=lambda w: (-abs(w["actual"] - w["expected"]), w["entityId"]))[:k]
            r.top = sorted(r.top + [{"entityId": int(i), "value": -int(v)} for v, i in top],
                           key=lambda t: (-t["value"], t["entityId"]))[:k]

    def months(self) -> list[MonthSum]:
        """Sums per (entityType, metricType, month): a handful of rows per metric."""
        rows = self.query(
            f"SELECT entityType, metricType, formatDateTime(month, '%Y-%m'), sum(e), sum(a) "
            f"FROM ({self.sides(self.metrics)}) GROUP BY entityType, metricType, month "
            f"ORDER BY entityType, metricType, month"
        )
        return [MonthSum(et, mt, m, int(e), int(a)) for et, mt, m, e, a in rows]
