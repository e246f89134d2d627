"""P16 — Bounty: User.bountyCount, one event per bounty for its creator.

SPEC §2 #65. entityId = userId = ``Bounty.userId``, createdAt = ``Bounty.createdAt``.
``Bounty.userId`` is nullable (onDelete SetNull): such a bounty is not an event and is
counted in the run report (SPEC §2 skips).
"""

from __future__ import annotations

import polars as pl

from metric_backfill.package import Expected, Metric, Package

c = pl.col

PACKAGE = Package(
    name="bounty",
    source="postgres",
    description="bounties, credited to their creator",
    from_sql='"Bounty" b',
    columns='b.id, b."userId", b."createdAt"',
    key="b.id",
    key_kind="int",
    time_filter=('b."createdAt"',),
    tables={"Bounty": ("id", "userId", "createdAt")},
    metrics=(
        Metric("User", "bountyCount", entity_id=c("userId"), user_id=c("userId"),
               created_at=c("createdAt"),
               skip_null="Bounty.userId NULL"),
    ),
    expected=(
        Expected(
            ("User.bountyCount",),
            """
            SELECT 'User' AS "entityType", "userId" AS "entityId",
                   'bountyCount' AS "metricType",
                   date_trunc('month', "createdAt")::date AS month, count(*) AS value
            FROM "Bounty"
            WHERE "userId" IS NOT NULL
              AND "createdAt" >= {since} AND "createdAt" < {cutoff}
            GROUP BY "userId", month
            """,
        ),
    ),
)
