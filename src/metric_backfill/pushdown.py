"""Server-side batches: when a ClickHouse package's source is the target's own ClickHouse,
each batch runs as ``INSERT INTO target SELECT …`` and no row travels through Python.

Same plan, same tokens, same ledger as the Polars path. A retried batch must produce the same
blocks (and so the same deduplicated tokens): the SELECT is ordered by every event column and
runs as one stream (``Target.insert_settings(server_side=True)``: one reading and one writing
thread, pinned block sizes) — a parallel INSERT … SELECT cuts its blocks at racy points.
Postgres lookups the SQL needs (ModelVersion → modelId) are copied into the target's
ClickHouse once per run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import polars as pl

from .clickhouse import quote_ident
from .defaults import excluded_versions_sql
from .events import EVENT_COLUMN_LIST, Window
from .package import Package
from .plan import Batch
from .sources import ClickHouseSource, range_sql, window_sql
from .target import Target


def lookup_table(name: str) -> str:
    return f"metric_backfill_lookup_{name}"


@dataclass
class Pushdown:
    target: Target
    source: ClickHouseSource
    params: dict[str, object]

    def load_lookups(self, lookups: dict[str, pl.DataFrame]) -> None:
        """(id, mapped) lookups as small ClickHouse tables, replaced on every run."""
        for name, frame in lookups.items():
            table = lookup_table(name)
            self.target.ch.command(f"DROP TABLE IF EXISTS {quote_ident(table)}")
            self.target.ch.command(
                f"CREATE TABLE {quote_ident(table)} (id Int32, modelId Int32) ENGINE = MergeTree ORDER BY id"
            )
            data = frame.select(pl.col(frame.columns[0]).cast(pl.Int32).alias("id"),
                                pl.col(frame.columns[1]).cast(pl.Int32).alias("modelId"))
            self.target.ch.insert_arrow(quote_ident(table), data.to_arrow())

    def select_sql(self, pkg: Package, batch: Batch, window: Window) -> tuple[str, str]:
        """The events SELECT of one batch, and its WHERE filter."""
        assert pkg.pushdown is not None
        src = self.source
        filt = (f"({range_sql(pkg, src, batch.lo, batch.hi, batch.null_key)}) "
                f"AND ({window_sql(pkg, src, window)})")
        return pkg.pushdown.format(
            filter=filt,
            model_versions=quote_ident(lookup_table("model_versions")),
            exclude_versions=excluded_versions_sql(self.params),
        ), filt

    def run(self, pkg: Package, batch: Batch, window: Window, token: str) -> tuple[int, int, float]:
        """Insert the batch server-side; returns (source rows, events, seconds)."""
        select, filt = self.select_sql(pkg, batch, window)
        t0 = time.perf_counter()
        ch = self.target.ch
        rows = int(ch.query_rows(f"SELECT count() FROM {pkg.from_sql} WHERE {filt}")[0][0])
        events = int(ch.query_rows(f"SELECT count() FROM ({select})")[0][0])
        if events:
            ch.command(
                f"INSERT INTO {self.target.quoted} ({EVENT_COLUMN_LIST}) "
                f"SELECT * FROM ({select}) ORDER BY ALL",
                settings=self.target.insert_settings(token, server_side=True),
            )
        return rows, events, time.perf_counter() - t0
