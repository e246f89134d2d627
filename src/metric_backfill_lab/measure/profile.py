"""Where one package's end-to-end time goes: stage timers, and a py-spy profile by phase.

The Runner runs on the package in a child (``bench.e2e``, fresh chdb target) once per
concurrency with stage timers (``bench.StageTimers``: wall seconds in read / explode / insert,
summed over batches), and once more at concurrency 1 under ``py-spy record --threads --idle
--native``. Each sampled stack is attributed to a phase by the functions on it (imports,
preflight, plan probes, read, transform, to-Arrow, insert, …) and, inside the phase, to what ran
at the leaf: Python code, the interpreter, ConnectorX, Polars, pyarrow, chdb, libpq, or waiting.

Invariant: a phase is recognised by the names of real functions, taken from the objects
themselves (``Runner.preflight.__qualname__``) for the project's code and resolved by import for
the libraries' (``Ref``), so a renamed function fails when the markers are built (and in the
tests) instead of silently moving its samples to "other".
"""

from __future__ import annotations

import collections
import importlib
import shutil
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from .. import bench, seeded
from .common import load, log
from .machine import machine_info
from .markdown import md_table


@dataclass(frozen=True)
class Ref:
    """A library function by module and qualified name; ``text`` is what a sampled frame shows
    (the function's name unless given)."""

    module: str
    qualname: str
    text: str | None = None

    def resolve(self) -> Any:
        obj: Any = importlib.import_module(self.module)
        for part in self.qualname.split("."):
            obj = getattr(obj, part)
        return obj

    def marker(self) -> str:
        self.resolve()
        return self.text or self.qualname.rsplit(".", 1)[-1]


LIBRARY = {
    "import": Ref("importlib._bootstrap", "_find_and_load"),
    "insert_arrow": Ref("clickhouse_connect.driver.client", "Client.insert_arrow"),
    "to_arrow": Ref("polars", "DataFrame.to_arrow"),
    "combine_chunks": Ref("pyarrow", "Table.combine_chunks"),
    "Table.cast": Ref("pyarrow", "Table.cast", "Table.cast"),
    "compute.cast": Ref("pyarrow.compute", "cast", "cast (pyarrow"),
    "read_sql": Ref("connectorx", "read_sql"),
    "Condition.wait": Ref("threading", "Condition.wait", "Condition.wait"),
    "SimpleQueue": Ref("queue", "SimpleQueue", "SimpleQueue"),
    "pool worker": Ref("concurrent.futures.thread", "_worker"),
}
"""Library functions the attribution looks for; each is resolved when the markers are built."""

LEAF_LIBS = [
    ("ConnectorX", ("connectorx",)),
    ("Polars", ("polars",)),
    ("pyarrow", ("libarrow", "pyarrow", "_compute", "lib.cpython")),
    ("chdb", ("chdb", "libchdb", "_chdb")),
    ("libpq / psycopg", ("libpq", "psycopg")),
    ("kernel / libc (I/O, waits)", ("libc.so", "libpthread", "ld-linux", "vdso")),
    ("Python interpreter", ("libpython", "python3")),
]
"""Shared objects by file name, for the native frame at the leaf of a stack."""


@dataclass(frozen=True)
class Markers:
    """What ``classify`` looks for: the first listed phase whose markers appear in a stack wins;
    inside ``batch`` (``Runner.process``) the batch stages, elsewhere the run's phases."""

    phases: list[tuple[str, tuple[str, ...]]]
    batch_stages: list[tuple[str, tuple[str, ...]]]
    batch: str
    execute: str
    wait: str
    pool_worker: str
    pool_idle: str


@cache
def markers() -> Markers:
    from metric_backfill import events, plan, sinks, sources, target
    from metric_backfill.engine import Runner

    lib = {k: r.marker() for k, r in LIBRARY.items()}
    q = _qualname
    return Markers(
        phases=[
            ("imports", (lib["import"],)),
            ("preflight", (q(Runner.preflight),)),
            ("guard (existing events)", (q(Runner.guard_existing),)),
            ("plan (key-range probes)", (q(Runner.make_plan), q(plan.plan_package))),
            ("lookups", (q(Runner._context), q(sources.load_lookups))),
        ],
        batch_stages=[
            ("insert", (q(target.Target.insert), lib["insert_arrow"], q(sinks.ClickHouseSink.write))),
            ("to-Arrow cast", (lib["to_arrow"], lib["combine_chunks"], lib["Table.cast"], lib["compute.cast"])),
            ("transform (explode)", (q(events.explode), q(events.normalize_times), q(events._check_int32))),
            ("read", (q(sources.PostgresSource.fetch), q(sources.ClickHouseSource.fetch), lib["read_sql"])),
        ],
        batch=q(Runner.process), execute=Runner._execute.__name__, wait=lib["Condition.wait"],
        pool_worker=lib["pool worker"], pool_idle=lib["SimpleQueue"],
    )


