"""The run: preflight, plan, then read → explode → sinks → ledger for every pending batch.

Batches run with at most ``concurrency`` in flight, in one loop: on a thread pool (ConnectorX,
Polars and the ClickHouse driver release the GIL, so threads overlap reads, transforms and
inserts) or, with ``--executor dask://…``, partly on a Dask cluster (``cluster.py``). The seam
is which ``concurrent.futures.Executor`` a batch is submitted to; one ``wait`` covers both. The
ledger is written by the coordinating thread only after a batch's sinks returned.
"""

from __future__ import annotations

import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from itertools import zip_longest
from pathlib import Path
from typing import TYPE_CHECKING, cast

from . import registry
from .audit import check_audit_dir, claim_audit_dir
from .batchrun import LOCAL, BatchResult, Events, batch_token, read_and_explode, write_events
from .clickhouse import ClickHouse
from .defaults import DEFAULT_CUTOFF, default_params
from .dsn import without_password
from .errors import RunFailed, UserError, redact
from .events import BatchValueError, Window
from .ledger import Ledger
from .package import Context, Package
from .plan import Batch, PackagePlan, Plan, fingerprint, new_plan_id, plan_package
from .preflight import check_connections, check_sources, legacy_image_events
from .progress import Progress, progress_for
from .pushdown import Pushdown
from .retry import RetryingSource, RetryPolicy
from .sinks import ClickHouseSink, ParquetSink, Sink
from .sources import (
    ClickHouseSource,
    PostgresSource,
    Source,
    load_lookups,
    source_for,
)
from .statelock import state_lock
from .target import INSERT_LAYOUT, Target
from .targetcheck import TableInfo, check_target, dedup_window

if TYPE_CHECKING:
    from .cluster import BatchTask, Cluster


@dataclass
class RunOptions:
    target: str
    pg: str | None = None
    """The Postgres source: planning, lookups, and the first replica batches read from."""
    pg_replicas: list[str] = field(default_factory=list)
    """Further Postgres replicas with the same data: batch ``index % n`` of each package reads
    from ``[pg, *pg_replicas][index % n]``. Not part of the plan: a resume may name others."""
    ch: str | None = None
    table: str = "entityMetricEvents"
    window: Window = field(default_factory=lambda: Window(cutoff=DEFAULT_CUTOFF))
    packages: list[str] | None = None
    exclude_metrics: list[str] = field(default_factory=list)
    params: dict[str, object] = field(default_factory=default_params)
    batch_size: int | None = None
    concurrency: int = 2
    state: Path = Path(".metric-backfill")
    resume: bool = False
    dry_run: bool = False
    limit_batches: int | None = None
    start_from: int = 0
    parquet_dir: Path | None = None
    no_insert: bool = False
    allow_existing: bool = False
    no_dedup_check: bool = False
    retries: int = 5
    retry_wait: float = 1.0
    progress: bool = True
    progress_interval: float = 30.0
    """Seconds between progress lines when stderr is not a terminal."""
    pushdown: bool | None = None
    """Run ClickHouse packages server-side when their source is the target (None: when possible)."""
    executor: str = "threads"
    """``threads``, or ``dask://HOST:PORT``: where batches run. Not part of the plan."""
    ship_credentials: bool = True
    """With Dask: send the DSNs to the workers once, in a worker plugin (never as task
    arguments); False: each worker takes them from its own METRIC_BACKFILL_* environment."""

    @property
    def pg_all(self) -> list[str]:
        return [self.pg, *self.pg_replicas] if self.pg else []

    def fingerprint_options(self, packages: list[Package]) -> dict:
        """Every option that changes what lands in the target."""
        return {
            "target": without_password(self.target),
            "table": self.table,
            "cutoff": self.window.cutoff.isoformat(timespec="milliseconds"),
            "since": self.window.since.isoformat(timespec="milliseconds") if self.window.since else None,
            "packages": [p.name for p in packages],
            "exclude_metrics": sorted(self.exclude_metrics),
            "params": {k: self.params[k] for k in sorted(self.params)},
            "batch_size": self.batch_size,
            "pushdown": sorted(p.name for p in packages if self.pushes_down(p)),
            "definitions": {p.name: p.definition for p in packages},
            "insert_layout": INSERT_LAYOUT,
        }

    def pushes_down(self, pkg: Package) -> bool:
        """Server-side INSERT … SELECT for this package? Needs the same ClickHouse as source and
        target, a write to it, and no Parquet audit (which needs the events in hand)."""
        possible = (
            pkg.pushdown is not None
            and (self.ch or self.target) == self.target
            and not (self.dry_run or self.no_insert or self.parquet_dir)
        )
        return possible if self.pushdown is None else (possible and self.pushdown)


