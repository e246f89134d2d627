"""Reading source rows: Postgres through ConnectorX, ClickHouse through clickhouse-connect.

Both speak the same small interface (time literals, key-range probes, a batch query → Polars)
so the planner and the engine never care which one a package reads.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from urllib.parse import quote, unquote

import polars as pl
import pyarrow as pa

from .clickhouse import ClickHouse
from .errors import NETWORK_MARKERS, TransientError, UserError, first_line, redact
from .events import Window
from .package import Package

KeyValue = int | datetime


def ms_text(dt: datetime) -> str:
    # the year padded by hand: strftime gives "1-01-01" for year 1, which ClickHouse reads as 2001
    return f"{dt.year:04d}-{dt:%m-%d %H:%M:%S}.{dt.microsecond // 1000:03d}"


def ch_time_literal(dt: datetime) -> str:
    """A naive-UTC time as a ClickHouse DateTime64(3) literal."""
    return f"toDateTime64('{ms_text(dt)}', 3, 'UTC')"


class Source(Protocol):
    lowest_time: str

    def time_literal(self, dt: datetime) -> str: ...
    def count_nulls(self, expr: str) -> str: ...
    def fetch(self, sql: str, settings: dict[str, str] | None = None) -> pl.DataFrame: ...
    def stream(self, sql: str) -> Iterator[pa.RecordBatch]: ...


STREAM_ROWS = 100_000
"""Rows per Arrow batch when a result is streamed rather than fetched whole (verify)."""


BATCH_SESSION = {"max_parallel_workers_per_gather": "0", "jit": "off"}
"""Postgres settings of the sessions that read batches. The engine already runs
``--concurrency`` batches side by side; parallel workers on top of that cost more CPU than
they save (a Gather of three processes per batch) and take the source's workers from its other
users; JIT compiling a batch query costs more than running it."""


def with_session_settings(dsn: str, settings: dict[str, str]) -> str:
    """The URL DSN with ``-c name=value`` options in front of any the user gave (theirs win)."""
    base, _, fragment = dsn.partition("#")
    path, q, query = base.partition("?")
    flags = " ".join(f"-c {k}={v}" for k, v in settings.items())
    pairs = [p for p in query.split("&") if p] if q else []
    given = [p for p in pairs if p.split("=", 1)[0] == "options"]
    merged = quote(flags + (" " + unquote(given[0].split("=", 1)[1]) if given else ""))
    pairs = [p for p in pairs if p not in given] + [f"options={merged}"]
    return f"{path}?{'&'.join(pairs)}" + (f"#{fragment}" if fragment else "")


@dataclass
class PostgresSource:
    dsn: str
    lowest_time = "TIMESTAMP '-infinity'"

    def batch_dsn(self, settings: dict[str, str] | None = None) -> str:
        return with_session_settings(self.dsn, {**BATCH_SESSION, **(settings or {})})

    def time_literal(self, dt: datetime) -> str:
        return f"TIMESTAMP '{ms_text(dt)}'"

    def count_nulls(self, expr: str) -> str:
        return f"count(*) FILTER (WHERE {expr} IS NULL)"

    def ping(self) -> None:
        """Connect once, quickly, so a wrong DSN is a one-line error before anything runs."""
        import psycopg

        try:
            with psycopg.connect(self.dsn, connect_timeout=10) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as e:
            msg = " ".join(line.strip() for line in redact(str(e)).splitlines() if line.strip())
            raise UserError(f"Postgres {redact(self.dsn)}: {msg or type(e).__name__}") from e
        except Exception as e:  # malformed DSN
            raise UserError(f"Postgres DSN {redact(self.dsn)!r}: {redact(str(e))}") from e

    def fetch(self, sql: str, settings: dict[str, str] | None = None) -> pl.DataFrame:
        """The whole result, read in a session with ``BATCH_SESSION`` and ``settings``."""
        os.environ.setdefault("RUST_LOG", "off")  # ConnectorX's pool logs every retry otherwise
        import connectorx as cx

        try:
            table = cx.read_sql(self.batch_dsn(settings), sql, return_type="arrow")
        except Exception as e:  # ConnectorX raises bare RuntimeErrors
            raise classify_pg_error(e) from e
        return pl.from_arrow(table)  # type: ignore[return-value]

    def stream(self, sql: str) -> Iterator[pa.RecordBatch]:
        """The result in batches of ``STREAM_ROWS``: memory stays flat whatever its size."""
        os.environ.setdefault("RUST_LOG", "off")
        import connectorx as cx

        try:
            reader = cx.read_sql(self.dsn, sql, return_type="arrow_stream", batch_size=STREAM_ROWS)
            yield from reader
        except Exception as e:
            raise classify_pg_error(e) from e
        except BaseException as e:  # an error after the first batch arrives as a Rust panic
            if type(e).__name__ != "PanicException":
                raise
            raise classify_pg_error(RuntimeError(panic_message(e))) from None


@dataclass
class ClickHouseSource:
    ch: ClickHouse
    lowest_time = "toDateTime64('1900-01-01 00:00:00.000', 3, 'UTC')"

    def time_literal(self, dt: datetime) -> str:
        return ch_time_literal(dt)

    def count_nulls(self, expr: str) -> str:
        return f"countIf({expr} IS NULL)"

    def fetch(self, sql: str, settings: dict[str, str] | None = None) -> pl.DataFrame:
        """The rows, with every time column as a Polars datetime in its own unit (``settings``
        are Postgres session settings: none apply here).

        ClickHouse's Arrow output gives ``DateTime`` as UInt32 seconds and ``Date`` as UInt16
        days (only ``DateTime64`` is an Arrow timestamp), so a plain integer column may be a
        time: the query's own column types (``DESCRIBE``) say which, and by what unit.
        """
        table = self.ch.query_arrow(sql)
        frame: pl.DataFrame = pl.from_arrow(table)  # type: ignore[assignment]
        narrow = [f.name for f in table.schema if f.type in (pa.uint32(), pa.uint16())]
        if not narrow:
            return frame
        types = {row[0]: _base_type(row[1]) for row in self.ch.query_rows(f"DESCRIBE ({sql})")}
        units = {name: _EPOCH_UNITS.get(types.get(name, "")) for name in narrow}
        fixes = [pl.from_epoch(name, unit).cast(pl.Datetime("ms")).alias(name)
                 for name, unit in units.items() if unit]
        return frame.with_columns(fixes) if fixes else frame


    def stream(self, sql: str) -> Iterator[pa.RecordBatch]:
        return self.ch.stream_arrow(sql)


_EPOCH_UNITS = {"DateTime": "s", "Date": "d"}
"""ClickHouse types that reach Arrow as integers since the epoch, and their unit."""


def _base_type(ch_type: str) -> str:
    """``Nullable(DateTime('UTC'))`` → ``DateTime``: the type family, wrappers removed."""
    t = ch_type
    for wrapper in ("Nullable(", "LowCardinality("):
        while t.startswith(wrapper):
            t = t[len(wrapper):-1]
    return t.split("(", 1)[0]


class TransientSourceError(TransientError):
    """A read failed for a reason that may pass (connection lost, server restarting)."""


_TRANSIENT_MARKERS = NETWORK_MARKERS + (
    "terminating connection", "server closed the connection", "the database system is",
    "could not connect", "connection closed", "unexpected eof", "error connecting",
    "administrator command", "shutting down", "starting up",
    # SQLSTATE 40001: a replica cancelling a read that conflicts with WAL replay, and
    # serialization failures; the same query succeeds when run again
    "conflict with recovery", "could not serialize access",
)
# Errors no retry can fix: a refused login (SQLSTATE 28P01 / 28000) or a missing database,
# role, table or column. Checked before the transient markers because ConnectorX's pool wraps
# a refused login in "timed out waiting for connection", which would otherwise be retried.
_PERMANENT_SQLSTATES = {"28P01", "28000"}
_PERMANENT_MARKERS = ("authentication failed", "no pg_hba.conf entry", "does not exist")


def panic_message(e: BaseException) -> str:
    """What Postgres said, out of the Debug text of the error ConnectorX's stream panics with
    (``… DbError { …, message: "bigint out of range", … }``); the whole text if it has none."""
    found = re.search(r'message: "((?:[^"\\]|\\.)*)"', str(e))
    return found.group(1) if found else str(e)


def classify_pg_error(e: Exception) -> Exception:
    text = first_line(e)
    low = str(e).lower()
    if getattr(e, "sqlstate", None) in _PERMANENT_SQLSTATES or any(m in low for m in _PERMANENT_MARKERS):
        return UserError(f"Postgres: {text}")
    if any(m in low for m in _TRANSIENT_MARKERS):
        return TransientSourceError(f"Postgres: {text}")
    return RuntimeError(f"Postgres: {text}")


def source_for(pkg: Package, pg: PostgresSource | None, ch: ClickHouseSource | None) -> Source:
    src = pg if pkg.source == "postgres" else ch
    if src is None:
        raise UserError(f"package {pkg.name} reads {pkg.source}, but no DSN was given for it")
    return src


def key_literal(src: Source, value: KeyValue) -> str:
    return src.time_literal(value) if isinstance(value, datetime) else str(int(value))


def window_sql(pkg: Package, src: Source, window: Window) -> str:
    """Rows with at least one of the package's event times inside ``[since, cutoff)``."""
    clause = " OR ".join(f"({window.sql(col, src.time_literal)})" for col in pkg.time_filter)
    if pkg.where:
        clause = f"({clause}) AND ({pkg.where})"
    return clause


