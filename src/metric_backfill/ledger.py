"""The ledger: an append-only, fsynced record of batches whose sinks acknowledged.

A batch is done iff its line (for the current plan id) is here; lines of earlier plans stay
in the file for audit and are ignored. Lines are written only after the acknowledgement, so a
crash can at worst leave a batch written but not ledgered; its retry carries the same
deduplication token and the target drops it. A torn last line (crash mid-write) is ignored, and
so is a line whose checksum does not match (edited by hand): its batch simply runs again.
"""

from __future__ import annotations

import json
import os
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

LEDGER_FILE = "ledger.jsonl"


@dataclass
class Ledger:
    path: Path
    plan_id: str
    done: dict[str, dict] = field(default_factory=dict)
    torn_lines: int = 0
    last_write: float | None = None
    """Unix time of this plan's last acknowledged batch (None before the first)."""

    @classmethod
    def open(cls, state: Path, plan_id: str) -> Ledger:
        state.mkdir(parents=True, exist_ok=True)
        ledger = cls(state / LEDGER_FILE, plan_id)
        if ledger.path.exists():
            with open(ledger.path, "rb") as f:
                for raw in f:
                    try:
                        entry = json.loads(raw)
                        if not isinstance(entry, dict) or not raw.endswith(b"\n"):
                            raise ValueError
                        if entry.pop("crc", None) != _crc(entry):
                            raise ValueError
                    except ValueError:
                        ledger.torn_lines += 1
                        continue
                    if entry.get("plan") == plan_id:
                        ledger.done[entry["batch"]] = entry
                        ledger.last_write = max(ledger.last_write or 0.0, float(entry.get("at", 0)))
        return ledger

    def record(self, batch_id: str, **facts: object) -> None:
        entry = {"plan": self.plan_id, "batch": batch_id, **facts, "at": round(time.time(), 3)}
        append_line(self.path, (json.dumps({**entry, "crc": _crc(entry)}, separators=(",", ":")) + "\n").encode())
        self.torn_lines = 0
        self.done[batch_id] = entry
        self.last_write = entry["at"]


def append_line(path: Path, line: bytes) -> None:
    """Append one line and fsync it. A torn tail (a crash mid-append) is sealed with a newline
    first, so the new line stays readable on its own and only the torn one is lost."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        if _ends_without_newline(path):
            os.write(fd, b"\n")
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def _ends_without_newline(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            f.seek(-1, os.SEEK_END)
            return f.read(1) != b"\n"
    except OSError:
        return False


def _crc(entry: dict) -> str:
    """A line's own checksum: a hand-edited or forged line is not trusted."""
    return f"{zlib.crc32(json.dumps(entry, sort_keys=True, separators=(',', ':')).encode()):08x}"