@dataclass
class PackageStats:
    """Per package: counts, skip reasons, and where the batches spent their time.

    ``seconds`` is busy time (the sum of its batches' durations): with packages running side
    by side, that is the figure that says what a package costs.
    """

    rows: int = 0
    events: int = 0
    batches: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    read_s: float = 0.0
    transform_s: float = 0.0
    write_s: float = 0.0

    @property
    def seconds(self) -> float:
        return self.read_s + self.transform_s + self.write_s

    def add(self, r: BatchResult) -> None:
        self.rows += r.rows
        self.events += r.events
        self.batches += 1
        self.read_s += r.read_s
        self.transform_s += r.transform_s
        self.write_s += r.write_s
        for k, v in r.skipped.items():
            self.skipped[k] = self.skipped.get(k, 0) + v


@dataclass(frozen=True)
class PlanTotals:
    rows: int
    events: int
    batches_done: int
    batches: int

    @classmethod
    def of(cls, batches: list[Batch], ledger: Ledger) -> PlanTotals:
        done = [ledger.done[b.id] for b in batches if b.id in ledger.done]
        return cls(sum(int(e.get("rows", 0)) for e in done), sum(int(e.get("events", 0)) for e in done),
                   len(done), len(batches))


@dataclass
class RunReport:
    plan_id: str
    stats: dict[str, PackageStats]
    batches_done: int
    batches_total: int
    already_complete: bool = False
    notices: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    plan_totals: dict[str, PlanTotals] = field(default_factory=dict)
    """Per package, everything the ledger holds for this plan (every invocation so far)."""
    error: str | None = None
    """Why the run stopped early (one line, redacted); None when it finished."""
    placements: dict[str, dict[str, str | None]] = field(default_factory=dict)
    """Per batch of this invocation: the worker that read it and the Postgres replica
    (redacted; None for other sources)."""

    @property
    def workers(self) -> dict[str, int]:
        """Batches per worker (``local``: the coordinator's threads)."""
        counts: dict[str, int] = {}
        for p in self.placements.values():
            worker = p["worker"] or LOCAL
            counts[worker] = counts.get(worker, 0) + 1
        return dict(sorted(counts.items()))

    @property
    def complete(self) -> bool:
        return self.batches_done == self.batches_total

    def to_json(self) -> dict:
        doc = {
            "plan_id": self.plan_id,
            "complete": self.complete,
            "batches_done": self.batches_done,
            "batches_total": self.batches_total,
            "wall_seconds": round(self.wall_s, 3),
            "rows": sum(s.rows for s in self.stats.values()),
            "events": sum(s.events for s in self.stats.values()),
            "packages": {
                name: {
                    "rows": s.rows,
                    "events": s.events,
                    "batches": s.batches,
                    "skipped": dict(sorted(s.skipped.items())),
                    "seconds": round(s.seconds, 3),
                    "read_seconds": round(s.read_s, 3),
                    "transform_seconds": round(s.transform_s, 3),
                    "write_seconds": round(s.write_s, 3),
                    "events_per_s": round(s.events / s.seconds) if s.seconds else None,
                }
                for name, s in self.stats.items()
            },
            "plan": {
                "rows": sum(t.rows for t in self.plan_totals.values()),
                "events": sum(t.events for t in self.plan_totals.values()),
                "batches_done": sum(t.batches_done for t in self.plan_totals.values()),
                "packages": {name: asdict(t) for name, t in self.plan_totals.items()},
            },
            "batches": self.placements,
        }
        return doc if self.error is None else {**doc, "error": self.error}


