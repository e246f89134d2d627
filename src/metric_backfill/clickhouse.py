"""One ClickHouse connection object for chdb (embedded) and ClickHouse servers.

chdb is in-process, allows one data path per process and is not thread-safe, so every call
to it goes through one shared client under a lock. A server gets one clickhouse-connect
client per thread (clients are not safe to share between concurrent queries).
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pyarrow as pa

from .chdbdedup import chdb_path, rearm_lost_blocks
from .errors import NETWORK_MARKERS, TransientError, UserError, first_line, redact

# clickhouse-connect logs a warning before raising a transport error; printed, it would be a
# second line beside the one-line error that already carries the cause.
logging.getLogger("clickhouse_connect").addHandler(logging.NullHandler())

_CHDB_CLIENTS: dict[str, Any] = {}
_CHDB_LOCK = threading.RLock()


def string_literal(text: str) -> str:
    """Any text as a ClickHouse string literal (backslash and quote escaped)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def quote_ident(name: str) -> str:
    """One ClickHouse identifier (a database, a table, a column) in backquotes, escaped."""
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def is_chdb(dsn: str) -> bool:
    return dsn.startswith("chdb:")


def check_dsn(dsn: str, what: str) -> None:
    u = urlparse(dsn)
    if u.scheme == "chdb":
        if not (u.path or u.netloc):
            raise UserError(f"{what}: chdb DSN needs a path, e.g. chdb:///srv/backfill/ch")
        return
    if u.scheme not in ("http", "https", "clickhouse", "clickhouses"):
        raise UserError(
            f"{what}: unsupported DSN {redact(dsn)!r} (use chdb:///path or http(s)://user:pass@host:port/db)"
        )
    if not u.hostname:
        raise UserError(f"{what}: DSN {redact(dsn)!r} has no host")


