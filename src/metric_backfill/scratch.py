"""Scratch tables: the working space of verify and compare inside the target ClickHouse, never
left behind.

verify streams expected sums (compare: legacy values) into tables of the target's database so
that the comparison runs in ClickHouse with bounded memory. Every table of one command shares a
prefix naming the command and when it started, and a random suffix
(``mb_verify_20261202T235212_1a2b3c4d_expected``, ``mb_compare_…``), so two runs never collide
and a leftover's age is in its name. They are dropped when the command ends, whatever ends it
(success, failure, SIGINT, SIGTERM, SIGHUP). A SIGKILL leaves them: the next verify or compare
drops leftovers older than a day and only names younger ones, which another run may be using.
"""

from __future__ import annotations

import re
import secrets
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from .clickhouse import ClickHouse, quote_ident, string_literal

PREFIX = "mb_verify_"
COMMANDS = ("verify", "compare")
"""The commands that make scratch tables: each names its tables ``mb_<command>_…``."""
STALE_AFTER = timedelta(days=1)
_NAME = re.compile(r"mb_(verify|compare)_(\d{8}T\d{6})_([0-9a-f]{8})_\w+")
_STAMP = "%Y%m%dT%H%M%S"


def started_at(table: str) -> datetime | None:
    """When the verify or compare owning this scratch table started (None: not a scratch
    table)."""
    m = _NAME.fullmatch(table)
    try:
        return datetime.strptime(m.group(2), _STAMP).replace(tzinfo=UTC) if m else None
    except ValueError:  # digits that are no date: not ours
        return None


def _owner(table: str) -> str:
    m = _NAME.fullmatch(table)
    return m.group(1) if m else "verify"


@dataclass
class Scratch:
    """The scratch tables of one verify (or ``command``), in ``database`` of ``ch``."""

    ch: ClickHouse
    database: str
    command: str = "verify"
    run: str = ""
    created: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.command not in COMMANDS:
            raise ValueError(f"scratch tables of an unknown command {self.command!r}")
        self.run = self.run or (f"mb_{self.command}_{datetime.now(UTC).strftime(_STAMP)}_"
                                f"{secrets.token_hex(4)}")

    def name(self, kind: str) -> str:
        return f"{quote_ident(self.database)}.{quote_ident(f'{self.run}_{kind}')}"

    def create(self, kind: str, columns: str, order_by: str) -> str:
        """A MergeTree on disk (not Memory: chdb's memory is this process's memory)."""
        table = self.name(kind)
        self.created.append(table)
        self.ch.command(f"CREATE TABLE {table} ({columns}) ENGINE = MergeTree ORDER BY ({order_by})")
        return table

    def drop(self) -> None:
        while self.created:
            self.ch.command(f"DROP TABLE IF EXISTS {self.created[-1]} SYNC")
            self.created.pop()

    def __enter__(self) -> Scratch:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        try:
            with signals_deferred():
                self.drop()
        except Exception:
            if exc_type is None:
                raise
            # the error that stopped verify is the one to report (the drop most likely failed
            # for the same reason); the next verify finds these tables and names them


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP (timeout, systemd, a cancelled CI job) end the command as Ctrl-C
    does, so its scratch tables are dropped on the way out."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {sig: signal.signal(sig, signal.default_int_handler) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


@contextmanager
def signals_deferred() -> Iterator[None]:
    """A second Ctrl-C or kill while the tables are dropped (or their loaders stopped) waits
    until that is done, then interrupts: breaking the wait would leave a loader writing into a
    table being dropped."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    sigs = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    old = {sig: signal.signal(sig, lambda signum, _: caught.append(signum)) for sig in sigs}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
    if caught:
        raise KeyboardInterrupt


def sweep_leftovers(ch: ClickHouse, database: str, log: Callable[[str], None],
                    now: datetime | None = None) -> list[str]:
    """Drop scratch tables older than a day; name the younger ones. Returns those dropped."""
    now = now or datetime.now(UTC)
    rows = ch.query_rows(
        f"SELECT name FROM system.tables WHERE database = {string_literal(database)} "
        f"AND startsWith(name, 'mb_') ORDER BY name"
    )
    dropped = []
    for (name,) in rows:
        when = started_at(name)
        if when is None:
            continue
        if now - when > STALE_AFTER:
            ch.command(f"DROP TABLE IF EXISTS {quote_ident(database)}.{quote_ident(name)} SYNC")
            dropped.append(name)
            log(f"note: dropped {database}.{name}, left by a {_owner(name)} started "
                f"{when:%Y-%m-%d %H:%M} UTC")
        else:
            log(f"note: {database}.{name} is left from a {_owner(name)} started "
                f"{when:%Y-%m-%d %H:%M} UTC; another {_owner(name)} may still use it, so it "
                f"stays until it is older than a day")
    return dropped
