"""The destination event table: create it if missing, check it if present, never alter it.

Its name comes from the command line, so it is checked to be an identifier (optionally
``db.table``) before any SQL is built, and still quoted and escaped wherever it is used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa

from .clickhouse import ClickHouse, quote_ident, string_literal
from .errors import UserError
from .events import Window
from .sources import ms_text

REQUIRED_COLUMNS = {
    "entityType": ("LowCardinality(String)", "String"),
    "entityId": ("Int32",),
    "userId": ("Int32",),
    "metricType": ("LowCardinality(String)", "String"),
    "metricValue": ("Int32",),
    "createdAt": ("DateTime64(3)", "DateTime64(3, 'UTC')", "DateTime64(3, 'Etc/UTC')"),
}

DEDUP_WINDOW = 100_000

_TABLE_NAME = re.compile(r"(?:[A-Za-z_][A-Za-z0-9_]*\.)?[A-Za-z_][A-Za-z0-9_]*")


def check_table_name(name: str) -> None:
    if not _TABLE_NAME.fullmatch(name):
        raise UserError(
            f"--table: {name!r} is not a table name (letters, digits and _, not starting with "
            "a digit; optionally db.table)"
        )


def _quote(name: str) -> str:
    return ".".join(quote_ident(p) for p in name.split("."))


@dataclass
class Target:
    ch: ClickHouse
    table: str

    def __post_init__(self) -> None:
        check_table_name(self.table)

    @property
    def quoted(self) -> str:
        return _quote(self.table)

    def _db_and_table(self) -> tuple[str, str]:
        if "." in self.table:
            db, tbl = self.table.split(".", 1)
            return string_literal(db), string_literal(tbl)
        return "currentDatabase()", string_literal(self.table)

    def columns(self) -> dict[str, str]:
        db, tbl = self._db_and_table()
        rows = self.ch.query_rows(
            f"SELECT name, type FROM system.columns WHERE database = {db} AND table = {tbl}"
        )
        return {name: typ for name, typ in rows}

    def exists(self) -> bool:
        return bool(self.columns())

    def ensure(self) -> bool:
        """Create the table if missing (True) or check its columns (False)."""
        cols = self.columns()
        if not cols:
            if "." in self.table:
                self.ch.command(f"CREATE DATABASE IF NOT EXISTS {quote_ident(self.table.split('.')[0])}")
            self.ch.command(
                f"""CREATE TABLE IF NOT EXISTS {self.quoted} (
                    entityType LowCardinality(String),
                    entityId Int32,
                    userId Int32,
                    metricType LowCardinality(String),
                    metricValue Int32,
                    createdAt DateTime64(3)
                ) ENGINE = MergeTree
                PARTITION BY toYYYYMM(createdAt)
                ORDER BY (entityType, entityId, createdAt)
                SETTINGS non_replicated_deduplication_window = {DEDUP_WINDOW}"""
            )
            return True
        problems = []
        for name, allowed in REQUIRED_COLUMNS.items():
            if name not in cols:
                problems.append(f"missing column {name}")
            elif cols[name] not in allowed:
                problems.append(f"{name} is {cols[name]}, expected {allowed[0]}")
        if problems:
            raise UserError(f"target table {self.table} is not compatible: {'; '.join(problems)}")
        return False

    def dedup_active(self) -> bool:
        """Does an insert token actually deduplicate on this table?"""
        db, tbl = self._db_and_table()
        rows = self.ch.query_rows(
            f"SELECT engine, create_table_query FROM system.tables WHERE database = {db} AND name = {tbl}"
        )
        if not rows:
            return False
        engine, ddl = rows[0]
        if "Replicated" in engine or engine.startswith("Shared"):
            return True
        import re

        m = re.search(r"non_replicated_deduplication_window\s*=\s*(\d+)", ddl)
        return bool(m and int(m.group(1)) > 0)

    @staticmethod
    def insert_settings(token: str) -> dict:
        """Synchronous, deduplicated by the batch's token, any number of monthly partitions."""
        return {"insert_deduplication_token": token, "insert_deduplicate": 1, "async_insert": 0,
                "max_partitions_per_insert_block": 0}

    def insert(self, events: pa.Table, token: str) -> None:
        self.ch.insert_arrow(self.quoted, events, settings=self.insert_settings(token))

    def _window_sql(self, window: Window) -> str:
        cond = f"createdAt < toDateTime64('{ms_text(window.cutoff)}', 3, 'UTC')"
        if window.since is not None:
            cond += f" AND createdAt >= toDateTime64('{ms_text(window.since)}', 3, 'UTC')"
        return cond

    def _metric_sql(self, metrics: list[str]) -> str:
        pairs = ", ".join(
            "('{}', '{}')".format(*m.split(".", 1)) for m in sorted(metrics)
        )
        return f"(entityType, metricType) IN ({pairs})"

    def count_existing(self, metrics: list[str], window: Window) -> dict[str, int]:
        """Events already in the target for these metrics inside the window."""
        if not metrics:
            return {}
        rows = self.ch.query_rows(
            f"SELECT entityType, metricType, count() FROM {self.quoted} "
            f"WHERE {self._metric_sql(metrics)} AND {self._window_sql(window)} "
            f"GROUP BY entityType, metricType"
        )
        return {f"{e}.{m}": int(n) for e, m, n in rows}

    def sums(self, metrics: list[str], window: Window) -> pa.Table:
        """SUM(metricValue) per (entityType, entityId, metricType) inside the window."""
        return self.ch.query_arrow(
            f"SELECT entityType, entityId, metricType, toInt64(sum(metricValue)) AS value "
            f"FROM {self.quoted} WHERE {self._metric_sql(metrics)} AND {self._window_sql(window)} "
            f"GROUP BY entityType, entityId, metricType"
        )