@dataclass
class Runner:
    opts: RunOptions
    log: Callable[[str], None] = field(default=lambda msg: print(msg, file=sys.stderr))

    def __post_init__(self) -> None:
        o = self.opts
        self.packages = registry.select(o.packages)
        self._validate()
        self.pgs = [PostgresSource(dsn) for dsn in o.pg_all]
        self.pg = self.pgs[0] if self.pgs else None
        needs_ch = any(p.source == "clickhouse" for p in self.packages)
        self.ch = ClickHouseSource(ClickHouse(o.ch or o.target)) if needs_ch else None
        self.writes = not (o.dry_run or o.no_insert)
        self.target = Target(ClickHouse(o.target), o.table) if self.writes else None
        # through self.log as it is when a retry happens: callers may replace it after construction
        self.policy = RetryPolicy(o.retries, o.retry_wait, log=lambda msg: self.log(msg))
        self.stop = threading.Event()
        self.pushdown: Pushdown | None = None
        self.table_info: TableInfo | None = None
        self.report: RunReport | None = None
        """The latest report, also after a failed or interrupted run (for ``run --json``)."""
        self.cluster: Cluster | None = None
        """The Dask cluster batches run on (``--executor dask://…``), connected by ``run``."""

    def _validate(self) -> None:
        o = self.opts
        if o.batch_size is not None and o.batch_size <= 0:
            raise UserError(f"--batch-size must be > 0 (got {o.batch_size})")
        if o.concurrency <= 0:
            raise UserError(f"--concurrency must be > 0 (got {o.concurrency})")
        if o.retries < 0:
            raise UserError(f"--retries must be >= 0 (got {o.retries})")
        if o.limit_batches is not None and o.limit_batches <= 0:
            raise UserError(f"--limit-batches must be > 0 (got {o.limit_batches})")
        if o.start_from < 0:
            raise UserError(f"--start-from must be >= 0 (got {o.start_from})")
        if o.window.since is not None and o.window.since >= o.window.cutoff:
            raise UserError("--since must be earlier than --cutoff")
        if o.parquet_dir is not None and o.parquet_dir.exists() and not o.parquet_dir.is_dir():
            raise UserError(f"--parquet-dir {o.parquet_dir} is a file, not a directory")
        if o.no_insert and not o.parquet_dir:
            raise UserError("--no-insert needs --parquet-dir (otherwise nothing is written)")
        known = set(registry.all_metrics())
        unknown = [m for m in o.exclude_metrics if m not in known]
        if unknown:
            raise UserError(f"--exclude-metrics: unknown metric {', '.join(unknown)} (see 'list')")
        if any(p.source == "postgres" for p in self.packages) and not o.pg:
            raise UserError("--pg is required (the Postgres source DSN)")
        scheduler_address(o.executor)

    def source(self, pkg: Package, batch: Batch | None = None) -> Source:
        """The package's source; for a batch, its Postgres replica (``replica``)."""
        return source_for(pkg, self.replica(batch) if batch is not None else self.pg, self.ch)

    def replica(self, batch: Batch) -> PostgresSource | None:
        """The replica a batch reads: chosen by its index, so every run spreads a plan alike."""
        return self.pgs[batch.index % len(self.pgs)] if self.pgs else None

    # ------------------------------------------------------------------------------------
    def make_plan(self) -> Plan:
        o = self.opts
        opts = o.fingerprint_options(self.packages)

        def probe(pkg: Package) -> PackagePlan:
            size = o.batch_size or pkg.default_batch_size
            return plan_package(pkg, RetryingSource(self.source(pkg), self.policy), o.window, size)

        with ThreadPoolExecutor(max_workers=o.concurrency, thread_name_prefix="plan") as pool:
            plans = {p.name: pp for p, pp in zip(self.packages, pool.map(probe, self.packages), strict=True)}
        return Plan(new_plan_id(), fingerprint(opts), opts, plans,
                    time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))

    def check_connections(self, target: bool = True, embedded: bool | None = None) -> None:
        """The sources, and the target unless told otherwise, answer and accept the credentials;
        ``embedded`` True/False restricts it to chdb paths / to servers (and Postgres)."""
        chs = {"--ch" if self.opts.ch else "--target": self.ch.ch} if self.ch else {}
        if target and self.target is not None:
            chs = {"--target": self.target.ch, **chs}
        if embedded is not None:
            chs = {flag: ch for flag, ch in chs.items() if ch.embedded == embedded}
        check_connections(None if embedded else self.pg, chs)
        for replica in [] if embedded else self.pgs[1:]:
            replica.ping()

    # ------------------------------------------------------------------------------------
    def preflight(self) -> list[str]:
        """Everything that can be checked before the first write; returns notices."""
        o, notices = self.opts, []
        self.check_connections(embedded=True)
        for replica in self.pgs:
            check_sources([p for p in self.packages if p.source == "postgres"], replica)
        if self.ch:
            check_sources([p for p in self.packages if p.source == "clickhouse"], self.ch)
        if self.cluster is not None:
            self.cluster.ready()
        if self.target is not None and self.writes:
            if self.target.ensure():
                notices.append(f"created target table {o.table}")
            self.table_info, checked = check_target(self.target.ch, o.table, o.resume,
                                                    o.no_dedup_check, o.concurrency)
            notices += checked
            if not o.resume:
                legacy = legacy_image_events(self.target, o.window, self.emitted)
                if legacy:
                    notices.append(
                        "target already holds legacy-named Image events in the window: "
                        + ", ".join(f"{k}={v}" for k, v in legacy.items())
                    )
        return notices

    def _check_resume_window(self, plan: Plan, ledger: Ledger) -> None:
        """A resume later than the seconds window could re-insert forgotten tokens."""
        if self.target is None or self.opts.no_dedup_check or self.table_info is None:
            return
        window = dedup_window(self.table_info)
        last = ledger.last_write or plan.saved_at
        if window.expired(last, time.time()):
            raise UserError(
                f"--resume refused: the last batch was acknowledged {(time.time() - last) / 60:.0f} "
                f"min ago, past the target's deduplication window ({window.seconds} s, "
                "replicated_deduplication_window_seconds): batches in flight at the interruption "
                "could be inserted twice; check the target for them, then pass --no-dedup-check"
            )

    @property
    def emitted(self) -> list[str]:
        return [m for p in self.packages for m in p.metric_names if m not in self.opts.exclude_metrics]

    def guard_existing(self) -> None:
        metrics = self.emitted
        existing = self.target.count_existing(metrics, self.opts.window) if self.target else {}
        existing = {k: v for k, v in existing.items() if v}
        if existing and not self.opts.allow_existing:
            total = sum(existing.values())
            worst = ", ".join(f"{k}={v}" for k, v in sorted(existing.items(), key=lambda kv: -kv[1])[:5])
            raise UserError(
                f"target {self.opts.table} already holds {total} events of these metrics in the "
                f"window ({worst}{', …' if len(existing) > 5 else ''}); continue an interrupted run "
                "with --resume, skip metrics with --exclude-metrics, or add on top with --allow-existing"
            )

    # ------------------------------------------------------------------------------------
    def run(self) -> RunReport:
        """Preflight, plan (or reuse the saved plan), execute. SIGINT/SIGTERM at any point stop
        it cleanly: before the first batch nothing is written; later, in-flight batches finish."""
        old_handlers = _install_stop_handlers(self.stop, self.log)
        try:
            # servers first, before the lock: a bad DSN or password leaves no trace; a chdb path
            # is created by opening it, so it is opened under the lock
            self.check_connections(embedded=False)
            self.cluster = connect_cluster(self.opts.executor, self.log)
            if self.cluster is not None:  # the workers check their side beside our preflight
                self.cluster.prepare(self._worker_dsns(), self.opts.ship_credentials)
            with state_lock(self.opts.state):
                return self._run()
        finally:
            if self.cluster is not None:
                self.cluster.close()
            _restore_handlers(old_handlers)

    def _run(self) -> RunReport:
        o = self.opts
        notices = self.preflight()
        for n in notices:
            self.log(f"note: {n}")
        wanted = fingerprint(o.fingerprint_options(self.packages))
        plan = Plan.load(o.state)
        if o.resume and plan is None:
            self.log(f"note: no saved plan in {o.state}: starting a new one")
        if plan is not None and plan.recovered:
            self.log(f"note: {o.state / 'plan.json'} was unreadable: recovered it from its copy")
        if o.resume and plan is not None:
            if plan.fingerprint != wanted:
                raise UserError(self._resume_mismatch(plan))
        else:
            if plan is not None and plan.fingerprint == wanted:
                ledger = Ledger.open(o.state, plan.plan_id)
                if all(b.id in ledger.done for b in plan.all_batches()):
                    self.log(f"plan {plan.plan_id} is already complete: nothing to do")
                    self.report = self._report(plan, ledger, {}, already_complete=True, notices=notices)
                    return self.report
            if self.writes:
                self.guard_existing()
            check_audit_dir(o.parquet_dir)
            plan = self.make_plan()
            plan.save(o.state)
        claim_audit_dir(o.parquet_dir, plan)
        ledger = Ledger.open(o.state, plan.plan_id)
        if o.resume:
            self._check_resume_window(plan, ledger)
        if ledger.torn_lines:
            self.log(f"note: ignored {ledger.torn_lines} torn ledger line(s) or line(s) that failed "
                     "their checksum (those batches run again under their tokens)")
        return self._execute(plan, ledger, notices)

    def _resume_mismatch(self, plan: Plan) -> str:
        options = self.opts.fingerprint_options(self.packages)
        changed = [k for k, v in options.items() if plan.options.get(k) != v]
        saved = plan.options.get("definitions") or {}
        upgraded = [n for n, d in options["definitions"].items() if n in saved and saved[n] != d]
        if upgraded or "insert_layout" in changed:
            what = ", ".join(upgraded) or "the insert-block layout"
            return (f"--resume refused: the definition of {what} changed since plan "
                    f"{plan.plan_id} was made (an upgrade?): its batches would be read or "
                    "inserted differently under the same tokens; finish it with the version "
                    "that made it, or start over with a new --state into a target without these events")
        return (f"--resume refused: options differ from the saved plan {plan.plan_id} "
                f"({', '.join(changed)}); rerun with the original options or use a new --state")

    def _sinks(self) -> list[Sink]:
        sinks: list[Sink] = []
        if self.opts.parquet_dir is not None:
            sinks.append(ParquetSink(self.opts.parquet_dir))
        if self.writes and self.target is not None:
            sinks.append(ClickHouseSink(self.target))
        return sinks

    def _pending(self, plan: Plan, ledger: Ledger) -> list[Batch]:
        """Unledgered batches, packages interleaved round-robin so they run side by side
        under the one in-flight bound; --start-from / --limit-batches cut this order."""
        per_package = [[b for b in p.batches if b.id not in ledger.done] for p in plan.packages.values()]
        pending = [b for group in zip_longest(*per_package) for b in group if b is not None]
        pending = pending[self.opts.start_from:]
        if self.opts.limit_batches is not None:
            pending = pending[: self.opts.limit_batches]
        return pending

    def _context(self) -> Context:
        pg = RetryingSource(self.pg, self.policy) if self.pg else None
        return Context(lookups=load_lookups(self.packages, pg), params=dict(self.opts.params))

    def process(self, batch: Batch, ctx: Context, plan: Plan, sinks: list[Sink]) -> BatchResult:
        """One batch end to end on this process's threads: read → explode → every sink, or one
        server-side INSERT … SELECT. Retries transient errors."""
        pkg = registry.all_packages()[batch.package]
        token = batch_token(plan.plan_id, batch)
        pushdown = self.pushdown
        if pushdown is not None and self.opts.pushes_down(pkg):
            rows, events, secs = self.policy.call(
                lambda: pushdown.run(pkg, batch, self.opts.window, token))
            return BatchResult(rows, events, {}, 0.0, 0.0, secs)
        events = read_and_explode(pkg, batch, self.source(pkg, batch), self.opts.window, ctx,
                                  frozenset(self.opts.exclude_metrics), self.policy)
        return write_events(events, batch.id, token, sinks, self.policy)

    # ------------------------------------------------------------------------------------
    def on_cluster(self, pkg: Package) -> bool:
        """Whether the package's batches run on the Dask workers. Pushed-down batches stay here
        (the target's server does the work; this process only asks), and so do reads from an
        embedded chdb (one process per path: this one)."""
        if self.cluster is None or self.opts.pushes_down(pkg):
            return False
        return pkg.source == "postgres" or (self.ch is not None and not self.ch.ch.embedded)

    def _worker_target(self) -> str | None:
        """The target workers insert into themselves: a server, unless Parquet audit files are
        written too (one manifest writer: this process). A chdb target is this process's."""
        if self.target is None or self.target.ch.embedded or self.opts.parquet_dir is not None:
            return None
        return self.opts.target

    def _worker_dsns(self) -> list[str]:
        """The DSNs the workers use: shipped to them once, or checked in their environment."""
        pkgs = [p for p in self.packages if self.on_cluster(p)]
        dsns = self.opts.pg_all if any(p.source == "postgres" for p in pkgs) else []
        if self.ch is not None and any(p.source == "clickhouse" for p in pkgs):
            dsns = [*dsns, self.ch.ch.dsn]
        target = self._worker_target()
        return list(dict.fromkeys([*dsns, target] if target else dsns))

    def _task(self, run: str, pkg: Package, batch: Batch, plan: Plan, deliver: bool) -> BatchTask:
        from .cluster import BatchTask

        o, src = self.opts, self.source(pkg, batch)
        dsn = src.dsn if isinstance(src, PostgresSource) else cast(ClickHouseSource, src).ch.dsn
        target = self._worker_target()
        return BatchTask(
            run=run, package=pkg.name, batch=batch, window=o.window, exclude=frozenset(o.exclude_metrics),
            token=batch_token(plan.plan_id, batch), source=without_password(dsn),
            target=without_password(target) if target else None, table=o.table,
            deliver=deliver and target is None, retries=o.retries, retry_wait=o.retry_wait,
        )

    def _submit(self, pool: ThreadPoolExecutor, batch: Batch, ctx: Context, plan: Plan,
                sinks: list[Sink]) -> Future:
        """The seam: a batch runs on this process's threads or as a task on the cluster."""
        pkg = registry.all_packages()[batch.package]
        if self.cluster is not None and self.on_cluster(pkg):
            return self.cluster.submit(self._task(self.cluster.run, pkg, batch, plan, deliver=bool(sinks)))
        return pool.submit(self.process, batch, ctx, plan, sinks)

    def _start(self, ctx: Context) -> None:
        """Before the first batch: the pushdown's lookup tables, the workers' lookups."""
        if self.target is not None and self.ch is not None and any(
                self.opts.pushes_down(p) for p in self.packages):
            self.pushdown = Pushdown(self.target, self.ch, self.opts.params)
            pushdown = self.pushdown
            self.policy.call(lambda: pushdown.load_lookups(ctx.lookups))
        if self.cluster is not None and any(self.on_cluster(p) for p in self.packages):
            self.cluster.start(ctx)

    def _execute(self, plan: Plan, ledger: Ledger, notices: list[str]) -> RunReport:
        o = self.opts
        pending = self._pending(plan, ledger)
        if not pending:
            self.log(f"plan {plan.plan_id}: no pending batches")
        stats = {name: PackageStats() for name in plan.packages}
        placements: dict[str, dict[str, str | None]] = {}
        ctx = self._context() if pending else Context()
        if pending:
            self._start(ctx)
        started = time.monotonic()
        progress = progress_for(plan, ledger, pending, o.progress, o.progress_interval, self.log)

        def record(b: Batch, result: BatchResult) -> None:
            ledger.record(b.id, rows=result.rows, events=result.events)
            stats[b.package].add(result)
            replica = self.replica(b) if registry.all_packages()[b.package].source == "postgres" else None
            placements[b.id] = {"worker": result.worker,
                                "pg": without_password(replica.dsn) if replica else None}
            progress.advance(b.package, result.rows, result.events)

        try:
            failure = self._loop(pending, ctx, plan, record, progress)
        finally:
            progress.close()
        self.report = self._report(plan, ledger, stats, notices=notices)
        self.report.wall_s = time.monotonic() - started
        self.report.placements = placements
        done = f"{self.report.batches_done}/{self.report.batches_total} batches done and ledgered"
        lost = self.cluster.lost() if self.cluster is not None else None
        if failure is not None and lost:
            from .cluster import RESUME_AFTER_LOSS

            raise RunFailed(f"{lost}: {done}; {RESUME_AFTER_LOSS}")
        if failure is not None:
            raise _stopped_by(failure)
        if self.stop.is_set():
            raise RunFailed(f"interrupted: {done}; continue with --resume")
        return self.report

    def _loop(self, pending: list[Batch], ctx: Context, plan: Plan,
              record: Callable[[Batch, BatchResult], None], progress: Progress) -> BaseException | None:
        """The one bounded in-flight loop; returns the first failure. Events a worker returns
        for this process to write go to the threads, the batch still in flight; ``record``
        (the ledger) runs only once every sink acknowledged. After a failure or a stop no batch
        starts, and those in flight are drained; a lost scheduler's are given up."""
        o = self.opts
        sinks = self._sinks()
        failure: BaseException | None = None
        with _batch_threads(o.concurrency) as pool:
            inflight: dict[Future, Batch] = {}
            queue = list(reversed(pending))
            while queue or inflight:
                while queue and len(inflight) < o.concurrency and not self.stop.is_set() and failure is None:
                    b = queue.pop()
                    inflight[self._submit(pool, b, ctx, plan, sinks)] = b
                if not inflight:
                    break
                done, _ = wait(inflight, timeout=self._wait_s(progress), return_when=FIRST_COMPLETED)
                progress.tick()
                for fut in done:
                    b = inflight.pop(fut)
                    try:
                        result = fut.result()
                    except BaseException as e:  # keep draining in-flight batches
                        failure = failure or e
                        continue
                    if isinstance(result, Events):  # read on a worker, written here
                        token = batch_token(plan.plan_id, b)
                        inflight[pool.submit(write_events, result, b.id, token, sinks, self.policy)] = b
                    else:
                        record(b, result)
                lost = self.cluster.give_up_if_lost(inflight) if self.cluster is not None else None
                if lost is not None:
                    failure = failure or RunFailed(lost)
        return failure

    def _wait_s(self, progress: Progress) -> float | None:
        """How long the loop waits for a batch before it looks again: till the next progress
        line, and with a cluster at most ``LOSS_CHECK`` (a lost scheduler is noticed then)."""
        if self.cluster is None:
            return progress.interval
        from .cluster import LOSS_CHECK

        return min(progress.interval or LOSS_CHECK, LOSS_CHECK)

    def _report(self, plan: Plan, ledger: Ledger, stats: dict, already_complete: bool = False,
                notices: list[str] | None = None) -> RunReport:
        total = len(plan.all_batches())
        done = sum(1 for b in plan.all_batches() if b.id in ledger.done)
        whole = {name: PlanTotals.of(p.batches, ledger) for name, p in plan.packages.items()}
        return RunReport(plan.plan_id, stats, done, total, already_complete, notices or [],
                         plan_totals=whole)


