"""One process at a time per state directory.

A state directory holds one plan and its ledger. Two processes sharing it would replace each
other's ``plan.json`` and interleave their ledgers, and the first could never be resumed. So
``run`` (from preflight to the last ledger line) and ``load`` hold an exclusive ``flock`` on
``DIR/lock`` for their whole duration, taken without waiting: a second process is refused at
once instead of queueing behind a backfill that may take hours. The kernel releases the lock
when its holder exits, SIGKILL included, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import UserError

LOCK_FILE = "lock"


@contextmanager
def state_lock(state: Path) -> Iterator[None]:
    """Hold the state directory for the duration of the block, or raise ``UserError``."""
    check_state_dir(state)
    state.mkdir(parents=True, exist_ok=True)
    path = state / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = path.read_text().strip() or "unknown"
            raise UserError(f"state directory {state} is in use: another run holds it (pid "
                            f"{holder}); wait for it to end, or use another --state") from None
        # the holder's pid, for the message above only: the lock itself is the flock
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)


def check_state_dir(state: Path) -> None:
    """The state directory is one, or can be made one, and is writable: checked before the
    target is touched, so a bad ``--state`` does not leave a created table behind."""
    existing = state.absolute()
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        raise UserError(f"--state {state}: {existing} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UserError(f"--state {state}: {existing} is not writable")
