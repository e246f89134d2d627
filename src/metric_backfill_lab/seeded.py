"""A seeded environment: a directory, its embedded Postgres, and per database a chdb path
holding the ClickHouse source tables, all filled with synthetic data at one (scale, seed).

The tests, ``demo``, ``db up/down`` and every benchmark use this one layout::

    DIR/pg, DIR/pg.port            the cluster (pgserver)
    DIR/seeded.json, DIR/ch        database ``civitai``: its marker and chdb path
    DIR/seeded_<db>.json, DIR/ch_<db>   any other database of the same cluster
    DIR/children/                  spec, result and log of each child process (seed_<db>, …)

Invariants:
- A marker is written last (atomically), after Postgres and chdb are seeded and Postgres is
  vacuumed: a database with a marker is complete. One without a marker is seeded from scratch
  (the synthetic schema drops its tables first, the chdb path is removed), and so is one whose
  marker names another generation of the generator (``synth.constants.GENERATION``), at the
  scale and seed it holds: data an older generator made would lack what today's tests, demo
  and benchmarks read.
- A database whose marker names another scale or seed than asked is refused with exit 2, never
  reused or reseeded silently: figures taken on it would describe other data.
- chdb allows one path per process: ``seed`` opens the database's chdb path in the calling
  process, so seeding several databases takes one process each (``seed_apart`` seeds in a
  child, through the lab's one child protocol).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from metric_backfill.durable import write_atomic
from metric_backfill.errors import UserError

from . import pgserver

DEFAULT_DB = pgserver.DB_NAME
NEW_SCALE, NEW_SEED = 0.1, 42
"""What a database is seeded with when no scale or seed is asked for."""


def marker_path(root: Path, db: str = DEFAULT_DB) -> Path:
    return root / ("seeded.json" if db == DEFAULT_DB else f"seeded_{db}.json")


def ch_path(root: Path, db: str = DEFAULT_DB) -> Path:
    return root / ("ch" if db == DEFAULT_DB else f"ch_{db}")


@dataclass(frozen=True)
class Seeded:
    """One seeded database: its Postgres DSN, its chdb path and what the marker records."""

    root: Path
    database: str
    pg: str
    scale: float
    seed: int
    rows: dict[str, int]
    seed_seconds: float
    vacuum_seconds: float
    reused: bool

    @property
    def ch_dir(self) -> Path:
        return ch_path(self.root, self.database)

    @property
    def ch(self) -> str:
        return f"chdb://{self.ch_dir}"

    @property
    def port(self) -> int:
        return int(self.pg.rsplit(":", 1)[1].split("/", 1)[0])


def recorded(root: Path, db: str = DEFAULT_DB) -> dict[str, Any] | None:
    """What a database's marker records, None without one."""
    path = marker_path(root, db)
    return json.loads(path.read_text()) if path.exists() else None


def check(root: Path, db: str = DEFAULT_DB, scale: float | None = None, seed: int | None = None,
          hint: str = "use another --dir, or leave out --scale/--seed to use it as it is") -> None:
    """Refuse a database seeded at another scale or seed than asked (None asks nothing);
    ``hint`` ends the message: what the command's user can do instead."""
    if scale is not None and scale <= 0:
        raise UserError(f"--scale must be > 0 (got {scale})")
    doc = recorded(root, db)
    if doc is None:
        return
    if any(v is not None and v != doc.get(k) for k, v in {"scale": scale, "seed": seed}.items()):
        where = root if db == DEFAULT_DB else f"{root} (database {db})"
        raise UserError(
            f"{where} was seeded at scale {doc.get('scale')} (seed {doc.get('seed')}), not "
            f"scale {scale} (seed {seed}): {hint}")


def dsn_of(root_dsn: str, db: str) -> str:
    return root_dsn.rsplit("/", 1)[0] + f"/{db}"


def start(root: Path) -> str:
    """Start (creating if needed) the directory's cluster; the DSN of its default database."""
    root.mkdir(parents=True, exist_ok=True)
    return pgserver.start(root)[0]


