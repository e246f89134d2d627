"""The product measured whole: one ``Runner.run()`` in a child process (``e2e``), one
``metric-backfill`` command as a child process (``cli``), and the memory and CPU figures of a
process.

chdb allows one data path per process for the process lifetime (and a path cannot be open in
two processes), so every measured run happens in a child process with a fresh chdb path of its
own; the child reports its wall time, the run report and its own peak RSS (``VmHWM``, which
includes chdb since chdb runs in-process). Nothing here opens chdb in the calling process.
Children are started through ``metric_backfill_lab.child``, the lab's one child protocol.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .child import child_env, log_tail, run_child, run_process


def _proc_status_mb(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # kB
    except (OSError, ValueError, IndexError):
        pass
    return None


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MB.

    ``VmHWM`` (the high-water mark of this process image) where /proc exists: ``ru_maxrss`` is
    not usable in a child, because Linux carries the parent's high-water mark across
    fork + exec (a child of a 1 GB parent reports ≥ 1 GB whatever it does).
    """
    hwm = _proc_status_mb("VmHWM")
    if hwm is not None:
        return hwm
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def rss_mb() -> float | None:
    """The current resident set size in MB (None without /proc)."""
    return _proc_status_mb("VmRSS")


def _cpu_seconds() -> float:
    """User + system CPU time of this process (all its threads, chdb's and ConnectorX's too)."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def chdb_path(dsn: str) -> Path | None:
    """The directory of a ``chdb://`` DSN, or None for a server DSN."""
    if not dsn.startswith("chdb:"):
        return None
    rest = dsn[len("chdb:"):]
    while rest.startswith("//"):
        rest = rest[1:]
    return Path(rest)


def e2e(
    pg: str | None,
    packages: Sequence[str] | None,
    workdir: Path,
    *,
    batch_size: int | None = None,
    concurrency: int = 2,
    ch: str | None = None,
    table: str = "entityMetricEvents",
    stage_timers: bool = False,
    keep: bool = False,
    timeout: float | None = None,
    prefix: Sequence[str] = (),
) -> dict[str, Any]:
    """One ``Runner.run()`` in a child process with a fresh chdb target under ``workdir``.

    ``ch`` is the source of the ClickHouse packages: a ``chdb://`` DSN is *copied* into the run
    directory and used as the target (chdb cannot open one path from two processes, and a chdb
    target is also the ClickHouse source by default); a server DSN is passed through as is.
    Returns the child's measurements (see ``child_e2e``); raises RuntimeError on failure.
    """
    workdir = Path(workdir).resolve()
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    target_dir = workdir / "ch"
    src_ch = None
    if ch:
        path = chdb_path(ch)
        if path is not None:
            shutil.copytree(path, target_dir, symlinks=True)
        else:
            src_ch = ch
    spec = {
        "pg": pg,
        "ch": src_ch,
        "target": f"chdb://{target_dir}",
        "table": table,
        "packages": list(packages) if packages else None,
        "batch_size": batch_size,
        "concurrency": concurrency,
        "state": str(workdir / "state"),
        "stage_timers": stage_timers,
    }
    try:
        return run_child("e2e", spec, workdir, timeout=timeout, prefix=prefix)
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)


def median(values: Sequence[float]) -> float | None:
    """The median of some measurements (the mean of the middle two for an even count)."""
    xs = sorted(v for v in values if v is not None)
    if not xs:
        return None
    mid = len(xs) // 2
    return xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2


