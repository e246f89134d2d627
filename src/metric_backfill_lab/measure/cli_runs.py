"""The headline: one ``metric-backfill run`` process against chdb's own ``INSERT … SELECT``.

metric-backfill side: ``python -m metric_backfill.cli run --packages <p> --no-progress --json
FILE`` into a fresh chdb target (``bench.cli``), timed from start to exit; its ``--json`` gives
the batch phase (``wall_seconds``) and each package's read / transform / write seconds; fixed
costs = process wall − batch phase. Native side: ``native.native_runs``. Each side ``--repeat``
times, then each package alone through the CLI ``--solo-repeat`` times.

Invariants: the product is measured as a user runs it (its CLI, a process of its own, no
``METRIC_BACKFILL_*`` settings); a run that did not complete raises instead of giving a time;
the median of each time is kept, because one run on a shared machine is noise.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from .. import bench
from .common import log, rate
from .native import native_runs
from .setup import Setup

CLI_PACKAGE_KEYS = ("rows", "events", "seconds", "read_seconds", "transform_seconds", "write_seconds")
CLI_RUN_KEYS = ("process_seconds", "batch_phase_seconds", "fixed_seconds")


def run_args(dsn: str, names: list[str], rundir: Path, concurrency: int, batch_size: int | None) -> list[str]:
    args = ["run", "--pg", dsn, "--target", f"chdb://{rundir / 'ch'}", "--state", str(rundir / "st"),
            "--packages", ",".join(names), "--no-progress", "--concurrency", str(concurrency)]
    return args + (["--batch-size", str(batch_size)] if batch_size else [])


def cli_e2e(dsn: str, names: list[str], rundir: Path, concurrency: int, batch_size: int | None) -> dict[str, Any]:
    """One ``metric-backfill run`` process into a fresh chdb target: its wall clock, the batch
    phase (``wall_seconds`` of its ``--json``) and the difference, the fixed costs."""
    shutil.rmtree(rundir, ignore_errors=True)
    try:
        res = bench.cli(run_args(dsn, names, rundir, concurrency, batch_size), rundir)
    finally:
        shutil.rmtree(rundir / "ch", ignore_errors=True)
        shutil.rmtree(rundir / "st", ignore_errors=True)
    rep = res["report"] or {}
    if not rep.get("complete"):
        raise RuntimeError(f"metric-backfill run did not complete: {rep.get('error')}")
    wall = rep.get("wall_seconds")
    return {
        "process_seconds": res["process_seconds"], "batch_phase_seconds": wall,
        "fixed_seconds": res["process_seconds"] - wall if wall is not None else None,
        "rows": rep.get("rows"), "events": rep.get("events"), "peak_rss_mb": res["peak_rss_mb"],
        "packages": {n: {k: p.get(k) for k in CLI_PACKAGE_KEYS} for n, p in rep["packages"].items()},
    }


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of every time of several ``cli_e2e`` runs (counts from the first)."""
    first = runs[0]
    out: dict[str, Any] = {k: bench.median([r[k] for r in runs]) for k in CLI_RUN_KEYS}
    out.update(rows=first["rows"], events=first["events"],
               peak_rss_mb=max((r["peak_rss_mb"] or 0 for r in runs), default=0) or None)
    out["events_per_s"] = rate(out["events"] or 0, out["process_seconds"] or 0)
    out["packages"] = {
        n: {k: bench.median([r["packages"][n][k] for r in runs]) if k.endswith("seconds") else v
            for k, v in p.items()}
        for n, p in first["packages"].items()
    }
    out["runs"] = [{k: r[k] for k in (*CLI_RUN_KEYS, "events", "peak_rss_mb")} for r in runs]
    return out


def headline(s: Setup) -> dict[str, Any]:
    """Native (chdb start + statements) and one CLI process over the same packages, each
    ``--repeat`` times; then each package alone through the CLI (``--solo-repeat`` times)."""
    a = s.args
    dsn = s.main.pg
    together = ",".join(s.native)
    log(f"native: one chdb start + INSERT … SELECT FROM postgresql() for {together} ({a.repeat} runs)")
    native = native_runs(s.work, s.main.port, s.main.database, s.native, a.repeat)
    log(f"end to end: one `metric-backfill run --packages {together}` process ({a.repeat} runs)")
    cli_dir = s.work / "children" / "cli"
    e2e = median_run([cli_e2e(dsn, s.native, cli_dir / f"together_{i}", a.concurrency, a.batch_size)
                      for i in range(a.repeat)])
    solo = {}
    for name in s.native:
        log(f"end to end: `metric-backfill run --packages {name}` ({a.solo_repeat} run(s))")
        solo[name] = median_run([cli_e2e(dsn, [name], cli_dir / f"{name}_{i}", a.concurrency, a.batch_size)
                                 for i in range(a.solo_repeat)])
    return {"packages": s.native, "concurrency": a.concurrency, "repeat": a.repeat,
            "solo_repeat": a.solo_repeat, "native": native, "e2e": e2e, "solo": solo}
