"""Where a batch's events go. A sink's ``write`` returns only once the data is durable."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pyarrow as pa

from .audit import MANIFEST_FILE
from .ledger import append_line
from .target import Target


class Sink(Protocol):
    name: str

    def write(self, batch_id: str, token: str, events: pa.Table) -> None: ...


@dataclass
class ClickHouseSink:
    """One synchronous ``insert_arrow`` per batch, carrying the batch's deduplication token."""

    target: Target
    name: str = "clickhouse"

    def write(self, batch_id: str, token: str, events: pa.Table) -> None:
        if events.num_rows:
            self.target.insert(events, token)


@dataclass
class ParquetSink:
    """One zstd Parquet file per batch under ``DIR/<package>/<index>.parquet``.

    Written to a temp file, fsynced, then renamed: a file that exists is complete. A manifest
    line (rows, sha256, token) is appended per file so ``load`` can prove it inserts exactly
    these files.
    """

    root: Path
    name: str = "parquet"
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def path_for(self, batch_id: str) -> Path:
        package, index = batch_id.split(":")
        return self.root / package / f"{int(index):06d}.parquet"

    def write(self, batch_id: str, token: str, events: pa.Table) -> None:
        path = self.path_for(batch_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".parquet.tmp")
        import pyarrow.parquet as pq  # on use: it costs every start 0.1 s otherwise
        pq.write_table(events, tmp, compression="zstd")
        with open(tmp, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        entry = {"batch": batch_id, "file": str(path.relative_to(self.root)),
                 "rows": events.num_rows, "sha256": digest, "token": token}
        with self._lock:
            append_line(self.root / MANIFEST_FILE, (json.dumps(entry) + "\n").encode())
