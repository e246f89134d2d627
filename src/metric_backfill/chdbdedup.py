"""Re-arm deduplication tokens that an embedded chdb lost with a crash.

A non-replicated MergeTree commits an inserted part in two steps: it appends the block id to
``deduplication_logs/deduplication_log_N.txt`` (an ``ADD`` record, written through to the
file at once), then renames ``tmp_insert_*`` to the part's name. With chdb the engine lives in
our process, so a SIGKILL (OOM killer, ``kill -9``, power loss) between the two steps keeps the
block id but loses the part: on restart the ``tmp_insert_*`` directory is removed, and the retry
under the same ``insert_deduplication_token`` is dropped as a duplicate of a part that does not
exist. Those events are lost although the batch was never ledgered.

Before chdb opens a path, :func:`rearm_lost_blocks` compares each table's deduplication log with
the parts on disk and appends a ``DROP`` record (ClickHouse's own record for a dropped part)
for every block id whose part is neither on disk nor covered by a merged part on disk, so
the retry inserts it. A block whose part exists is left alone: its retry is still dropped.
"""

from __future__ import annotations

import fcntl
import os
import re
from dataclasses import dataclass
from pathlib import Path

_PART = re.compile(r"^(?P<partition>[^_]+)_(?P<min>\d+)_(?P<max>\d+)_(?P<level>\d+)(?:_\d+)?$")
_LOG = re.compile(r"^deduplication_log_(\d+)\.txt$")
_ADD, _DROP = "1", "2"


@dataclass(frozen=True)
class Rearmed:
    table_dir: Path
    part: str
    block_id: str


def chdb_path(dsn: str) -> Path | None:
    """The data directory of a ``chdb:///path`` DSN (None for an in-memory chdb)."""
    rest = dsn[len("chdb:"):].split("?", 1)[0]
    if rest.startswith("//"):
        rest = rest[2:]
    if not rest or rest in ("memory", ":memory:") or rest.startswith(("memory/", ":memory:")):
        return None
    return Path(rest)


def rearm_lost_blocks(root: Path) -> list[Rearmed]:
    """Before chdb opens ``root``: DROP-record every logged block whose part is gone — only if
    no other process has the path open. ClickHouse holds an exclusive ``flock`` on
    ``<root>/status`` while it runs; a live process may be between a log record and its part
    rename, so its path is never touched (chdb then refuses to open it anyway). The lock is
    released before chdb takes it: a process that opens the path in between opens it repaired."""
    if not any(root.glob("*/*/*/deduplication_logs")):
        return []
    # ClickHouse removes the file on a clean shutdown and reuses one it finds
    fd = os.open(root / "status", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return []
        return _rearm_all(root)
    finally:
        os.close(fd)


def _rearm_all(root: Path) -> list[Rearmed]:
    found: list[Rearmed] = []
    seen: set[Path] = set()
    for logs in [*root.glob("store/*/*/deduplication_logs"), *root.glob("data/*/*/deduplication_logs")]:
        table_dir = logs.parent.resolve()
        if table_dir in seen or not logs.is_dir():
            continue
        seen.add(table_dir)
        found += _rearm_table(table_dir)
    return found


def _covered(parts: dict[str, list[tuple[int, int]]], name: str) -> bool:
    m = _PART.match(name)
    if m is None:
        return True  # a name we do not understand: leave its record alone
    lo, hi = int(m["min"]), int(m["max"])
    return any(a <= lo and hi <= b for a, b in parts.get(m["partition"], ()))


def _rearm_table(table_dir: Path) -> list[Rearmed]:
    try:
        if (table_dir / "format_version.txt").read_text().strip() != "1":
            return []  # old-syntax part names: not handled
    except OSError:
        return []
    logs = sorted(
        ((int(m[1]), p) for p in (table_dir / "deduplication_logs").iterdir() if (m := _LOG.match(p.name))),
    )
    if not logs:
        return []
    live: dict[str, str] = {}
    for _, path in logs:
        with open(path, encoding="utf-8", newline="\n") as f:
            for line in f:
                fields = line.rstrip("\n").split("\t")
                if not line.endswith("\n") or len(fields) != 3 or fields[0] not in (_ADD, _DROP):
                    return []  # a log ClickHouse itself would not read cleanly: do not touch it
                op, part, block_id = fields
                if op == _ADD:
                    live[block_id] = part
                else:
                    live.pop(block_id, None)
    parts: dict[str, list[tuple[int, int]]] = {}
    for entry in table_dir.iterdir():
        m = _PART.match(entry.name)
        if m and entry.is_dir():
            parts.setdefault(m["partition"], []).append((int(m["min"]), int(m["max"])))
    lost = [Rearmed(table_dir, part, block_id) for block_id, part in live.items()
            if not _covered(parts, part)]
    if lost:
        records = "".join(f"{_DROP}\t{r.part}\t{r.block_id}\n" for r in lost).encode()
        fd = os.open(logs[-1][1], os.O_WRONLY | os.O_APPEND)
        try:
            os.write(fd, records)
            os.fsync(fd)
        finally:
            os.close(fd)
    return lost