def range_sql(pkg: Package, src: Source, lo: KeyValue | None, hi: KeyValue | None,
              null_key: bool = False) -> str:
    if null_key:
        return f"{pkg.key} IS NULL"
    conds = []
    for expr in (pkg.key, *pkg.key_also):
        if lo is not None:
            conds.append(f"{expr} >= {key_literal(src, lo)}")
        if hi is not None:
            conds.append(f"{expr} < {key_literal(src, hi)}")
    return " AND ".join(conds) or f"{pkg.key} IS NOT NULL"


def batch_sql(pkg: Package, src: Source, window: Window, lo: KeyValue | None,
              hi: KeyValue | None, null_key: bool = False) -> str:
    return (
        f"SELECT {pkg.columns} FROM {pkg.from_sql} "
        f"WHERE ({range_sql(pkg, src, lo, hi, null_key)}) AND ({window_sql(pkg, src, window)})"
    )


def probe_sql(pkg: Package, src: Source, window: Window) -> str:
    return (
        f"SELECT min({pkg.key}) AS lo, max({pkg.key}) AS hi, count(*) AS n, "
        f"{src.count_nulls(pkg.key)} AS nulls FROM {pkg.probe_from or pkg.from_sql} "
        f"WHERE {window_sql(pkg, src, window)}"
    )


def window_literals(src: Source, window: Window) -> dict[str, str]:
    """``{since}`` / ``{cutoff}`` for the verify SQL templates."""
    since = src.time_literal(window.since) if window.since else src.lowest_time
    return {"since": since, "cutoff": src.time_literal(window.cutoff)}


def load_lookups(packages: list[Package], pg: Source | None) -> dict[str, pl.DataFrame]:
    """Every Postgres lookup the packages declare, loaded once (e.g. ModelVersion → modelId)."""
    lookups: dict[str, pl.DataFrame] = {}
    for pkg in packages:
        for name, sql in pkg.lookups.items():
            if name in lookups:
                continue
            if pg is None:
                raise UserError(f"package {pkg.name} needs --pg for its lookup {name}")
            lookups[name] = pg.fetch(sql)
    return lookups
