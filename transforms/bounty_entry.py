"""P17 — BountyEntry: Bounty.entryCount, one event per entry (old: row count).

SPEC §2 #13. entityId = ``BountyEntry.bountyId`` (NOT NULL, cascading FK, so no join on
Bounty), createdAt = ``BountyEntry.createdAt``. userId = ``COALESCE(BountyEntry.userId, 0)``:
the column is nullable (onDelete SetNull); the entry still counts, with userId 0, and each
substitution is counted in the run report (SPEC §2 skips).
"""

from __future__ import annotations

import polars as pl

from metric_backfill.package import Expected, Metric, Package

c = pl.col

PACKAGE = Package(
    name="bounty_entry",
    source="postgres",
    description="bounty entries, credited to their bounty",
    from_sql='"BountyEntry" be',
    columns='be.id, be."bountyId", be."userId", be."createdAt"',
    key="be.id",
    key_kind="int",
    time_filter=('be."createdAt"',),
    tables={"BountyEntry": ("id", "bountyId", "userId", "createdAt")},
    metrics=(
        Metric("Bounty", "entryCount", entity_id=c("bountyId"), user_id=c("userId").fill_null(0),
               created_at=c("createdAt"),
               skip_null="BountyEntry.bountyId NULL"),
    ),
    skips={"BountyEntry.userId NULL → userId 0": c("userId").is_null()},
    expected=(
        Expected(
            ("Bounty.entryCount",),
            """
            SELECT 'Bounty' AS "entityType", "bountyId" AS "entityId",
                   'entryCount' AS "metricType",
                   date_trunc('month', "createdAt")::date AS month, count(*) AS value
            FROM "BountyEntry"
            WHERE "createdAt" >= {since} AND "createdAt" < {cutoff}
            GROUP BY "bountyId", month
            """,
        ),
    ),
)
