"""Threads vs Dask on one machine: what the cluster executor costs where it cannot gain.

The same ``metric-backfill run`` (every Postgres package: the batches Dask takes; the ClickHouse
packages would run in the coordinator either way) into a fresh chdb target, once with
``--executor threads`` and once with ``--executor dask://…`` against a ``LocalCluster`` of two
worker processes with one thread each (two batches at a time, as ``--concurrency 2``), taken in
turns so that drift hits all alike; Dask twice, with its defaults and with the settings for
long tasks (``LONG_TASKS``, the README's advice for workers that run one batch at a time). Each run is a CLI process (``bench.cli``): its wall clock
from start to exit and its peak RSS. Each Dask run gets a cluster of its own, started before the
clock and closed after it, so no idle cluster shares the cores with a threads run, and each
worker's peak RSS (``VmHWM``, read on it after the run) is that run's. Workers started with
``dask worker`` serve many runs: every cluster but the first is warmed before the clock (the
product imported on its workers, as an earlier run leaves them); the first, cold, is reported
apart.

Invariant: this process never opens chdb (the runs and the seeding are children).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import bench, seeded
from .machine import machine_info
from .markdown import KEPT_BELOW, md_table

MARK = "## Threads vs Dask on one machine"

LONG_TASKS = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "2s",
}
"""Dask's diagnostics slowed down or off, for workers whose tasks are batches of seconds: its
statistical profiler samples the running task's stack every 10 ms, and the event-loop health
check, system and memory monitors wake each process many times a second (README, "Scaling
out", gives them as environment variables)."""
MODES = {"threads": None, "dask": {}, "dask_long": LONG_TASKS}
"""Each mode's Dask settings (None: no cluster)."""


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


def warm() -> None:
    """On a worker: what its first run imports (the product, every package, the reader)."""
    import connectorx  # noqa: F401

    from metric_backfill import cluster, registry  # noqa: F401

    registry.all_packages()


def dask_run(dsn: str, work: Path, packages: list[str], warmed: bool,
             settings: dict[str, Any]) -> dict[str, Any]:
    """One run on a LocalCluster of its own (2 worker processes × 1 thread) with these Dask
    settings (its scheduler's and workers'), with each worker's peak RSS."""
    import dask
    from distributed import Client, LocalCluster

    with dask.config.set(settings), LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                                 dashboard_address=":0") as lc, Client(lc) as client:
        if warmed:
            client.run(warm)
        got = one_run(dsn, work, packages, "dask://" + lc.scheduler_address.removeprefix("tcp://"))
        peaks = client.run(bench.peak_rss_mb)
    return {**got, "warmed": warmed, "worker_rss_mb": sorted(round(v, 1) for v in peaks.values())}


def measure(root: Path, scale: float, repeat: int, log: Callable[[str], None]) -> dict[str, Any]:
    """``repeat`` runs of each mode on the directory's data at ``scale``, in turns; the first
    Dask runs on cold clusters, the others on warmed ones."""
    db = seeded.seed_apart(root, scale=scale)
    packages = postgres_packages()
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in MODES}
    for i in range(repeat):
        for mode, settings in MODES.items():
            work = root / "dask-overhead" / f"{mode}-{i}"
            shutil.rmtree(work, ignore_errors=True)
            got = (one_run(db.pg, work, packages, "threads") if settings is None
                   else dask_run(db.pg, work, packages, warmed=i > 0, settings=settings))
            runs[mode].append(got)
            log(f"{mode} #{i + 1}: {got['seconds']:.2f} s, {got['events']:,} events, coordinator "
                f"{got['coordinator_rss_mb']} MB" + (f", workers {got['worker_rss_mb']} MB" if settings is not None else ""))
    medians = {mode: _medians(rs[1:] if len(rs) > 2 else rs) for mode, rs in runs.items()}
    for mode in (m for m, settings in MODES.items() if settings is not None):
        medians[mode]["worker_rss_mb"] = [max(r["worker_rss_mb"][k] for r in runs[mode]) for k in range(2)]
    return {"machine": machine_info(), "scale": scale, "packages": packages, "runs": runs,
            "median": medians, "first": {mode: rs[0]["seconds"] for mode, rs in runs.items()}}


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


def overhead_pct(doc: dict[str, Any], mode: str = "dask") -> float:
    t, d = doc["median"]["threads"], doc["median"][mode]
    return (d["seconds"] / t["seconds"] - 1) * 100


