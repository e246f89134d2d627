"""load: insert exactly the audited Parquet files of a ``run --parquet-dir``, exactly once.

The directory's ``audit.json`` names the plan and every batch; the manifest names every file
with its row count, sha256 and the batch's deduplication token. A set that is not whole (a
batch missing, a file nobody recorded, an entry of another plan) is refused unless
``--partial`` is given, and a file that contradicts its manifest line always is; all of this
is checked before the target is touched. Each file is one insert carrying its original
token, ledgered after the acknowledgement, so a crash and a ``--resume`` neither lose nor
duplicate a file. The ledger is keyed by the plan and the destination (target and table), so
the same files loaded elsewhere are loaded again, not taken as done.
"""

from __future__ import annotations

import hashlib
import sys
from datetime import timedelta
from pathlib import Path

import polars as pl
import pyarrow as pa

from .audit import AuditFile, AuditSet, read_audit
from .clickhouse import ClickHouse
from .errors import UserError, redact
from .events import EVENT_ARROW_SCHEMA, Window
from .ledger import Ledger
from .retry import RetryPolicy
from .statelock import state_lock
from .target import Target
from .targetcheck import check_target

STARTED = "(started)"
"""The ledger line a load appends before its first insert. A load killed between that insert's
acknowledgement and its own ledger line is then known as begun: ``--resume`` continues it (the
target's events are its files', under their tokens) instead of refusing them as a double
backfill, and a load without ``--resume`` is told to continue it."""


def load(root: Path, target_dsn: str, table: str, state: Path, resume: bool = False,
         allow_existing: bool = False, policy: RetryPolicy | None = None,
         partial: bool = False, no_dedup_check: bool = False) -> tuple[int, int]:
    """Insert every audited file once; returns (files inserted now, events inserted now).

    ``state`` (the load's ledger directory) is held for the whole load; every check runs
    before the target is touched."""
    with state_lock(state):
        return _load(root, target_dsn, table, state, resume, allow_existing,
                     policy or RetryPolicy(), partial, no_dedup_check)


def _load(root: Path, target_dsn: str, table: str, state: Path, resume: bool,
          allow_existing: bool, policy: RetryPolicy, partial: bool,
          no_dedup_check: bool) -> tuple[int, int]:
    audit = _whole_enough(read_audit(root), partial)
    files = audit.files
    ledger = Ledger.open(state, load_id(audit.plan_id, target_dsn, table))
    target = Target(ClickHouse(target_dsn), table)
    if ledger.done and not resume:
        pending = [f for f in files if f.batch not in ledger.done]
        if pending:
            raise UserError(f"this load is unfinished ({len(files) - len(pending)} of "
                            f"{len(files)} files loaded): continue it with --resume")
    elif not ledger.done and not allow_existing and files and target.exists():
        target.ensure()  # an existing table is checked (never altered) before it is counted
        _guard_existing(target, files)
    target.ensure()
    for notice in check_target(target.ch, table, bool(ledger.done), no_dedup_check)[1]:
        print(f"note: {notice}", file=sys.stderr)
    if not ledger.done:
        ledger.record(STARTED)
    inserted = events = 0
    for f in files:
        if f.batch in ledger.done:
            continue
        table_data = read_audit_file(f.path)
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


def read_audit_file(path: Path) -> pa.Table:
    """An audit file as the insert block its run inserted: one chunk. ClickHouse derives each
    block's deduplication id from the token *and* the chunks it squashed, so the file read in
    Parquet's 131,072-row batches would not be recognised as the run's insert."""
    import pyarrow.parquet as pq  # on use: it costs every start 0.1 s otherwise

    return pq.read_table(path).cast(EVENT_ARROW_SCHEMA).combine_chunks()


def _whole_enough(audit: AuditSet, partial: bool) -> AuditSet:
    """The set, if it is whole or ``--partial`` accepts what is complete of it."""
    if audit.complete:
        return audit
    if not partial:
        raise UserError(
            f"{audit.root} is not a complete audit of plan {audit.plan_id}: {audit.problems()}; "
            f"finish it with run --resume --parquet-dir {audit.root}, or load what is complete "
            "with --partial"
        )
    print(f"note: --partial: loading {len(audit.files)} of {len(audit.batches)} batches; "
          f"{audit.problems()}", file=sys.stderr)
    return audit


def _guard_existing(target: Target, files: list[AuditFile]) -> None:
    """A first load into a target that already holds these metrics in the files' time range is
    a double backfill unless said otherwise."""
    scan = pl.scan_parquet([f.path for f in files])
    info = scan.select(
        (pl.col("entityType") + "." + pl.col("metricType")).unique().implode().alias("m"),
        pl.col("createdAt").min().alias("lo"), pl.col("createdAt").max().alias("hi"),
    ).collect()
    metrics, lo, hi = info.row(0)
    if lo is None:
        return
    window = Window(cutoff=hi + timedelta(milliseconds=1), since=lo)
    existing = {k: v for k, v in target.count_existing(list(metrics), window).items() if v}
    if existing:
        raise UserError(
            f"target {target.table} already holds {sum(existing.values())} events of these "
            "metrics in the files' time range; use --resume to continue a load, or "
            "--allow-existing"
        )


def load_id(plan_id: str, target_dsn: str, table: str) -> str:
    """One load per audited plan *and* destination (DSN without its password, table): the same
    files into another target or table is another load. A --partial load and the full one
    after the run finished share a ledger, so the second continues the first."""
    key = "\n".join([plan_id, redact(target_dsn), table])
    return "load-" + hashlib.sha256(key.encode()).hexdigest()[:16]
