"""The Postgres side, in the parent process (no chdb): read floor, readers, then the transform.

Over the Postgres packages, one after the other, on the same data:

- read floor: ``COPY (SELECT <columns> FROM <from> WHERE <window>) TO STDOUT (FORMAT binary)``
  through psycopg, bytes discarded, once per package and once per batch with the engine's
  exact batch SQL: the most any reader can do, and the cost of the batch query's shape;
- readers: ConnectorX (the engine's reader, ``PostgresSource.fetch``) and ADBC's Postgres
  driver on the engine's batch queries, into Polars;
- transform: see ``transform``, over the frames ConnectorX read.

Invariants: every reader runs the engine's own batch SQL (``Batch.sql`` of ``plan_package``),
so a figure is what the engine's query costs, not a look-alike's; ADBC's frames are compared
with ConnectorX's (``adbc_equal``), so a faster reader that reads something else shows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .common import load, log, now, window
from .transform import measure_transform

Results = dict[str, dict[str, Any]]


def plan_queries(dsn: str, src: Any, pkgs: list[Any], batch_size: int | None
                 ) -> tuple[Results, dict[str, list[str]], dict[str, str]]:
    """Every package's batch queries and whole-table query; counts its rows (warming the cache)."""
    import psycopg

    from metric_backfill.plan import plan_package
    from metric_backfill.sources import window_sql

    w = window()
    res: Results = {}
    sqls: dict[str, list[str]] = {}
    whole: dict[str, str] = {}
    with psycopg.connect(dsn, autocommit=True) as conn:
        for pkg in pkgs:
            plan = plan_package(pkg, src, w, batch_size or pkg.default_batch_size)
            sqls[pkg.name] = [b.sql(pkg, src, w) for b in plan.batches]
            whole[pkg.name] = f"SELECT {pkg.columns} FROM {pkg.from_sql} WHERE {window_sql(pkg, src, w)}"
            n = conn.execute(f"SELECT count(*) FROM ({whole[pkg.name]}) q").fetchone()[0]
            res[pkg.name] = {"rows": int(n), "batches": len(sqls[pkg.name])}
    return res, sqls, whole


def _copy_bytes(conn: Any, sql: str) -> int:
    nbytes = 0
    with conn.cursor().copy(f"COPY ({sql}) TO STDOUT (FORMAT binary)") as cp:
        for data in cp:
            nbytes += len(data)
    return nbytes


def measure_floor(dsn: str, pkgs: list[Any], res: Results, sqls: dict[str, list[str]],
                  whole: dict[str, str]) -> None:
    """Binary COPY of each package's rows, one query, then one query per batch."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        for pkg in pkgs:
            t0 = now()
            res[pkg.name]["copy_bytes"] = _copy_bytes(conn, whole[pkg.name])
            res[pkg.name]["floor_seconds"] = now() - t0
            t0 = now()
            for sql in sqls[pkg.name]:
                _copy_bytes(conn, sql)
            res[pkg.name]["floor_batched_seconds"] = now() - t0


def measure_connectorx(src: Any, pkgs: list[Any], res: Results, sqls: dict[str, list[str]]
                       ) -> dict[str, list[Any]]:
    """The engine's reader on its batch queries, in its batch sessions; the frames, kept for
    ADBC's comparison and the transform."""
    frames = {}
    for pkg in pkgs:
        t0 = now()
        frames[pkg.name] = [src.fetch(sql, pkg.pg_settings) for sql in sqls[pkg.name]]
        res[pkg.name]["reader_seconds"] = now() - t0
        res[pkg.name]["reader_rows"] = sum(f.height for f in frames[pkg.name])
    return frames


def measure_adbc(dsn: str, pkgs: list[Any], res: Results, sqls: dict[str, list[str]],
                 frames: dict[str, list[Any]]) -> None:
    """ADBC's Postgres driver on the batch queries, frames compared with ConnectorX's."""
    import adbc_driver_postgresql.dbapi as adbc
    import polars as pl

    for pkg in pkgs:
        got = []
        t0 = now()
        with adbc.connect(dsn) as conn:
            for sql in sqls[pkg.name]:
                with conn.cursor() as cur:
                    cur.execute(sql)
                    got.append(pl.from_arrow(cur.fetch_arrow_table()))
        res[pkg.name]["adbc_seconds"] = now() - t0
        res[pkg.name]["adbc_equal"] = all(
            a.equals(b) and a.schema == b.schema for a, b in zip(got, frames[pkg.name], strict=True)
        )
        if not res[pkg.name]["adbc_equal"]:
            a, b = got[0], frames[pkg.name][0]
            res[pkg.name]["adbc_difference"] = f"adbc {dict(a.schema)} vs connectorx {dict(b.schema)}"
        del got


def measure_pg(dsn: str, names: list[str], batch_size: int | None, events_dir: Path) -> dict[str, Any]:
    """floor (COPY), ConnectorX, ADBC, transform for every Postgres package; writes the event
    tables (one Arrow IPC file per batch) for the insert-alone measurement."""
    from metric_backfill import registry
    from metric_backfill.sources import PostgresSource

    src = PostgresSource(dsn)
    pkgs = [registry.all_packages()[n] for n in names]
    log("planning and counting (warm-up)")
    res, sqls, whole = plan_queries(dsn, src, pkgs, batch_size)
    phase_load: dict[str, list[float]] = {}
    log("read floor: binary COPY through psycopg")
    measure_floor(dsn, pkgs, res, sqls, whole)
    phase_load["floor"] = load()
    log("reader: ConnectorX → Polars on the batch queries")
    frames = measure_connectorx(src, pkgs, res, sqls)
    phase_load["reader"] = load()
    log("reader: ADBC (adbc-driver-postgresql) → Polars on the same queries")
    measure_adbc(dsn, pkgs, res, sqls, frames)
    phase_load["adbc"] = load()
    log("transform: explode + cast to the event schema over the pre-read batches")
    for pkg in pkgs:
        res[pkg.name].update(measure_transform(pkg, src, frames.pop(pkg.name), events_dir / pkg.name))
    phase_load["transform"] = load()
    return {"packages": res, "load_avg": phase_load}