@dataclass
class ClickHouse:
    """Thread-safe access to one ClickHouse (chdb path or server) through clickhouse-connect."""

    dsn: str
    _local: threading.local = field(default_factory=threading.local, repr=False)
    _settings: dict[frozenset[str], frozenset[str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        check_dsn(self.dsn, "ClickHouse")

    @property
    def embedded(self) -> bool:
        return is_chdb(self.dsn)

    def client(self) -> Any:
        """The clickhouse-connect client: per thread for a server; for chdb the one shared client,
        which must not be used by two threads at once (this class holds its lock around calls)."""
        import clickhouse_connect

        if self.embedded:
            with _CHDB_LOCK:
                client = _CHDB_CLIENTS.get(self.dsn)
                if client is None:
                    if not _CHDB_CLIENTS:  # chdb has no path open in this process yet
                        _rearm_before_open(self.dsn)
                    try:
                        client = clickhouse_connect.get_client(dsn=self.dsn)
                    except Exception as e:
                        raise UserError(f"chdb: {redact(str(e)).splitlines()[0]}") from e
                    _CHDB_CLIENTS[self.dsn] = client
                return client
        client = getattr(self._local, "client", None)
        if client is None:
            try:
                client = clickhouse_connect.get_client(
                    dsn=self.dsn, autogenerate_session_id=False, connect_timeout=10,
                    send_receive_timeout=600,
                )
            except Exception as e:
                raise classify_ch_error(e) from e
            self._local.client = client
        return client

    def _call(self, fn_name: str, *args: Any, **kwargs: Any) -> Any:
        client = self.client()
        try:
            if self.embedded:
                with _CHDB_LOCK:
                    return getattr(client, fn_name)(*args, **kwargs)
            return getattr(client, fn_name)(*args, **kwargs)
        except UserError:
            raise
        except Exception as e:
            raise classify_ch_error(e) from e

    def ping(self, what: str) -> None:
        """One trivial query, so a closed port, a wrong password or a locked chdb path is a
        one-line error (exit 2) before anything is written, instead of retries mid-run."""
        try:
            self.query_rows("SELECT 1")
        except Exception as e:
            msg = " ".join(line.strip() for line in redact(str(e)).splitlines() if line.strip())
            msg = msg.removeprefix("ClickHouse: ") or type(e).__name__
            raise UserError(f"ClickHouse {what} {redact(self.dsn)}: {msg}") from e

    def command(self, sql: str, settings: dict | None = None) -> Any:
        return self._call("command", sql, settings=settings)

    def query_rows(self, sql: str, settings: dict | None = None) -> list[tuple]:
        return self._call("query", sql, settings=settings).result_rows

    def stream_arrow(self, sql: str, settings: dict | None = None) -> Iterator[pa.RecordBatch]:
        """The result in Arrow batches as the server sends them (chdb: fetched whole)."""
        if self.embedded:
            yield from self._call("query_arrow", sql, settings=settings).to_batches()
            return
        try:
            with self.client().query_arrow_stream(sql, settings=settings) as batches:
                yield from batches
        except Exception as e:
            raise classify_ch_error(e) from e

    def supported(self, settings: dict[str, Any]) -> dict[str, Any]:
        """Only the settings this server knows (newer ones are sent only where they exist)."""
        known = self._known_settings(frozenset(settings))
        return {k: v for k, v in settings.items() if k in known}

    def _known_settings(self, names: frozenset[str]) -> frozenset[str]:
        if names not in self._settings:
            listed = ", ".join(string_literal(n) for n in sorted(names))
            rows = self.query_rows(f"SELECT name FROM system.settings WHERE name IN ({listed})")
            self._settings[names] = frozenset(name for (name,) in rows)
        return self._settings[names]

    def query_arrow(self, sql: str) -> pa.Table:
        return self._call("query_arrow", sql)

    def insert_arrow(self, table: str, data: pa.Table, settings: dict | None = None) -> None:
        if self.embedded:
            self._insert_arrow_file(table, data, settings or {})
        else:
            self._call("insert_arrow", table, data, settings=settings)

    def _insert_arrow_file(self, table: str, data: pa.Table, settings: dict) -> None:
        """chdb reads an insert from a file: the Arrow stream is written straight to one (in
        the chdb directory, so a killed run leaves it where the next open sweeps it) rather
        than built in memory and copied out by the driver — a fifth less CPU per insert."""
        import pyarrow.ipc as ipc

        spool = insert_spool(self.dsn)
        spool.mkdir(exist_ok=True)
        path = spool / f"{os.getpid()}-{threading.get_ident()}.arrows"
        try:
            with ipc.new_stream(str(path), data.schema) as writer:
                writer.write_table(data)
            clause = ", ".join(f"{k} = {string_literal(v) if isinstance(v, str) else v}"
                               for k, v in settings.items())
            self.command(f"INSERT INTO {table} FROM INFILE {string_literal(str(path))}"
                         + (f" SETTINGS {clause}" if clause else "") + f" FORMAT {EMBEDDED_INSERT_FORMAT}")
        finally:
            path.unlink(missing_ok=True)


def sweep_spool(spool: Path) -> None:
    """Remove the spool files of processes that are gone. Another process may hold the path
    (chdb refuses this one a moment later): its file, between write and insert, stays."""
    for f in spool.glob("*.arrows") if spool.is_dir() else ():
        pid = f.name.split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            f.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # a PermissionError means alive, as another user's process
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


EMBEDDED_INSERT_FORMAT = "ArrowStream"
"""How an insert reaches chdb (the spool file's format): part of how a batch becomes blocks."""


def insert_spool(dsn: str) -> Path:
    """Where inserts into a chdb path are spooled (``sweep_spool`` runs before chdb opens it)."""
    path = chdb_path(dsn)
    if path is None:
        return Path(tempfile.gettempdir())
    return path / "metric_backfill_spool"


def _rearm_before_open(dsn: str) -> None:
    """A crash of this process is a crash of the embedded ClickHouse: before chdb loads the
    path, let the tokens of parts that the crash lost insert again (see chdbdedup), and drop
    the insert files it left."""
    path = chdb_path(dsn)
    if path is None or not path.is_dir():
        return
    sweep_spool(insert_spool(dsn))
    try:
        lost = rearm_lost_blocks(path)
    except OSError as e:
        raise UserError(f"chdb: cannot check the deduplication logs under {path}: {e}") from e
    for r in lost:
        print(f"note: chdb: part {r.part} of {r.table_dir.name} was lost in a crash before it "
              f"was committed; its deduplication token is re-armed so the retry inserts it",
              file=sys.stderr)


class TransientClickHouseError(TransientError):
    """A ClickHouse failure worth retrying (network, restart, too many parts, ...)."""


# ClickHouse error codes that may pass: timeouts, network, too many parts, memory pressure,
# table/replica readonly during restart, keeper session.
_RETRYABLE_CODES = {
    159, 164, 202, 203, 209, 210, 241, 242, 252, 285, 319, 425, 999, 1000, 1002,
}
_TRANSIENT_MARKERS = NETWORK_MARKERS + (
    "remote end closed", "max retries exceeded", "temporarily unavailable", "too many parts",
    "network", "connection aborted",
)


# A refused login is never retried: UNKNOWN_USER, WRONG_PASSWORD, REQUIRED_PASSWORD,
# AUTHENTICATION_FAILED. Checked first: the message also carries the server's URL, which may
# contain a transient marker.
_AUTH_CODES = {192, 193, 194, 516}


def classify_ch_error(e: Exception) -> Exception:
    first, low = first_line(e), redact(str(e)).lower()
    code = getattr(e, "code", None)
    if code in _AUTH_CODES or "authentication" in low or "code: 516" in low:
        return UserError(f"ClickHouse: {first}")
    if (isinstance(code, int) and code in _RETRYABLE_CODES) or any(m in low for m in _TRANSIENT_MARKERS):
        return TransientClickHouseError(f"ClickHouse: {first}")
    return RuntimeError(f"ClickHouse: {first}")