def _qualname(fn: Any) -> str:
    return fn.__qualname__


def _fallback_phase(joined: str, m: Markers) -> str:
    """The phase of a stack outside every marked phase."""
    if "gc_collect_main" in joined and ".py:" not in joined:  # CPython's collector, native only
        return "interpreter exit (garbage collection)"
    if m.execute in joined and ("wait (" in joined or m.wait in joined):
        return "main: waiting for batch threads"
    if m.execute in joined:
        return "main: scheduling, ledger, report"
    if m.pool_worker in joined and (m.pool_idle in joined or f"{m.pool_worker} (concurrent" in joined):
        return "pool thread idle"
    return "other (start-up, shutdown)"


def _leaf_kind(leaf: str) -> str:
    if ".py:" in leaf or leaf.endswith(".py)"):
        return "Python code"
    return next((name for name, marks in LEAF_LIBS if any(x in leaf for x in marks)), "other native")


def classify(frames: list[str]) -> tuple[str, str, str]:
    """(thread, phase, leaf) of one sampled stack (root first)."""
    m = markers()
    body = frames[1:]
    joined = ";".join(body)
    in_batch = m.batch in joined
    phase = next(((f"batch: {name}" if in_batch else name)
                  for name, marks in (m.batch_stages if in_batch else m.phases)
                  if any(x in joined for x in marks)), None)
    if phase is None:
        phase = "batch: other (sinks, ledger, retry wrappers)" if in_batch else _fallback_phase(joined, m)
    return frames[0], phase, _leaf_kind(body[-1] if body else "")


def aggregate(raw: Path, rate: int) -> dict[str, Any]:
    """py-spy's raw stacks (``stack count`` lines) → seconds per thread and phase, per phase and leaf."""
    per_thread_phase: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    per_phase_leaf: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for line in raw.read_text().splitlines():
        if not line.strip():
            continue
        stack, n = line.rsplit(" ", 1)
        thread, phase, leaf = classify(stack.split(";"))
        tname = "main thread" if "MainThread" in thread else "worker threads (batches, plan probes)"
        per_thread_phase[tname][phase] += int(n)
        per_phase_leaf[phase][leaf] += int(n)
    return {
        "rate": rate,
        "threads": {t: {p: n / rate for p, n in c.most_common()} for t, c in per_thread_phase.items()},
        "leaves": {p: {k: n / rate for k, n in c.most_common()} for p, c in per_phase_leaf.items()},
    }


@dataclass(frozen=True)
class ProfileJob:
    packages: list[str]
    scale: float | None
    dir: Path | None
    concurrency: list[int]
    batch_size: int | None
    rate: int = 100
    py_spy: bool = True
    raw: Path | None = None


def py_spy() -> str | None:
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    return spy if Path(spy).exists() else None


def profile(job: ProfileJob) -> dict[str, Any]:
    """The stage-timer runs and the py-spy run on a seeded environment; PROFILE.json's document."""
    out: dict[str, Any] = {"machine": machine_info(), "package": ",".join(job.packages),
                           "scale": job.scale, "load_avg_start": load(), "runs": {}}
    with seeded.environment(job.dir) as work:
        work.chmod(0o755)
        # a new directory gets scale 1 (a profile of 0.1 M rows is mostly start-up)
        scale = job.scale if job.scale is not None or seeded.recorded(work) else 1.0
        db = seeded.seed_apart(work, scale=scale)
        out["scale"] = db.scale
        for conc in job.concurrency:
            log(f"{out['package']}: stage timers at concurrency {conc}")
            out["runs"][str(conc)] = bench.e2e(db.pg, job.packages, work / "runs" / f"c{conc}",
                                               concurrency=conc, batch_size=job.batch_size,
                                               stage_timers=True)
        spy = py_spy() if job.py_spy else None
        if spy:
            out.update(_spied(job, db.pg, spy, work))
    out["load_avg_end"] = load()
    return out