def round_overheads_pct(doc: dict[str, Any], mode: str = "dask") -> list[float]:
    """Each warmed round's Dask run over the threads run of that round (taken just before it),
    in %: a drift of the machine through the measurement (minutes) cancels in a pair."""
    pairs = list(zip(doc["runs"]["threads"], doc["runs"][mode], strict=True))
    warmed = pairs[1:] if len(pairs) > 2 else pairs
    return [(d["seconds"] / t["seconds"] - 1) * 100 for t, d in warmed]


def _per_round(doc: dict[str, Any], mode: str) -> str:
    each = round_overheads_pct(doc, mode)
    return (f"median **{bench.median(each):+.1f} %** (rounds: "
            + ", ".join(f"{v:+.1f}" for v in each) + ")")


def _rows(ms: list[dict[str, Any]]) -> list[list[Any]]:
    def each(f: Any) -> list[Any]:
        return [f(m) for m in ms]

    return [
        ["wall clock of the `run` process, s (median)", *each(lambda m: f"{m['seconds']:.2f}")],
        ["  fastest – slowest run, s", *each(_spread)],
        ["  of which the batch phase, s", *each(lambda m: f"{m['batch_phase_seconds']:.2f}")],
        ["events/s (whole process)", *each(lambda m: m["events_per_s"])],
        ["peak RSS of the coordinator, MB", *each(lambda m: round(m["coordinator_rss_mb"]))],
        ["peak RSS of each worker, MB", *each(lambda m: " / ".join(
            f"{v:.0f}" for v in m["worker_rss_mb"]) if "worker_rss_mb" in m else "–")],
    ]


def section(doc: dict[str, Any], date: str) -> str:
    """The section for RESULTS.md (below its keep-marker)."""
    t, med, m = doc["median"]["threads"], doc["median"], doc["machine"]
    n, first = len(doc["runs"]["threads"]), doc["first"]
    table = md_table(["", "threads", "Dask, 2 local workers", "Dask, long-task settings"],
                     _rows([t, med["dask"], med["dask_long"]]))
    settings = ", ".join(f"`{k}: {v}`" for k, v in LONG_TASKS.items())
    return (
        f"{MARK}\n\n"
        f"`python benchmarks/dask_overhead.py --scale {doc['scale']:g}` on {date}, engine "
        f"{m['engine']}, {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB (Postgres on the same "
        f"cores). Every Postgres package ({len(doc['packages'])}; {t['rows']:,} source rows, "
        f"{t['events']:,} events) into a fresh chdb target at the default batch size and "
        "`--concurrency 2`; Dask: a `LocalCluster` of 2 worker processes × 1 thread per run, "
        "started before the clock and closed after it, with Dask's defaults and with the "
        f"settings for long tasks ({settings}). {n} runs of each, taken in turns; medians "
        f"of runs 2–{n}, whose clusters were warmed (the product imported on the workers, as an "
        f"earlier run leaves them); run 1, on cold clusters: Dask {first['dask']:.2f} and "
        f"{first['dask_long']:.2f} s, threads {first['threads']:.2f} s. Worker RSS: the highest "
        f"of any run. Raw figures: `DASK.json`.\n\n{table}\n\n"
        f"Dask's overhead on the whole run: **{overhead_pct(doc):+.1f} %** with its defaults, "
        f"**{overhead_pct(doc, 'dask_long'):+.1f} %** with the long-task settings (target: at "
        "most +5 %). Round by round (each Dask run over the threads run of its round, taken "
        f"before it, which cancels the machine's drift): {_per_round(doc, 'dask')} with its defaults, "
        f"{_per_round(doc, 'dask_long')} with the long-task settings.\n"
    )


def write_section(results: Path, text: str) -> None:
    """The section below the keep-marker of RESULTS.md: in the place of an earlier one of its
    kind (a hand-written section after it refers to "the runs above"), else at the end;
    every other section kept."""
    head, marker, tail = results.read_text().partition(KEPT_BELOW)
    if not marker:
        raise ValueError(f"{results} has no keep-marker line")
    if MARK not in tail:
        results.write_text(head + marker + tail.rstrip("\n") + "\n\n" + text)
        return
    before, _, rest = tail.partition(MARK)
    later = rest.split("\n## ", 1)
    after = "\n## " + later[1] if len(later) > 1 else "\n"
    results.write_text(head + marker + before + text.rstrip("\n") + "\n" + after)
