"""P8 — BountyEngagement: Bounty.favoriteCount and Bounty.trackCount.

Metrics (SPEC §2 #14, #15): one event per engagement row, value 1, entityId = the bounty,
userId = the engaging user, createdAt = the row's createdAt. favoriteCount is type 'Favorite'
and requires the bounty to exist (SPEC #14: LEFT JOIN Bounty, a dangling id is counted, not
emitted); trackCount selects 'Track' explicitly, never as the else-branch (SPEC #15), with no
existence condition (SPEC states none). Batched on bountyId (the PK leads with the enum type);
rows are ordered by the PK (type, bountyId, userId).
"""

from __future__ import annotations

import polars as pl

from metric_backfill.package import INDEX_JOINS, Expected, Metric, Package

c = pl.col

PACKAGE = Package(
    name="bounty_engagement",
    source="postgres",
    description="users favoriting or tracking bounties",
    from_sql='"BountyEngagement" e LEFT JOIN "Bounty" b ON b.id = e."bountyId"',
    columns='e.type::text AS type, e."bountyId", e."userId", e."createdAt", '
    'b.id IS NOT NULL AS "bountyExists"',
    key='e."bountyId"',
    pg_settings=INDEX_JOINS,
    key_kind="int",
    time_filter=('e."createdAt"',),
    row_key=("type", "bountyId", "userId"),
    tables={"BountyEngagement": ("type", "bountyId", "userId", "createdAt"), "Bounty": ("id",)},
    metrics=(
        Metric("Bounty", "favoriteCount", entity_id=pl.when(c("bountyExists")).then(c("bountyId")),
               user_id=c("userId"), created_at=c("createdAt"), where=c("type") == "Favorite",
               skip_null="BountyEngagement.bountyId has no Bounty row"),
        Metric("Bounty", "trackCount", entity_id=c("bountyId"), user_id=c("userId"),
               created_at=c("createdAt"),
               where=c("type") == "Track"),
    ),
    skips_by={
        "BountyEngagement type with no metric": pl.when(~c("type").is_in(["Favorite", "Track"]))
        .then(c("type"))
    },
    expected=(
        Expected(
            ("Bounty.favoriteCount",),
            """
            SELECT 'Bounty' AS "entityType", x."bountyId" AS "entityId",
                   'favoriteCount' AS "metricType",
                   date_trunc('month', x."createdAt")::date AS month, count(*) AS value
            FROM "BountyEngagement" x
            WHERE x.type = 'Favorite' AND x."createdAt" >= {since} AND x."createdAt" < {cutoff}
              AND EXISTS (SELECT 1 FROM "Bounty" y WHERE y.id = x."bountyId")
            GROUP BY x."bountyId", month
            """,
        ),
        Expected(
            ("Bounty.trackCount",),
            """
            SELECT 'Bounty' AS "entityType", "bountyId" AS "entityId",
                   'trackCount' AS "metricType",
                   date_trunc('month', "createdAt")::date AS month, count(*) AS value
            FROM "BountyEngagement"
            WHERE type = 'Track' AND "createdAt" >= {since} AND "createdAt" < {cutoff}
            GROUP BY "bountyId", month
            """,
        ),
    ),
)
