"""Batch query plans: ``EXPLAIN (COSTS OFF)`` of every Postgres package's middle batch query.

A ``Seq Scan on <table>`` where the table is not the package's driving table (the first table of
its FROM) is flagged: such a batch reads a whole joined table, whose cost grows with the data,
not with the batch.

Invariants: the plan is taken in the session the engine reads that package in
(``PostgresSource.batch_dsn`` with the package's ``pg_settings``: no parallel workers, no JIT),
on the engine's own batch SQL at the package's default batch size, because session settings
shape the plan; a flagged scan counts against the target only for a package read in more than
one batch (a single batch *is* the table).
"""

from __future__ import annotations

import re
from typing import Any

from .common import window

SEQ_SCAN = re.compile(r'Seq Scan on "?([\w.]+)"?')


def driving_table(from_sql: str) -> str:
    """The first table of a package's ``from_sql`` (``"ImageReaction" ir JOIN …`` → ImageReaction)."""
    m = re.match(r'\s*"?([\w.]+)"?', from_sql)
    return m.group(1) if m else from_sql


def per_batch_scans(plan: dict[str, Any]) -> list[str]:
    """Whole-table scans of a joined table that every batch repeats: a package read in one batch
    reads its tables whole once, which is the batch, not a cost per batch."""
    return plan.get("whole_table_scans", []) if plan.get("batches", 0) > 1 else []


def whole_table_scans(plan: list[str], driving: str) -> list[str]:
    """Plan lines that scan a whole table other than the driving one."""
    return [line.strip() for line in plan if (m := SEQ_SCAN.search(line)) and m.group(1) != driving]


def explain_plans(dsn: str, names: list[str]) -> dict[str, Any]:
    """``EXPLAIN (COSTS OFF)`` of each package's middle batch at its default batch size."""
    import psycopg

    from metric_backfill import registry
    from metric_backfill.plan import plan_package
    from metric_backfill.sources import PostgresSource

    src = PostgresSource(dsn)
    w = window()
    out: dict[str, Any] = {}
    for name in names:
        pkg = registry.all_packages()[name]
        plan = plan_package(pkg, src, w, pkg.default_batch_size)
        doc: dict[str, Any] = {"driving_table": driving_table(pkg.from_sql),
                               "batch_size": pkg.default_batch_size, "batches": len(plan.batches)}
        if plan.batches:
            i = len(plan.batches) // 2
            sql = plan.batches[i].sql(pkg, src, w)
            with psycopg.connect(src.batch_dsn(pkg.pg_settings), autocommit=True) as conn:
                lines = [row[0] for row in conn.execute(f"EXPLAIN (COSTS OFF) {sql}")]
            doc.update(batch=i, sql=sql, plan=lines,
                       whole_table_scans=whole_table_scans(lines, doc["driving_table"]))
        out[name] = doc
    return out
