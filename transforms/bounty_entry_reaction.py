"""P12 — BountyEntryReaction ⋈ BountyEntry: BountyEntry.<reaction> and the entry owner's
User.reactionCount.

SPEC §2 #16–20 and #69. One event per reaction row (the PK is (bountyEntryId, userId,
reaction), so one per reactor and reaction), userId = the reactor, createdAt = the reaction's
createdAt. "Entry exists" is an inner JOIN on BountyEntry (FK cascades). User.reactionCount is
credited to ``BountyEntry.userId``; that column is nullable (onDelete SetNull), and a NULL owner
skips only the User event, counted in the run report (SPEC §2 skips). The batching key is the
leading PK column ``bountyEntryId`` (half-open ranges, so a heavily reacted entry is never split
across batches); rows are ordered by the full PK.
"""

from __future__ import annotations

import polars as pl

from metric_backfill.package import Expected, Metric, Package
from metric_backfill.transforms._common import REACTIONS

c = pl.col

PACKAGE = Package(
    name="bounty_entry_reaction",
    source="postgres",
    description="reactions on bounty entries, credited to the entry and its owner",
    from_sql='"BountyEntryReaction" ber JOIN "BountyEntry" be ON be.id = ber."bountyEntryId"',
    columns='ber."bountyEntryId", ber."userId", ber.reaction::text AS reaction, ber."createdAt", '
    'be."userId" AS "ownerId"',
    key='ber."bountyEntryId"',
    key_also=("be.id",),
    key_kind="int",
    time_filter=('ber."createdAt"',),
    row_key=("bountyEntryId", "userId", "reaction"),
    tables={
        "BountyEntryReaction": ("bountyEntryId", "userId", "reaction", "createdAt"),
        "BountyEntry": ("id", "userId"),
    },
    metrics=(
        Metric("BountyEntry", c("reaction"), entity_id=c("bountyEntryId"), user_id=c("userId"),
               created_at=c("createdAt"),
               names=REACTIONS),
        Metric("User", "reactionCount", entity_id=c("ownerId"), user_id=c("userId"),
               created_at=c("createdAt"),
               skip_null="entry owner (BountyEntry.userId) NULL"),
    ),
    expected=(
        Expected(
            tuple(f"BountyEntry.{r}" for r in REACTIONS),
            """
            SELECT 'BountyEntry' AS "entityType", ber."bountyEntryId" AS "entityId",
                   ber.reaction::text AS "metricType",
                   date_trunc('month', ber."createdAt")::date AS month, count(*) AS value
            FROM "BountyEntryReaction" ber
            WHERE EXISTS (SELECT 1 FROM "BountyEntry" be WHERE be.id = ber."bountyEntryId")
              AND ber."createdAt" >= {since} AND ber."createdAt" < {cutoff}
            GROUP BY ber."bountyEntryId", ber.reaction, month
            """,
        ),
        Expected(
            ("User.reactionCount",),
            """
            SELECT 'User' AS "entityType", be."userId" AS "entityId",
                   'reactionCount' AS "metricType",
                   date_trunc('month', ber."createdAt")::date AS month, count(*) AS value
            FROM "BountyEntryReaction" ber JOIN "BountyEntry" be ON be.id = ber."bountyEntryId"
            WHERE be."userId" IS NOT NULL
              AND ber."createdAt" >= {since} AND ber."createdAt" < {cutoff}
            GROUP BY be."userId", month
            """,
        ),
    ),
)
