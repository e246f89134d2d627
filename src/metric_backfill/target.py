"""The destination event table: create it if missing, check it if present, never alter it.

Its name comes from the command line, so it is checked to be an identifier (optionally
``db.table``) before any SQL is built, and still quoted and escaped wherever it is used.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import pyarrow as pa

from .clickhouse import EMBEDDED_INSERT_FORMAT, ClickHouse, quote_ident, string_literal
from .errors import UserError
from .events import EVENT_ARROW_SCHEMA, EVENT_COLUMNS, Window
from .sources import ch_time_literal

REQUIRED_COLUMNS = {c.name: c.clickhouse for c in EVENT_COLUMNS}

DEDUP_WINDOW = 100_000

INSERT_SETTINGS: dict[str, object] = {
    "insert_deduplicate": 1,
    "deduplicate_insert": "enable",
    "async_insert": 0,
    "max_partitions_per_insert_block": 0,
    "max_insert_threads": 1,
    "max_insert_block_size": 1_048_449,
    "min_insert_block_size_rows": 1_048_449,
    "min_insert_block_size_bytes": 268_402_944,
    "use_strict_insert_block_limits": 0,
}
"""Every insert, on every path. A deduplication token names a batch; ClickHouse suffixes it per
block, so the blocks must be cut the same way on a retry: the squashing sizes are pinned to
ClickHouse's long-standing defaults and writing is single-threaded (a parallel insert splits
blocks at racy points: the same batch inserted twice was not deduplicated)."""

SERVER_SIDE_INSERT_SETTINGS: dict[str, object] = {
    "max_threads": 1,
    "max_block_size": 65_409,
    "deduplicate_insert_select": "force_enable",
}
"""Added for a pushed-down INSERT … SELECT: one reading thread and a fixed block size keep the
ordered SELECT a single, stable stream; ``force_enable`` makes the server deduplicate it."""

INSERT_LAYOUT = hashlib.sha256(
    repr((INSERT_SETTINGS, SERVER_SIDE_INSERT_SETTINGS, str(EVENT_ARROW_SCHEMA),
          EMBEDDED_INSERT_FORMAT)).encode()
).hexdigest()[:12]
"""A version of how a batch becomes insert blocks; part of every plan's fingerprint."""

_TABLE_NAME = re.compile(r"(?:[A-Za-z_][A-Za-z0-9_]*\.)?[A-Za-z_][A-Za-z0-9_]*")


def check_table_name(name: str) -> None:
    if not _TABLE_NAME.fullmatch(name):
        raise UserError(
            f"--table: {name!r} is not a table name (letters, digits and _, not starting with "
            "a digit; optionally db.table)"
        )


def _column_ddl() -> str:
    return ", ".join(f"{c.name} {c.clickhouse[0]}" for c in EVENT_COLUMNS)


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

    @property
    def database(self) -> str:
        """The database holding the table (the connection's default when unqualified)."""
        if "." in self.table:
            return self.table.split(".", 1)[0]
        return str(self.ch.query_rows("SELECT currentDatabase()")[0][0])

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
                f"""CREATE TABLE IF NOT EXISTS {self.quoted} ({_column_ddl()}) ENGINE = MergeTree
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

    def insert_settings(self, token: str, server_side: bool = False) -> dict:
        """Synchronous, deduplicated by the batch's token, any number of monthly partitions —
        and block formation pinned, so a retry cuts the same blocks (the token is suffixed per
        block) whatever the server's profile: one insert thread, fixed squashing sizes, and
        for a server-side INSERT … SELECT one reading thread too."""
        pinned = dict(INSERT_SETTINGS)
        if server_side:
            pinned |= SERVER_SIDE_INSERT_SETTINGS
        return {"insert_deduplication_token": token, **self.ch.supported(pinned)}

    def insert(self, events: pa.Table, token: str) -> None:
        self.ch.insert_arrow(self.quoted, events, settings=self.insert_settings(token))

    def window_condition(self, window: Window) -> str:
        return window.sql("createdAt", ch_time_literal)

    def metric_condition(self, metrics: list[str]) -> str:
        # names may come from audit files (load): literals, escaped
        pairs = ", ".join(
            "({}, {})".format(*map(string_literal, m.split(".", 1))) for m in sorted(metrics)
        )
        return f"(entityType, metricType) IN ({pairs})"

    def count_existing(self, metrics: list[str], window: Window) -> dict[str, int]:
        """Events already in the target for these metrics inside the window."""
        if not metrics:
            return {}
        rows = self.ch.query_rows(
            f"SELECT entityType, metricType, count() FROM {self.quoted} "
            f"WHERE {self.metric_condition(metrics)} AND {self.window_condition(window)} "
            f"GROUP BY entityType, metricType"
        )
        return {f"{e}.{m}": int(n) for e, m, n in rows}
