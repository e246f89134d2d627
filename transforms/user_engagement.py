"""P6 — UserEngagement: User.followerCount, followingCount, hiddenCount ('Block' is no metric)."""

from __future__ import annotations

import polars as pl

from metric_backfill.package import Expected, Metric, Package

c = pl.col
follow = c("type") == "Follow"

PACKAGE = Package(
    name="user_engagement",
    source="postgres",
    description="follows and hides between users",
    from_sql='"UserEngagement" ue',
    columns='ue."userId", ue."targetUserId", ue.type::text AS type, ue."createdAt"',
    key='ue."userId"',
    key_kind="int",
    time_filter=('ue."createdAt"',),
    row_key=("userId", "targetUserId"),
    tables={"UserEngagement": ("userId", "targetUserId", "type", "createdAt")},
    metrics=(
        Metric("User", "followerCount", entity_id=c("targetUserId"), user_id=c("userId"),
               created_at=c("createdAt"), where=follow),
        Metric("User", "followingCount", entity_id=c("userId"), user_id=c("userId"),
               created_at=c("createdAt"), where=follow),
        Metric("User", "hiddenCount", entity_id=c("targetUserId"), user_id=c("userId"),
               created_at=c("createdAt"),
               where=c("type") == "Hide"),
    ),
    skips={"UserEngagement type Block (no metric)": c("type") == "Block"},
    expected=(
        Expected(
            ("User.followerCount", "User.followingCount", "User.hiddenCount"),
            """
            WITH e AS (
              SELECT "userId", "targetUserId", type::text AS type,
                     date_trunc('month', "createdAt")::date AS month
              FROM "UserEngagement"
              WHERE "createdAt" >= {since} AND "createdAt" < {cutoff}
            )
            SELECT 'User' AS "entityType", "targetUserId" AS "entityId",
                   'followerCount' AS "metricType", month, count(*) AS value
            FROM e WHERE type = 'Follow' GROUP BY 2, 4
            UNION ALL
            SELECT 'User', "userId", 'followingCount', month, count(*) FROM e
            WHERE type = 'Follow' GROUP BY 2, 4
            UNION ALL
            SELECT 'User', "targetUserId", 'hiddenCount', month, count(*) FROM e
            WHERE type = 'Hide' GROUP BY 2, 4
            """,
        ),
    ),
)
