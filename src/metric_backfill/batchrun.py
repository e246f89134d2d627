"""One batch, read → explode → sinks: the hot path, stated once as functions of plain data.

The coordinator's threads (``Runner.process``) and a Dask worker (``cluster.run_task``) call the
same two steps, so a batch becomes the same events and the same insert whichever ran it. They
are split where a batch may change hands: a worker that reads and transforms can return the
events (``Events``) for the coordinator to write (an embedded chdb target, Parquet audit files),
or write them itself. Either way a sink's ``write`` returns only once the data is durable, and
only then does the coordinator append the ledger.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import pyarrow as pa

from .events import Window, event_table, explode
from .package import Context, Package
from .plan import Batch
from .retry import RetryPolicy
from .sinks import Sink
from .sources import Source

LOCAL = "local"
"""The worker name of a batch run by the coordinator's own threads."""


@dataclass(frozen=True)
class BatchResult:
    rows: int
    events: int
    skipped: dict[str, int]
    read_s: float
    transform_s: float
    write_s: float
    worker: str = LOCAL
    """Where the batch was read and transformed: a Dask worker's address, or ``LOCAL``."""


@dataclass(frozen=True)
class Events:
    """A batch read and transformed, its events not yet written."""

    result: BatchResult
    table: pa.Table


def batch_token(plan_id: str, batch: Batch) -> str:
    """The batch's insert deduplication token (and its audit files' token)."""
    return f"{plan_id}:{batch.id}"


def read_and_explode(pkg: Package, batch: Batch, src: Source, window: Window, ctx: Context,
                     exclude: frozenset[str], policy: RetryPolicy) -> Events:
    """The batch's rows from its source (transient errors retried), as events."""
    sql = batch.sql(pkg, src, window)
    t0 = time.perf_counter()
    rows = policy.call(lambda: src.fetch(sql, pkg.pg_settings))
    t1 = time.perf_counter()
    exploded = explode(pkg, rows, window, ctx, exclude)
    table = event_table(pkg, exploded.events)
    t2 = time.perf_counter()
    return Events(BatchResult(rows.height, table.num_rows, exploded.skipped, t1 - t0, t2 - t1, 0.0),
                  table)


def write_events(events: Events, batch_id: str, token: str, sinks: Sequence[Sink],
                 policy: RetryPolicy) -> BatchResult:
    """Every sink, in order, each retried on transient errors; returns once all acknowledged."""
    t0 = time.perf_counter()
    for sink in sinks:
        policy.call(lambda sink=sink: sink.write(batch_id, token, events.table))
    return replace(events.result, write_s=time.perf_counter() - t0)
