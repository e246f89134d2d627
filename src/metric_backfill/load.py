"""load: insert exactly the audited Parquet files of a ``run --parquet-dir``, exactly once.

The manifest names every file with its row count, sha256 and the batch's deduplication token;
a file that does not match its manifest line stops the load before anything is written. Each
file is one insert carrying its original token, ledgered after the acknowledgement, so a
crash and a ``--resume`` neither lose nor duplicate a file.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from .clickhouse import ClickHouse
from .errors import UserError
from .events import EVENT_ARROW_SCHEMA, Window
from .ledger import Ledger
from .retry import RetryPolicy
from .target import Target


@dataclass(frozen=True)
class AuditFile:
    batch: str
    path: Path
    rows: int
    sha256: str
    token: str


def read_manifest(root: Path) -> list[AuditFile]:
    """The last manifest line per batch (a retried batch rewrote its file), checked on disk."""
    manifest = root / "manifest.jsonl"
    if not manifest.exists():
        raise UserError(f"{manifest} not found: not a --parquet-dir of a run")
    entries: dict[str, dict] = {}
    for n, line in enumerate(manifest.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            e = json.loads(line)
            entries[e["batch"]] = e
        except (ValueError, KeyError):
            if n == len(manifest.read_text().splitlines()):
                continue  # torn last line: its file was renamed into place but not recorded
            raise UserError(f"{manifest}:{n} is not a manifest line") from None
    files = []
    for e in entries.values():
        path = root / e["file"]
        if not path.exists():
            raise UserError(f"{path} is listed in the manifest but missing")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != e["sha256"]:
            raise UserError(f"{path} does not match its manifest checksum (modified or corrupt)")
        files.append(AuditFile(e["batch"], path, int(e["rows"]), e["sha256"], e["token"]))
    return files


def load_id(files: list[AuditFile]) -> str:
    h = hashlib.sha256("\n".join(sorted(f"{f.batch}:{f.sha256}" for f in files)).encode())
    return "load-" + h.hexdigest()[:16]


def load(root: Path, target_dsn: str, table: str, state: Path, resume: bool = False,
         allow_existing: bool = False, policy: RetryPolicy | None = None) -> tuple[int, int]:
    """Insert every audited file once; returns (files inserted now, events inserted now)."""
    policy = policy or RetryPolicy()
    files = read_manifest(root)
    target = Target(ClickHouse(target_dsn), table)
    target.ensure()
    ledger = Ledger.open(state, load_id(files))
    if not ledger.done and not allow_existing and files:
        scan = pl.scan_parquet([f.path for f in files])
        info = scan.select(
            (pl.col("entityType") + "." + pl.col("metricType")).unique().implode().alias("m"),
            pl.col("createdAt").min().alias("lo"), pl.col("createdAt").max().alias("hi"),
        ).collect()
        metrics, lo, hi = info.row(0)
        if lo is not None:
            window = Window(cutoff=hi + timedelta(milliseconds=1), since=lo)
            existing = {k: v for k, v in target.count_existing(list(metrics), window).items() if v}
            if existing:
                raise UserError(
                    f"target {table} already holds {sum(existing.values())} events of these "
                    "metrics in the files' time range; use --resume to continue a load, or "
                    "--allow-existing"
                )
    elif ledger.done and not resume:
        pending = [f for f in files if f.batch not in ledger.done]
        if pending:
            raise UserError("this load was interrupted: continue it with --resume")
    inserted = events = 0
    for f in files:
        if f.batch in ledger.done:
            continue
        table_data = pq.read_table(f.path).cast(EVENT_ARROW_SCHEMA)
        if table_data.num_rows != f.rows:
            raise UserError(f"{f.path} has {table_data.num_rows} rows, the manifest says {f.rows}")
        if table_data.num_rows:
            policy.call(lambda t=table_data, tok=f.token: target.insert(t, tok))
        ledger.record(f.batch, rows=f.rows, file=str(f.path.relative_to(root)))
        inserted += 1
        events += f.rows
    print(f"loaded {inserted} file(s), {events:,} events; {len(files) - inserted} already loaded",
          file=sys.stderr)
    return inserted, events
