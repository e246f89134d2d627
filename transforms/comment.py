"""P14 — Comment (the old model comments): Model.commentCount.

SPEC §2 #35, §3.3 and §3.5. One event per comment row (a row count, not the old COUNT(DISTINCT
userId): accepted change), replies (``parentId`` set) included, userId = the commenter,
createdAt = ``Comment.createdAt``. Comments with ``tosViolation = true`` are not events (the
earlier TS implementation counted them, SPEC §4); they are read and counted in the run report.
No hidden/locked filter (SPEC names none). ``modelId`` is NOT NULL with a cascading FK, so no
join on Model.
"""

from __future__ import annotations

import polars as pl

from metric_backfill.package import Expected, Metric, Package

c = pl.col

PACKAGE = Package(
    name="comment",
    source="postgres",
    description="old model comments (tosViolation excluded), credited to the model",
    from_sql='"Comment" cm',
    columns='cm.id, cm."modelId", cm."userId", cm."createdAt", cm."tosViolation"',
    key="cm.id",
    key_kind="int",
    time_filter=('cm."createdAt"',),
    tables={"Comment": ("id", "modelId", "userId", "createdAt", "tosViolation")},
    metrics=(
        Metric("Model", "commentCount", entity_id=c("modelId"), user_id=c("userId"),
               created_at=c("createdAt"),
               where=~c("tosViolation")),
    ),
    skips={"Comment tosViolation=true (not an event)": c("tosViolation")},
    expected=(
        Expected(
            ("Model.commentCount",),
            """
            SELECT 'Model' AS "entityType", "modelId" AS "entityId",
                   'commentCount' AS "metricType",
                   date_trunc('month', "createdAt")::date AS month, count(*) AS value
            FROM "Comment"
            WHERE NOT "tosViolation"
              AND "createdAt" >= {since} AND "createdAt" < {cutoff}
            GROUP BY "modelId", month
            """,
        ),
    ),
)
