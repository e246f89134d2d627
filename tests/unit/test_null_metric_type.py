"""An expression metricType that gives NULL must not vanish silently.

``_metric_frame`` keeps rows where ``metric_type.is_in(names)`` and ``_undeclared_values``
counts rows where ``~v.is_in(names)``; for a NULL value ``is_in`` is NULL, so both filters
drop the row: the event is neither emitted nor counted (the ``fill_null("NULL")`` label is
never reached). Today's reaction columns are NOT NULL in Postgres, so only a package whose
metricType expression can be NULL (a ``when/then`` without ``otherwise``, a nullable enum
column) reaches it; before 0e774db such a row was emitted (and visible) instead."""

from __future__ import annotations

from datetime import datetime

import polars as pl

from metric_backfill.events import Window, explode
from metric_backfill.package import Metric, Package

c = pl.col


def _package() -> Package:
    return Package(
        name="nullable_type", source="postgres", description="test",
        from_sql='"T" t', columns="t.id, t.kind, t.\"userId\", t.\"createdAt\"", key="t.id",
        key_kind="int", time_filter=('t."createdAt"',),
        metrics=(Metric("User", pl.when(c("kind") == 1).then(pl.lit("followerCount"))
                        .when(c("kind") == 2).then(pl.lit("hiddenCount")),
                        entity_id=c("userId"), user_id=c("userId"), created_at=c("createdAt"),
                        names=("followerCount", "hiddenCount")),),
        expected=(),
    )


def test_a_null_expression_metric_type_is_counted_not_silently_dropped():
    rows = pl.DataFrame({"id": [1, 2, 3, 4], "kind": [1, 2, 3, None], "userId": [10, 11, 12, 13],
                         "createdAt": [datetime(2024, 1, 1)] * 4})
    out = explode(_package(), rows, Window(cutoff=datetime(2030, 1, 1)))
    emitted = out.events.height
    counted = sum(out.skipped.values())
    # rows 1, 2 are events; rows 3 and 4 give a NULL metricType (no when matches): both counted
    assert emitted == 2, out.events
    assert counted == 2, f"every row is an event or a counted skip; skipped={out.skipped}"
