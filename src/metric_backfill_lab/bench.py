"""The product measured whole: one ``Runner.run()`` in a child process (``e2e``), one
``metric-backfill`` command as a child process (``cli``), and the memory and CPU figures of a
process.

chdb allows one data path per process for the process lifetime (and a path cannot be open in
two processes), so every measured run happens in a child process with a fresh chdb path of its
own; the child reports its wall time, the run report and its own peak RSS (``VmHWM``, which
includes chdb since chdb runs in-process). Nothing here opens chdb in the calling process.
Children are started through ``metric_backfill_lab.child``, the lab's one child protocol.

``sweep`` runs the Runner for every (batch size, concurrency) pair and recommends the fastest
setting whose peak RSS stays under a limit (1.5 GB by default).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .child import child_env, log_tail, run_child, run_process

RSS_LIMIT_MB = 1500.0
"""Peak RSS a recommended setting must stay below (1.5 GB)."""

SWEEP_HEADERS = ["batch size", "concurrency", "rows", "events", "seconds", "rows/s", "events/s",
                 "peak RSS MB", ""]


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
        from metric_backfill import engine, sources, target

        self.wrap(sources.PostgresSource, sources.PostgresSource.fetch, "read (ConnectorX → Polars)")
        self.wrap(sources.ClickHouseSource, sources.ClickHouseSource.fetch, "read (chdb → Polars)")
        self.wrap(engine, engine.explode, "transform (explode)")
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


# ----------------------------------------------------------------------------------------
# the batch-size sweep


def sweep(
    pg_dsn: str,
    packages: list[str] | None,
    batch_sizes: list[int],
    concurrencies: list[int],
    workdir: Path | None,
    png: Path | None = None,
    *,
    ch: str | None = None,
    rss_limit_mb: float = RSS_LIMIT_MB,
    repeat: int = 1,
    echo: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    """Run the backfill for every (batch size, concurrency), each in a child process with a
    fresh chdb target; print a table, draw ``png`` (if matplotlib is installed) and return one
    dict per run: ``batch_size, concurrency, rows, events, seconds, rows_per_s, events_per_s,
    peak_rss_mb, recommended`` — ``recommended`` is True on the fastest run (events/s) whose
    peak RSS is below ``rss_limit_mb`` (see ``recommend``).

    ``packages`` empty or None means every Postgres package (plus the ClickHouse ones when
    ``ch`` is given). ``workdir`` None uses a temporary directory, removed afterwards.
    ``repeat`` > 1 runs every setting that many times and keeps the median run by events/s
    (``peak_rss_mb`` is then the largest of the runs): on a shared machine one run is noisy.
    """
    from metric_backfill import registry

    if not batch_sizes or not concurrencies:
        raise ValueError("sweep needs at least one batch size and one concurrency")
    if not packages:
        packages = [p.name for p in registry.all_packages().values() if p.source == "postgres" or ch]
    registry.select(packages)  # unknown names fail here, before any run
    own_tmp = workdir is None
    work = Path(tempfile.mkdtemp(prefix="metric-backfill-sweep-")) if workdir is None else Path(workdir)
    rows: list[dict[str, Any]] = []
    try:
        for bs in batch_sizes:
            for conc in concurrencies:
                runs = [e2e(pg_dsn, packages, work / f"bs{bs}-c{conc}", batch_size=bs, concurrency=conc, ch=ch)
                        for _ in range(max(1, repeat))]
                runs.sort(key=lambda x: x["events_per_s"] or 0)
                r = runs[len(runs) // 2]
                r["peak_rss_mb"] = max(x["peak_rss_mb"] for x in runs)
                row = {
                    "batch_size": bs,
                    "concurrency": conc,
                    "rows": r["rows"],
                    "events": r["events"],
                    "seconds": r["seconds"],
                    "rows_per_s": r["rows_per_s"],
                    "events_per_s": r["events_per_s"],
                    "peak_rss_mb": r["peak_rss_mb"],
                    "load_avg": r["load_avg_after"][0],
                    "runs": len(runs),
                    "recommended": False,
                }
                rows.append(row)
                echo(f"batch size {bs:>9,}  concurrency {conc}: {r['events_per_s'] or 0:>12,.0f} events/s, "
                     f"peak RSS {r['peak_rss_mb']:,.0f} MB")
    finally:
        if own_tmp:
            shutil.rmtree(work, ignore_errors=True)
    best = recommend(rows, rss_limit_mb)
    if best is not None:
        best["recommended"] = True
    echo("")
    echo(sweep_table(rows))
    if best is not None:
        echo(f"\nrecommended: --batch-size {best['batch_size']} --concurrency {best['concurrency']} "
             f"({best['events_per_s']:,.0f} events/s, peak RSS {best['peak_rss_mb']:,.0f} MB "
             f"< {rss_limit_mb:,.0f} MB)")
    else:
        echo(f"\nno setting stayed below {rss_limit_mb:,.0f} MB peak RSS")
    if png is not None:
        note = plot_sweep(rows, png)
        echo(note)
    return rows


def recommend(rows: list[dict[str, Any]], rss_limit_mb: float = RSS_LIMIT_MB) -> dict[str, Any] | None:
    """The fastest row (events/s) whose peak RSS is below the limit; ties go to fewer threads."""
    ok = [r for r in rows if r["peak_rss_mb"] < rss_limit_mb and r["events_per_s"]]
    if not ok:
        return None
    return max(ok, key=lambda r: (r["events_per_s"], -r["concurrency"], -r["batch_size"]))


def sweep_table(rows: list[dict[str, Any]]) -> str:
    from metric_backfill.report import table

    return table(SWEEP_HEADERS, [
        [r["batch_size"], r["concurrency"], r["rows"], r["events"], round(r["seconds"], 2),
         int(r["rows_per_s"] or 0), int(r["events_per_s"] or 0), round(r["peak_rss_mb"]),
         "← recommended" if r.get("recommended") else ""]
        for r in rows
    ], right={0, 1, 2, 3, 4, 5, 6, 7})


def plot_sweep(rows: list[dict[str, Any]], png: Path) -> str:
    """events/s and peak RSS against batch size, one line per concurrency; returns a note."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return f"matplotlib is not installed: no chart written to {png} (pip install matplotlib)"
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for conc in sorted({r["concurrency"] for r in rows}):
        pts = sorted((r for r in rows if r["concurrency"] == conc), key=lambda r: r["batch_size"])
        xs = [r["batch_size"] for r in pts]
        ax1.plot(xs, [(r["events_per_s"] or 0) / 1e6 for r in pts], marker="o", label=f"concurrency {conc}")
        ax2.plot(xs, [r["peak_rss_mb"] for r in pts], marker="o", label=f"concurrency {conc}")
    best = next((r for r in rows if r.get("recommended")), None)
    if best is not None:
        ax1.scatter([best["batch_size"]], [best["events_per_s"] / 1e6], s=160, facecolors="none",
                    edgecolors="red", linewidths=2, label="recommended", zorder=5)
    ax2.axhline(RSS_LIMIT_MB, color="red", linestyle="--", linewidth=1, label="1.5 GB limit")
    from matplotlib.ticker import NullFormatter

    sizes = sorted({r["batch_size"] for r in rows})
    for ax, title, ylabel in ((ax1, "throughput", "million events/s"), (ax2, "peak RSS", "MB")):
        ax.set_xscale("log")
        ax.set_xticks(sizes, [f"{x:,}" for x in sizes])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("batch size (source rows)")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    ax2.set_ylim(bottom=0)
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return f"chart written to {png}"
