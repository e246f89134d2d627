"""Threads vs Dask on one machine: what the cluster executor costs where it cannot gain.

The same ``metric-backfill run`` (every Postgres package: the batches Dask takes; the ClickHouse
packages would run in the coordinator either way) into a fresh chdb target, once with
``--executor threads`` and once with ``--executor dask://…`` against a ``LocalCluster`` of two
worker processes with one thread each (two batches at a time, as ``--concurrency 2``), taken in
turns so that drift hits both alike. Each run is a CLI process (``bench.cli``): its wall clock
from start to exit and its peak RSS. The cluster is started once, before the first run, and
serves every Dask run, as workers started with ``dask worker`` serve the runs made against
them: the first Dask run pays the workers' first imports (its figure is kept apart), the others
do not. The workers' peak RSS (``VmHWM``) is read on them after the last run.

Invariant: this process never opens chdb (the runs and the seeding are children).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import bench, seeded
from .machine import machine_info
from .markdown import KEPT_BELOW, md_table

MARK = "## Threads vs Dask on one machine"


def postgres_packages() -> list[str]:
    from metric_backfill import registry

    return [p.name for p in registry.all_packages().values() if p.source == "postgres"]


def one_run(dsn: str, work: Path, packages: list[str], executor: str) -> dict[str, Any]:
    """One CLI run into a fresh chdb target: seconds, events and the coordinator's peak RSS."""
    args = ["run", "--pg", dsn, "--target", f"chdb://{work / 'ch'}", "--state", str(work / "state"),
            "--packages", ",".join(packages), "--no-progress", "--executor", executor]
    got = bench.cli(args, work)
    report = got["report"] or {}
    return {"seconds": got["process_seconds"], "batch_phase_seconds": report.get("wall_seconds"),
            "events": report.get("events"), "rows": report.get("rows"),
            "coordinator_rss_mb": got["peak_rss_mb"], "batches": report.get("batches_done")}


def measure(root: Path, scale: float, repeat: int, log: Callable[[str], None]) -> dict[str, Any]:
    """``repeat`` runs of each on the directory's data at ``scale``, in turns, against one
    LocalCluster (2 worker processes × 1 thread) started before the first."""
    from distributed import Client, LocalCluster

    db = seeded.seed_apart(root, scale=scale)
    packages = postgres_packages()
    runs: dict[str, list[dict[str, Any]]] = {"threads": [], "dask": []}
    t0 = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as lc, Client(lc) as client:
        started = time.perf_counter() - t0
        executors = {"threads": "threads", "dask": "dask://" + lc.scheduler_address.removeprefix("tcp://")}
        for i in range(repeat):
            for mode, executor in executors.items():
                work = root / "dask-overhead" / f"{mode}-{i}"
                shutil.rmtree(work, ignore_errors=True)
                runs[mode].append(one_run(db.pg, work, packages, executor))
                got = runs[mode][-1]
                log(f"{mode} #{i + 1}: {got['seconds']:.2f} s, {got['events']:,} events, "
                    f"coordinator {got['coordinator_rss_mb']} MB")
        workers = sorted(round(v, 1) for v in client.run(bench.peak_rss_mb).values())
    medians = {mode: _medians(rs[1:] if len(rs) > 2 else rs) for mode, rs in runs.items()}
    medians["dask"]["worker_rss_mb"] = workers
    return {"machine": machine_info(), "scale": scale, "packages": packages, "runs": runs,
            "cluster_start_seconds": round(started, 2), "median": medians,
            "first": {mode: rs[0]["seconds"] for mode, rs in runs.items()}}


def _medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    seconds = bench.median([r["seconds"] for r in runs])
    out = {"seconds": seconds, "min_seconds": min(r["seconds"] for r in runs),
           "max_seconds": max(r["seconds"] for r in runs), "events": runs[0]["events"], "rows": runs[0]["rows"],
           "events_per_s": round(runs[0]["events"] / seconds) if seconds else None,
           "batch_phase_seconds": bench.median([r["batch_phase_seconds"] for r in runs]),
           "coordinator_rss_mb": bench.median([r["coordinator_rss_mb"] for r in runs])}
    return out


def _spread(m: dict[str, Any]) -> str:
    return f"{m['min_seconds']:.2f} – {m['max_seconds']:.2f}"


def overhead_pct(doc: dict[str, Any]) -> float:
    t, d = doc["median"]["threads"], doc["median"]["dask"]
    return (d["seconds"] / t["seconds"] - 1) * 100


def section(doc: dict[str, Any], date: str) -> str:
    """The section for RESULTS.md (below its keep-marker)."""
    t, d, m = doc["median"]["threads"], doc["median"]["dask"], doc["machine"]
    n = len(doc["runs"]["threads"])
    table = md_table(["", "threads", "Dask, 2 local workers"], [
        ["wall clock of the `run` process, s (median)", f"{t['seconds']:.2f}", f"{d['seconds']:.2f}"],
        ["  fastest – slowest run, s", _spread(t), _spread(d)],
        ["  of which the batch phase, s", f"{t['batch_phase_seconds']:.2f}", f"{d['batch_phase_seconds']:.2f}"],
        ["events/s (whole process)", t["events_per_s"], d["events_per_s"]],
        ["peak RSS of the coordinator, MB", round(t["coordinator_rss_mb"]), round(d["coordinator_rss_mb"])],
        ["peak RSS of each worker, MB", "–", " / ".join(f"{v:.0f}" for v in d["worker_rss_mb"])],
    ])
    return (
        f"{MARK}\n\n"
        f"`python benchmarks/dask_overhead.py --scale {doc['scale']:g}` on {date}, engine "
        f"{m['engine']}, {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB (Postgres on the same "
        f"cores). Every Postgres package ({len(doc['packages'])}; {t['rows']:,} source rows, "
        f"{t['events']:,} events) into a fresh chdb target at the default batch size and "
        "`--concurrency 2`; Dask: one `LocalCluster` of 2 worker processes × 1 thread, started "
        f"before the first run and serving all of them. {n} runs each, taken in turns; medians of "
        f"runs 2–{n} (the first Dask run pays the workers' first imports: "
        f"{doc['first']['dask']:.2f} s, threads {doc['first']['threads']:.2f} s). Worker RSS: "
        f"the peak over all runs. Raw figures: `DASK.json`.\n\n{table}\n\n"
        f"Dask's overhead on the whole run: **{overhead_pct(doc):+.1f} %** (target: at most +5 %).\n"
    )


def write_section(results: Path, text: str) -> None:
    """The section below the keep-marker of RESULTS.md, replacing an earlier one of its kind
    and keeping every other section."""
    head, marker, tail = results.read_text().partition(KEPT_BELOW)
    if not marker:
        raise ValueError(f"{results} has no keep-marker line")
    if MARK in tail:
        before, _, rest = tail.partition(MARK)
        later = rest.split("\n## ", 1)
        tail = before + ("## " + later[1] if len(later) > 1 else "")
    results.write_text(head + marker + tail.rstrip("\n") + "\n\n" + text)