def _spied(job: ProfileJob, dsn: str, spy: str, work: Path) -> dict[str, Any]:
    raw = work / "py-spy.txt"
    log(f"{','.join(job.packages)}: py-spy at concurrency 1")
    prefix = [spy, "record", "-r", str(job.rate), "--threads", "--idle", "--native",
              "-f", "raw", "-o", str(raw), "--"]
    run = bench.e2e(dsn, job.packages, work / "runs" / "spy", concurrency=1,
                    batch_size=job.batch_size, prefix=prefix)
    if job.raw:
        shutil.copy(raw, job.raw)
    return {"py_spy_run": run, "py_spy": aggregate(raw, job.rate)}


def render(out: dict[str, Any]) -> str:
    """PROFILE.md from PROFILE.json's document."""
    m = out["machine"]
    lines = [f"# Profile: {out['package']} end to end, scale {out['scale']}", "",
             f"{m['cpu']}, {m['cores']} cores; load average at start {out['load_avg_start']}, "
             f"at end {out['load_avg_end']} (other jobs share the machine).", "",
             "## Stage timers (wall seconds, summed over batches)", ""]
    lines.append(md_table(["concurrency", "rows", "events", "process start + exit s", "run() wall s",
                           "preflight s", "plan s", "lookups s", "batch phase wall s", "read s",
                           "transform s", "of which explode s", "write s", "other in batch s",
                           "events/s", "client CPU s", "peak RSS MB"],
                          [_timer_row(conc, r) for conc, r in out["runs"].items()]))
    lines += ["", "read / transform / write are the engine's own per-batch timers (summed over batches; "
              "transform includes the cast to Arrow, write is the chdb insert incl. waiting for the chdb "
              "lock); at concurrency > 1 they overlap, so their sum exceeds the batch phase's wall time. "
              "'process start + exit' is the child's lifetime outside `run()` (imports, chdb start; the "
              "benchmark child skips the interpreter's final garbage collection). Client CPU covers "
              "every thread of the process (ConnectorX, Polars, chdb), not the Postgres server.", ""]
    if out.get("py_spy"):
        lines += _spy_lines(out["py_spy"])
    return "\n".join(lines)


def _timer_row(conc: str, r: dict[str, Any]) -> list[Any]:
    st = {k: v["seconds"] for k, v in (r.get("stages") or {}).items()}
    pk = r.get("packages", {}).values()
    read = sum(p.get("read_seconds", 0) for p in pk)
    transform = sum(p.get("transform_seconds", 0) for p in pk)
    write = sum(p.get("write_seconds", 0) for p in pk)
    batch = st.get("batch total (process)", 0.0)
    startup = (r.get("child_process_seconds") or 0) - r["seconds"]
    return [conc, r["rows"], r["events"], f"{startup:.2f}", f"{r['seconds']:.2f}",
            f"{st.get('preflight', 0):.2f}", f"{st.get('plan (key-range probes)', 0):.2f}",
            f"{st.get('lookups', 0):.2f}", f"{r.get('batch_phase_seconds') or 0:.2f}",
            f"{read:.2f}", f"{transform:.2f}", f"{st.get('transform (explode)', 0):.2f}",
            f"{write:.2f}", f"{batch - read - transform - write:.2f}",
            f"{r['events_per_s']:,.0f}", f"{r.get('cpu_seconds', 0):.1f}", f"{r['peak_rss_mb']:.0f}"]


def _spy_lines(spy: dict[str, Any]) -> list[str]:
    lines = ["## py-spy (concurrency 1; seconds of samples)", ""]
    for thread, phases in spy["threads"].items():
        lines += [f"**{thread}**", ""]
        lines.append(md_table(["phase", "seconds"], [[p, f"{s:.2f}"] for p, s in phases.items()]))
        lines.append("")
    lines += ["**What was running at the leaf, per phase** (Python code / interpreter = Python overhead)", ""]
    rows = [[phase, f"{sum(leaves.values()):.2f}", "; ".join(f"{k} {v:.2f}" for k, v in leaves.items())]
            for phase, leaves in spy["leaves"].items()]
    lines.append(md_table(["phase", "seconds", "leaf breakdown"], rows))
    lines.append("")
    return lines
