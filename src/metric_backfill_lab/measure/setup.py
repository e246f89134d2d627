"""What one benchmark run measures, and on which data: the settings and the seeded databases.

One cluster, one database per scale: ``civitai`` at the main ``--scale`` and
``civitai_s<scale>`` for each other ``--curve-scales`` scale, each with its chdb path, laid out
and recorded by ``metric_backfill_lab.seeded``.

Invariants: every database is seeded in a child process (chdb allows one path per process),
through ``seeded.seed_apart``; a database seeded at another scale or seed than asked is refused
(a UserError, exit 2) before any child starts, never reseeded or reused silently.
"""

from __future__ import annotations

import argparse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import seeded
from .common import log
from .native import NATIVE_SQL
from .rowwise import ROWWISE

DEFAULT_SCALE = 10.0
QUICK_SCALE = 1.0
SEED = 42
NATIVE_PACKAGES = tuple(NATIVE_SQL)
ROWWISE_ROWS = 50_000
CURVE_SCALES = (3.0, 10.0, 30.0)
CONCURRENCY_CURVE = (1, 2, 4)
QUICK_CONCURRENCY_CURVE = (1, 2)
REPEAT = 3


@dataclass
class Setup:
    """What one benchmark run measures, and where."""

    args: argparse.Namespace
    scale: float
    curve: list[float]
    concurrency_curve: list[int]
    pg_names: list[str]
    ch_names: list[str]
    native: list[str]
    rowwise: list[str]
    work: Path = Path()
    dbs: dict[str, seeded.Seeded] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return str(self.scale)

    @property
    def main(self) -> seeded.Seeded:
        return self.dbs[self.key]

    @property
    def runs(self) -> Path:
        return self.work / "children" / "runs"

    @property
    def common(self) -> dict[str, Any]:
        return {"batch_size": self.args.batch_size, "concurrency": self.args.concurrency}


def numbers(text: str, kind: type) -> list[Any]:
    """``"3,10,30"`` → sorted distinct positive numbers of ``kind``."""
    try:
        values = sorted({kind(x) for x in text.split(",") if x.strip()})
    except ValueError:
        raise SystemExit(f"not a comma-separated list of numbers: {text!r}") from None
    if not values or min(values) <= 0:
        raise SystemExit(f"expected positive numbers: {text!r}")
    return values


def make_setup(args: argparse.Namespace) -> Setup:
    from metric_backfill import registry

    scale = args.scale if args.scale is not None else (QUICK_SCALE if args.quick else DEFAULT_SCALE)
    if args.curve_scales:
        curve = numbers(args.curve_scales, float)
    elif args.quick or scale != DEFAULT_SCALE:
        curve = [scale / 4, scale]
    else:
        curve = list(CURVE_SCALES)
    if args.concurrency_curve:
        conc = numbers(args.concurrency_curve, int)
    else:
        conc = list(QUICK_CONCURRENCY_CURVE if args.quick else CONCURRENCY_CURVE)
    selected = registry.select(args.packages.split(",") if args.packages else None)
    pg_names = [p.name for p in selected if p.source == "postgres"]
    return Setup(
        args=args, scale=scale, curve=curve, concurrency_curve=conc, pg_names=pg_names,
        ch_names=[p.name for p in selected if p.source == "clickhouse"],
        native=[n for n in NATIVE_PACKAGES if n in pg_names],
        rowwise=[n for n in ROWWISE if n in pg_names],
    )


def db_name(scale: float, main: float) -> str:
    """The database of one scale: ``civitai`` for the main scale, ``civitai_s<scale>`` else."""
    if scale == main:
        return seeded.DEFAULT_DB
    return "civitai_s" + f"{scale:g}".replace(".", "_").replace("-", "_")


def seed_all(work: Path, scales: list[float], main: float) -> dict[str, seeded.Seeded]:
    """Every scale in its own database of the one cluster: two seeds at a time, largest first."""
    names = {sc: db_name(sc, main) for sc in scales}
    for sc, db in names.items():  # refuse before seeding anything
        seeded.check(work, db, sc, SEED, hint="use another --dir")
    root_dsn = seeded.start(work)
    for db in names.values():  # CREATE DATABASE one at a time (template1 may not be in use)
        seeded.create_database(root_dsn, db)
    with ThreadPoolExecutor(2) as pool:  # two children, two databases, two chdb paths
        futures = {str(sc): pool.submit(_seed, work, names[sc], sc)
                   for sc in sorted(scales, reverse=True)}
        return {k: f.result() for k, f in sorted(futures.items(), key=lambda kv: float(kv[0]))}


def _seed(work: Path, db: str, scale: float) -> seeded.Seeded:
    log(f"seeding {db} at scale {scale} (unless seeded)")
    done = seeded.seed_apart(work, db, scale, SEED)
    log(f"{'reused' if done.reused else 'seeded'} {db} (scale {scale})")
    return done
