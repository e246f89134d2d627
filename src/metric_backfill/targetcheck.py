"""Is an existing target safe to backfill? Checked before the first write, never altered.

A metric is ``SUM(metricValue)`` over every event ever written, so the table must keep every
row as written: only plain ``MergeTree`` and its Replicated/Shared variants qualify. Memory,
Log, Null and Buffer lose rows; Replacing/Collapsing/Summing/Aggregating MergeTree merge them
away; a TTL that deletes rows (or a column TTL, which resets values) expires them. A TTL that
only moves or recompresses parts is harmless.

Exactly-once also needs the table to honour insert tokens: a deduplication window of blocks
(``non_replicated_deduplication_window`` / ``replicated_deduplication_window``) and, on
Replicated/Shared tables, of seconds (``replicated_deduplication_window_seconds``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .clickhouse import ClickHouse, quote_ident, string_literal
from .errors import UserError

SAFE_ENGINES = ("MergeTree", "ReplicatedMergeTree", "SharedMergeTree")
DEDUP_SETTINGS = ("non_replicated_deduplication_window", "replicated_deduplication_window",
                  "replicated_deduplication_window_seconds")
RECOMMENDED_WINDOW = 100_000
BLOCKS_PER_BATCH = 100
RESUME_MARGIN_S = 600
"""A resume is refused this long before the seconds window ends: the batches in flight at an
interruption inserted their blocks somewhat before the last acknowledged batch was ledgered."""


@dataclass(frozen=True)
class TableInfo:
    database: str
    name: str
    engine: str
    engine_full: str
    create_table_query: str
    defaults: dict[str, str]
    """The server's MergeTree defaults for the deduplication settings."""

    @classmethod
    def read(cls, ch: ClickHouse, table: str) -> TableInfo:
        db, name = table.split(".", 1) if "." in table else (None, table)
        db_sql = string_literal(db) if db else "currentDatabase()"
        rows = ch.query_rows(
            "SELECT database, name, engine, engine_full, create_table_query FROM system.tables "
            f"WHERE database = {db_sql} AND name = {string_literal(name)}")
        if not rows:
            raise UserError(f"target table {table} does not exist")
        listed = ", ".join(f"'{s}'" for s in DEDUP_SETTINGS)
        defaults = dict(ch.query_rows(
            f"SELECT name, value FROM system.merge_tree_settings WHERE name IN ({listed})"))
        return cls(*rows[0], defaults=defaults)

    @property
    def qualified(self) -> str:
        return f"{quote_ident(self.database)}.{quote_ident(self.name)}"

    @property
    def replicated(self) -> bool:
        return self.engine != "MergeTree"

    def setting(self, name: str) -> int:
        """The table's own value of a MergeTree setting, else the server default."""
        m = re.search(rf"\b{name}\s*=\s*'?(\d+)", _settings_clause(self.engine_full))
        return int(m.group(1) if m else self.defaults.get(name, "0"))


@dataclass(frozen=True)
class DedupWindow:
    setting: str
    blocks: int
    seconds: int | None

    def expired(self, last_write: float, now: float) -> bool:
        """Could tokens written at ``last_write`` be forgotten by ``now``?"""
        return self.seconds is not None and now - last_write > self.seconds - RESUME_MARGIN_S

    def fix(self, table: TableInfo) -> str:
        return f"ALTER TABLE {table.qualified} MODIFY SETTING {self.setting} = {RECOMMENDED_WINDOW}"


def check_target(ch: ClickHouse, table: str, resume: bool, no_dedup_check: bool,
                 concurrency: int = 1) -> tuple[TableInfo, list[str]]:
    """Before the first write: refuse a table that can lose events. A window too small to hold
    the blocks that can be in flight (0: tokens ignored) gets a notice with its fix on a fresh
    start, and refuses a resume unless told."""
    info = TableInfo.read(ch, table)
    check_engine(info)
    window = dedup_window(info)
    needed = blocks_in_flight(concurrency)
    if window.blocks >= needed:
        return info, []
    risk = (f"target {table} remembers only {window.blocks} insert tokens ({window.setting}), "
            f"fewer than the {needed} blocks that can be in flight: a crash and resume could "
            "duplicate the batches in flight")
    if not resume:
        return info, [f"{risk}; fix it once with: {window.fix(info)}"]
    if no_dedup_check:
        return info, []
    raise UserError(f"{risk}; run {window.fix(info)} or pass --no-dedup-check to accept that risk")


def blocks_in_flight(concurrency: int) -> int:
    """Blocks written between a lost batch's insert and its retry: the batches in flight at the
    crash and those running beside the retry, each one block per monthly partition it touches
    (bounded by ClickHouse's default limit of partitions per insert block)."""
    return 2 * concurrency * BLOCKS_PER_BATCH


def check_engine(table: TableInfo) -> None:
    """Refuse (exit 2, one line) an engine or TTL that can drop, merge away or expire events."""
    if table.engine not in SAFE_ENGINES:
        raise UserError(
            f"target table {table.name} has ENGINE = {table.engine}, which can drop or merge "
            f"away events; use a plain MergeTree (or its Replicated/Shared variant)")
    deleting = [e for e in _split_top(_ttl_clause(table.engine_full)) if not _moves_only(e)]
    if deleting:
        raise UserError(f"target table {table.name} has a TTL that deletes rows "
                        f"(TTL {_ttl_clause(table.engine_full)}): events would expire; remove "
                        "it or use another table")
    if re.search(r"\bTTL\b", _column_list(table.create_table_query)):
        raise UserError(f"target table {table.name} has a column TTL: expired values would "
                        "reset events to defaults; remove it or use another table")


def dedup_window(table: TableInfo) -> DedupWindow:
    if not table.replicated:
        name = "non_replicated_deduplication_window"
        return DedupWindow(name, table.setting(name), None)
    return DedupWindow("replicated_deduplication_window",
                       table.setting("replicated_deduplication_window"),
                       table.setting("replicated_deduplication_window_seconds"))


def _settings_clause(engine_full: str) -> str:
    m = re.search(r"\bSETTINGS\b(.*)$", engine_full)
    return m.group(1) if m else ""


def _ttl_clause(engine_full: str) -> str:
    m = re.search(r"\bTTL\b(.*?)(?:\bSETTINGS\b|$)", engine_full)
    return m.group(1).strip() if m else ""


def _moves_only(element: str) -> bool:
    return bool(re.search(r"\b(TO\s+(DISK|VOLUME)|RECOMPRESS)\b", element)) and not re.search(
        r"\b(DELETE|GROUP\s+BY)\b", element)


def _split_top(text: str) -> list[str]:
    """Split on commas outside parentheses and quotes."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'`\"":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def _column_list(create_query: str) -> str:
    """The text between the parentheses that follow the table name."""
    start = create_query.find("(")
    depth = 0
    for i in range(start, len(create_query)):
        depth += {"(": 1, ")": -1}.get(create_query[i], 0)
        if depth == 0:
            return create_query[start:i + 1]
    return create_query[start:]