def cli(
    args: Sequence[str],
    workdir: Path,
    *,
    ok_codes: Sequence[int] = (0,),
    timeout: float | None = None,
    source: Path | None = None,
) -> dict[str, Any]:
    """``python -m metric_backfill.cli ARGS --json WORKDIR/report.json`` as a child process.

    Returns ``process_seconds`` (wall clock from before the process is started until it has
    exited: interpreter start, imports, chdb start and shutdown included), ``exit``,
    ``peak_rss_mb`` (the child's ``VmHWM``, polled every 50 ms: a lower bound), ``report``
    (the JSON it wrote, or None) and, after a non-zero exit, ``log_tail`` (its last output
    lines). Raises RuntimeError when the exit code is not in ``ok_codes``. ``source`` runs the
    code of another checkout (its ``src`` and top level first on the path, from its directory).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    out = workdir / "report.json"
    out.unlink(missing_ok=True)
    log_file = workdir / "cli.log"
    env = child_env()
    if source is not None:
        env["PYTHONPATH"] = f"{source / 'src'}:{source}"
    done = run_process([sys.executable, "-m", "metric_backfill.cli", *args, "--json", str(out)],
                       log_file, timeout=timeout, env=env, cwd=source)
    tail = log_tail(log_file) if done.exit else ""
    if done.exit not in ok_codes:
        raise RuntimeError(f"metric-backfill {args[0]} failed (exit {done.exit}):\n{tail}")
    report = json.loads(out.read_text()) if out.exists() else None
    doc = {"exit": done.exit, "process_seconds": round(done.seconds, 3),
           "peak_rss_mb": done.peak_rss_mb, "report": report}
    return {**doc, "log_tail": tail} if done.exit else doc


class StageTimers:
    """Wall time spent in read / transform / to-Arrow / insert, summed over batches and threads.

    Installed by wrapping the functions the engine calls, so the engine itself is unchanged.
    """

    def __init__(self) -> None:
        import threading

        self.lock = threading.Lock()
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def wrap(self, owner: Any, fn: Callable[..., Any], stage: str) -> None:
        """Replace ``owner.<fn's name>`` by a timed call of ``fn``: named by the object, so a
        renamed engine function fails here instead of silently going untimed."""
        name = fn.__name__
        timers = self

        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                dt = time.perf_counter() - t0
                with timers.lock:
                    timers.seconds[stage] = timers.seconds.get(stage, 0.0) + dt
                    timers.calls[stage] = timers.calls.get(stage, 0) + 1

        setattr(owner, name, timed)

    def install(self) -> None:
        from metric_backfill import batchrun, engine, sources, target

        self.wrap(sources.PostgresSource, sources.PostgresSource.fetch, "read (ConnectorX → Polars)")
        self.wrap(sources.ClickHouseSource, sources.ClickHouseSource.fetch, "read (chdb → Polars)")
        self.wrap(batchrun, batchrun.explode, "transform (explode)")
        self.wrap(target.Target, target.Target.insert, "insert (insert_arrow)")
        self.wrap(engine.Runner, engine.Runner.make_plan, "plan (key-range probes)")
        self.wrap(engine.Runner, engine.Runner.preflight, "preflight")
        self.wrap(engine.Runner, engine.Runner._context, "lookups")
        self.wrap(engine.Runner, engine.Runner.process, "batch total (process)")

    def to_json(self) -> dict[str, Any]:
        return {k: {"seconds": round(v, 4), "calls": self.calls[k]} for k, v in self.seconds.items()}


def child_e2e(spec: dict[str, Any]) -> dict[str, Any]:
    """The child side of ``e2e`` (kind ``e2e``): the run, timed, and this process's figures."""
    from metric_backfill.engine import Runner, RunOptions

    timers = StageTimers() if spec.get("stage_timers") else None
    if timers:
        timers.install()
    opts = RunOptions(
        target=spec["target"], pg=spec["pg"], ch=spec.get("ch"), table=spec["table"],
        packages=spec["packages"], batch_size=spec["batch_size"],
        concurrency=spec["concurrency"], state=Path(spec["state"]), progress=False,
    )
    load_before = os.getloadavg()
    rss_before = rss_mb()
    cpu_before = _cpu_seconds()
    t0 = time.perf_counter()
    report = Runner(opts, log=lambda msg: print(msg, file=sys.stderr)).run()
    seconds = time.perf_counter() - t0
    doc = report.to_json()
    rows = sum(p["rows"] for p in doc["packages"].values())
    events = sum(p["events"] for p in doc["packages"].values())
    batch_phase = doc.get("wall_seconds")  # the batches' wall time, when the engine reports it
    if batch_phase is None:
        started = [t for s in report.stats.values() if (t := getattr(s, "started", None)) is not None]
        finished = [t for s in report.stats.values() if (t := getattr(s, "finished", None)) is not None]
        batch_phase = (max(finished) - min(started)) if started and finished else None
    return {
        "packages": doc["packages"],
        "batches": doc["batches_done"],
        "complete": doc["complete"],
        "rows": rows,
        "events": events,
        "seconds": round(seconds, 3),
        "batch_phase_seconds": round(batch_phase, 3) if batch_phase is not None else None,
        "rows_per_s": rows / seconds if seconds else None,
        "events_per_s": events / seconds if seconds else None,
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "cpu_seconds": round(_cpu_seconds() - cpu_before, 2),
        "rss_after_imports_mb": round(rss_before, 1) if rss_before is not None else None,
        "batch_size": spec["batch_size"],
        "concurrency": spec["concurrency"],
        "load_avg_before": [round(x, 2) for x in load_before],
        "load_avg_after": [round(x, 2) for x in os.getloadavg()],
        "stages": timers.to_json() if timers else None,
    }