def scheduler_address(executor: str) -> str | None:
    """``threads`` → None; ``dask://HOST:PORT`` → the Dask scheduler's ``tcp://HOST:PORT``."""
    text = executor.strip()
    if text == "threads":
        return None
    m = re.fullmatch(r"dask://(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(?P<port>\d{1,5})/?", text)
    if m is None or not 0 < int(m["port"]) < 65536:
        raise UserError(f"--executor: expected threads or dask://HOST:PORT (a Dask scheduler), "
                        f"got {executor!r}")
    return f"tcp://{m['host']}:{m['port']}"


def connect_cluster(executor: str, log: Callable[[str], None]) -> Cluster | None:
    """The Dask cluster of ``--executor``, connected (None for threads). Dask is an optional
    extra: the product imports it only here, when asked."""
    address = scheduler_address(executor)
    if address is None:
        return None
    try:
        from .cluster import Cluster
    except ModuleNotFoundError as e:
        if (e.name or "").split(".")[0] not in ("distributed", "dask"):
            raise
        raise UserError("--executor dask://… needs Dask: pip install 'metric-backfill[dask]'") from None
    return Cluster.connect(address, log)


def _stopped_by(failure: BaseException) -> BaseException:
    """The error a failed batch ends the run with: exit 2 for bad data, else resumable."""
    if isinstance(failure, BatchValueError):
        return UserError(str(failure))
    if isinstance(failure, (UserError, RunFailed)):
        return failure
    return RunFailed(redact(str(failure)) or type(failure).__name__)


@contextmanager
def _batch_threads(n: int) -> Iterator[ThreadPoolExecutor]:
    """The loop's threads. An abort (a second interrupt: KeyboardInterrupt) does not wait for
    the batches in them, as a drain does: the command line then exits at once (``cli``), as a
    kill would, and a resume redoes what was not ledgered."""
    pool, aborted = ThreadPoolExecutor(max_workers=n, thread_name_prefix="batch"), False
    try:
        yield pool
    except KeyboardInterrupt:
        aborted = True
        raise
    finally:
        pool.shutdown(wait=not aborted, cancel_futures=aborted)


def _install_stop_handlers(stop: threading.Event, log: Callable[[str], None]) -> dict:
    """First SIGINT/SIGTERM: finish in-flight batches, ledger them, stop. Second: exit now."""
    if threading.current_thread() is not threading.main_thread():
        return {}

    def handler(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        log("stopping: waiting for in-flight batches to be acknowledged (again to abort)")

    old = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        old[sig] = signal.signal(sig, handler)
    return old


def _restore_handlers(old: dict) -> None:
    for sig, h in old.items():
        signal.signal(sig, h)
