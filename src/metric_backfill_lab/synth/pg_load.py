"""Bulk-load the synthetic frames into Postgres: bare tables, COPY, then keys, then ANALYZE.

COPY uses the binary format (numpy-encoded, see ``_pgbinary``) for every table without array
columns and CSV from Polars for the three that have them. A few connections share the jobs:
COPYs first (largest tables first), and each finished COPY queues its primary key, then its
indexes and statistics, so the Postgres backends stay busy until the end. At scale 1 this
loads ~860k rows at 250-300k rows/s on two cores.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import polars as pl
import psycopg

from . import _pgbinary
from .pg import generate_pg
from .schema import (
    TABLES,
    create_metric_tables,
    create_pg_schema,
    key_statements,
    metric_table_key,
    quote,
)

log = logging.getLogger(__name__)

CHUNK_ROWS = 100_000
WORKERS = 3


def _pg_array(col: str) -> pl.Expr:
    """A list column as a Postgres array literal, each element quoted: ``{"VIEW","ADD"}``."""
    elem = pl.format(
        '"{}"',
        pl.element().str.replace_all("\\", "\\\\", literal=True).str.replace_all('"', '\\"', literal=True),
    )
    return pl.concat_str([pl.lit("{"), pl.col(col).list.eval(elem).list.join(","), pl.lit("}")]).alias(col)


def _csv_ready(df: pl.DataFrame) -> pl.DataFrame:
    lists = [c for c, t in df.schema.items() if isinstance(t, pl.List)]
    return df.with_columns([_pg_array(c) for c in lists]) if lists else df


def _copy_table(conn: psycopg.Connection, table: str, df: pl.DataFrame) -> int:
    """COPY one frame: binary when every column allows it (much cheaper to parse), else CSV."""
    cols = ", ".join(quote(c) for c in df.columns)
    if _pgbinary.supported(df):
        bigint = {c for c, t in TABLES.get(table, []) if t.startswith("bigint")}
        sql = f"COPY {quote(table)} ({cols}) FROM STDIN (FORMAT binary)"
        with conn.cursor() as cur, cur.copy(sql) as cp:
            for piece in _pgbinary.chunks(df, bigint, CHUNK_ROWS):
                cp.write(piece)
        return len(df)
    df = _csv_ready(df)
    with conn.cursor() as cur, cur.copy(f"COPY {quote(table)} ({cols}) FROM STDIN (FORMAT csv)") as cp:
        for start in range(0, len(df), CHUNK_ROWS):
            buf = io.BytesIO()
            df.slice(start, CHUNK_ROWS).write_csv(
                buf, include_header=False, null_value="",
                datetime_format="%Y-%m-%d %H:%M:%S%.3f", date_format="%Y-%m-%d",
            )
            cp.write(buf.getvalue())
    return len(df)


class _Loader:
    """A small job pool: COPY jobs first; each finished COPY queues its key, then its indexes.

    Every worker thread has its own connection. Index builds on one table run side by side
    (CREATE INDEX takes a SHARE lock); only ADD PRIMARY KEY needs the table alone, so it
    goes first.
    """

    def __init__(self, dsn: str, frames: dict[str, pl.DataFrame], workers: int,
                 all_indexes: bool) -> None:
        self.dsn, self.frames = dsn, frames
        self.keys = key_statements(all_indexes)
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="synth-load")
        self.local = threading.local()
        self.lock = threading.Lock()
        self.conns: list[psycopg.Connection] = []
        self.pending = 0
        self.idle = threading.Event()
        self.errors: list[BaseException] = []
        self.counts: dict[str, int] = {}

    def conn(self) -> psycopg.Connection:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = psycopg.connect(self.dsn, autocommit=True)
            conn.execute("SET maintenance_work_mem = '256MB'")
            conn.execute("SET default_statistics_target = 50")
            with self.lock:
                self.conns.append(conn)
            self.local.conn = conn
        return conn

    def submit(self, fn: Callable[..., None], *args: Any) -> None:
        with self.lock:
            if self.errors:
                return
            self.pending += 1
            self.idle.clear()
        self.pool.submit(self._run, fn, *args)

    def _run(self, fn: Callable[..., None], *args: Any) -> None:
        try:
            fn(*args)
        except BaseException as exc:  # reported by run()
            with self.lock:
                self.errors.append(exc)
        finally:
            with self.lock:
                self.pending -= 1
                if self.pending == 0:
                    self.idle.set()

    def copy(self, table: str) -> None:
        conn = self.conn()
        with conn.transaction():
            n = _copy_table(conn, table, self.frames[table])
        with self.lock:
            self.counts[table] = n
        self.submit(self.primary_key, table)

    def primary_key(self, table: str) -> None:
        stmts = self.keys[table]
        self.conn().execute(stmts[0])
        for stmt in stmts[1:]:
            self.submit(self.sql, stmt)
        # statistics for the generated columns; the rest hold one default value each
        cols = ", ".join(quote(c) for c in self.frames[table].columns)
        self.submit(self.sql, f"ANALYZE {quote(table)} ({cols})")
        if TABLES[table][0] == ("id", "serial"):
            self.submit(self.sql, (
                f"SELECT setval(pg_get_serial_sequence('{quote(table)}', 'id'), "
                f"COALESCE((SELECT max(id) FROM {quote(table)}), 0) + 1, false)"
            ))

    def sql(self, stmt: str) -> None:
        self.conn().execute(stmt)

    def run(self) -> dict[str, int]:
        try:
            for table in sorted(self.frames, key=lambda t: -len(self.frames[t])):
                self.submit(self.copy, table)
            self.idle.wait()
        finally:
            self.pool.shutdown(wait=True)
            for conn in self.conns:
                conn.close()
        if self.errors:
            raise self.errors[0]
        return self.counts


def load_pg(dsn: str, frames: dict[str, pl.DataFrame], *, replace: bool = True,
            all_indexes: bool = False) -> dict[str, int]:
    """Create the schema and load ``frames`` (COPY, then keys, then ANALYZE); rows per table.

    ``replace`` drops existing source tables first: this is for synthetic databases only.
    ``all_indexes`` also builds the web-app indexes of the dump that the backfill never uses.
    """
    t0 = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        create_pg_schema(conn, keys=False, replace=replace)
    counts = _Loader(dsn, frames, WORKERS, all_indexes).run()
    elapsed = time.perf_counter() - t0
    total = sum(counts.values())
    log.info("loaded %d rows into %d tables in %.2fs (%.0f rows/s)", total, len(counts),
             elapsed, total / elapsed if elapsed else 0.0)
    return {t: counts[t] for t in frames}


def load_metric_tables(dsn: str, frames: dict[str, pl.DataFrame]) -> dict[str, int]:
    """Create the legacy metric tables (replacing any) and load ``frames`` into them, then their
    keys and statistics; rows per table. One connection: they are a fraction of the sources."""
    counts = {}
    with psycopg.connect(dsn, autocommit=True) as conn:
        create_metric_tables(conn)
        for table, df in frames.items():
            with conn.transaction():
                counts[table] = _copy_table(conn, table, df)
            conn.execute(metric_table_key(table))
            conn.execute(f"ANALYZE {quote(table)}")
    return counts


def seed_pg(dsn: str, scale: float, seed: int) -> dict[str, int]:
    """Generate and load the Postgres source tables; rows per table."""
    return load_pg(dsn, generate_pg(scale, seed))

