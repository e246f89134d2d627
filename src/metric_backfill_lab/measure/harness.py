"""The benchmark run: seed, the stages, the headline, the curves, the summary, in that order.

Everything is measured on the same seeded data in one run, so the figures compare with each
other. ``benchmark(args)`` returns the ``results.json`` document; ``benchmarks/run.py`` is its
command line.

Invariants: the work directory is a seeded environment (``seeded.environment``): a temporary
one is destroyed at the end unless ``--keep``, a given ``--dir`` is stopped with its data kept
for the next run. The parent process never opens chdb: the insert stage, the ClickHouse
packages, the row-wise baseline, the native statements and every end-to-end run are children
(``child.run_child``, ``bench.e2e``, ``bench.cli``), each on a chdb path of its own.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import seeded
from ..child import run_child
from .cli_runs import headline
from .common import load, log, now
from .curves import run_curves
from .machine import machine_info, server_version
from .pg_read import measure_pg
from .plans import explain_plans
from .setup import SEED, Setup, make_setup, seed_all
from .summary import summarize


def settings(s: Setup) -> dict[str, Any]:
    a = s.args
    return {
        "mode": "quick" if a.quick else "full", "scale": s.scale, "curve_scales": s.curve,
        "concurrency_curve": s.concurrency_curve, "repeat": a.repeat,
        "solo_repeat": a.solo_repeat, "seed": SEED, "batch_size": a.batch_size,
        "concurrency": a.concurrency, "packages": s.pg_names + s.ch_names,
        "native_packages": s.native, "rowwise_rows": a.rowwise_rows,
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
    }


def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    """Every stage on the same seeded data; the ``results.json`` document."""
    s = make_setup(args)
    t_start = now()
    result: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "machine": machine_info(), "load_avg": {"start": load()}, "settings": settings(s),
    }
    with seeded.environment(Path(args.dir) if args.dir else None, keep=args.keep) as work:
        s.work = work
        work.mkdir(parents=True, exist_ok=True)
        work.chmod(0o755)  # the Postgres server user must reach DIR/pg
        log(f"work dir {work}")
        phase_seed(result, s)
        phase_stages(result, s)
        if s.native:
            result["headline"] = headline(s)
            result["load_avg"]["after_headline"] = load()
        run_curves(result, s)
    result["load_avg"]["end"] = load()
    result["total_seconds"] = round(now() - t_start, 1)
    summarize(result, s)
    return result


def phase_seed(result: dict[str, Any], s: Setup) -> None:
    s.dbs = seed_all(s.work, sorted({s.scale, *s.curve}), s.scale)
    result["machine"]["versions"]["postgres"] = server_version(s.main.pg)
    result["data"] = {
        key: {"database": db.database, "counts": db.rows, "seed_seconds": db.seed_seconds,
              "vacuum_seconds": db.vacuum_seconds}
        for key, db in s.dbs.items()
    }
    result["load_avg"]["after_seed"] = load()


def phase_stages(result: dict[str, Any], s: Setup) -> None:
    """floor, readers, transform and plans (parent); insert, ClickHouse packages, row-wise (child)."""
    events_dir = s.work / "events"
    shutil.rmtree(events_dir, ignore_errors=True)
    pg = measure_pg(s.main.pg, s.pg_names, s.args.batch_size, events_dir)
    result["postgres"] = pg["packages"]
    result["load_avg"].update({f"after_{k}": v for k, v in pg["load_avg"].items()})
    log("batch plans: EXPLAIN (COSTS OFF) of every package's middle batch query")
    result["plans"] = explain_plans(s.main.pg, s.pg_names)
    log("insert alone, ClickHouse packages, row-wise baseline (child)")
    misc_dir = s.work / "children" / "misc"
    shutil.rmtree(misc_dir, ignore_errors=True)
    misc_dir.mkdir(parents=True)
    shutil.copytree(s.main.ch_dir, misc_dir / "ch", symlinks=True)
    misc = run_child("misc", {
        "pg": s.main.pg, "ch": str(misc_dir / "ch"), "events_dir": str(events_dir),
        "pg_packages": s.pg_names, "ch_packages": s.ch_names, "batch_size": s.args.batch_size,
        "rowwise": s.rowwise, "rowwise_rows": s.args.rowwise_rows,
    }, misc_dir)
    shutil.rmtree(misc_dir / "ch", ignore_errors=True)
    shutil.rmtree(events_dir, ignore_errors=True)
    result["machine"]["versions"]["chdb engine"] = misc["chdb_version"]
    for key in ("insert", "clickhouse_packages", "rowwise"):
        result[key] = misc[key]
    result["load_avg"]["after_misc"] = load()