def seed(root: Path, db: str = DEFAULT_DB, scale: float | None = None,
         seed: int | None = None) -> Seeded:
    """The database ``db`` of the directory's cluster, seeded at (scale, seed) unless its
    marker already says so. Starts the cluster if it is not running."""
    root = root.resolve()
    check(root, db, scale, seed)
    dsn = dsn_of(start(root), db)
    doc = recorded(root, db)
    if doc is not None and current(doc) and ch_path(root, db).exists():
        return _seeded(root, db, dsn, doc, reused=True)
    old = doc or {}  # an older generation is seeded again at the scale and seed it holds
    scale = old.get("scale", NEW_SCALE) if scale is None else scale
    seed = old.get("seed", NEW_SEED) if seed is None else seed
    doc = _fill(root, db, dsn, scale, seed)
    write_atomic(marker_path(root, db), json.dumps(doc, indent=1))
    return _seeded(root, db, dsn, doc, reused=False)


def seed_apart(root: Path, db: str = DEFAULT_DB, scale: float | None = None,
               seed: int | None = None) -> Seeded:
    """``seed`` in a child process (``children/seed_<db>`` under the directory), so the calling
    process keeps its one chdb path free. The refusal of another scale or seed comes first, in
    the caller, as a UserError."""
    from .child import run_child

    root = root.resolve()
    check(root, db, scale, seed)
    doc = run_child("seed", {"root": str(root), "database": db, "scale": scale, "seed": seed},
                    root / "children" / f"seed_{db}")
    doc.pop("child_process_seconds", None)
    return Seeded(**{**doc, "root": Path(doc["root"])})


def child_seed(spec: dict[str, Any]) -> dict[str, Any]:
    """The child side of ``seed_apart``."""
    db = seed(Path(spec["root"]), spec["database"], spec["scale"], spec["seed"])
    return {**asdict(db), "root": str(db.root)}


def current(doc: dict[str, Any]) -> bool:
    """Was the marker's database seeded by this generation of the generator?"""
    from .synth.constants import GENERATION

    return doc.get("generation") == GENERATION


def _fill(root: Path, db: str, dsn: str, scale: float, seed: int) -> dict[str, Any]:
    from metric_backfill.clickhouse import ClickHouse

    from .synth import seed as seed_both
    from .synth.constants import GENERATION

    marker_path(root, db).unlink(missing_ok=True)
    create_database(dsn, db)
    shutil.rmtree(ch_path(root, db), ignore_errors=True)
    t0 = time.monotonic()
    rows = seed_both(dsn, ClickHouse(f"chdb://{ch_path(root, db)}").client(), scale, seed)
    seeded = time.monotonic() - t0
    return {"scale": scale, "seed": seed, "generation": GENERATION, "rows": rows,
            "seed_seconds": round(seeded, 2),
            "vacuum_seconds": round(vacuum(dsn), 2)}


def _seeded(root: Path, db: str, dsn: str, doc: dict[str, Any], reused: bool) -> Seeded:
    return Seeded(root=root, database=db, pg=dsn, scale=doc["scale"], seed=doc["seed"],
                  rows=doc.get("rows", {}), seed_seconds=doc.get("seed_seconds", 0.0),
                  vacuum_seconds=doc.get("vacuum_seconds", 0.0), reused=reused)


def create_database(dsn: str, db: str) -> None:
    """``CREATE DATABASE db`` on the cluster of ``dsn`` unless it exists."""
    import psycopg

    with psycopg.connect(dsn_of(dsn, "postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,)).fetchone():
            conn.execute(f'CREATE DATABASE "{db}"')


def vacuum(dsn: str) -> float:
    """``VACUUM (ANALYZE)`` the database: fresh statistics and a visibility map, as a
    long-lived production database has, so plans and index-only scans are realistic."""
    import psycopg

    t0 = time.monotonic()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    return time.monotonic() - t0


def running(root: Path) -> bool:
    """Whether the directory's cluster is running."""
    return pgserver.running_port(pgserver.Cluster(root.resolve())) is not None


def stop(root: Path) -> bool:
    """Stop the directory's cluster, keeping its data; True if it was running."""
    return pgserver.stop(root)


def destroy(root: Path) -> None:
    """Stop the cluster and delete the directory, with a cluster kept outside it."""
    pgserver.destroy(root)
    shutil.rmtree(root, ignore_errors=True)


@contextmanager
def environment(root: Path | None = None, keep: bool = False) -> Iterator[Path]:
    """A directory for a seeded environment: ``root`` (stopped at the end, data kept) or a new
    temp directory (destroyed at the end unless ``keep``)."""
    own = root is None
    work = Path(tempfile.mkdtemp(prefix="metric-backfill-")) if root is None else root.resolve()
    try:
        yield work
    finally:
        if own and not keep:
            destroy(work)
        else:
            stop(work)
