"""P7 — TagEngagement: Tag.followerCount and Tag.hiddenCount.

Metrics (SPEC §2 #62, #63): one event per engagement row, value 1, entityId = the tag,
userId = the engaging user, createdAt = the row's createdAt. followerCount counts only
type 'Follow' and hiddenCount only 'Hide' (SPEC §3.8); the deprecated 'Allow' is no follower
(the TS counted it, SPEC §4) and is counted as "no event".
"""

from __future__ import annotations

import polars as pl

from metric_backfill.package import Expected, Metric, Package

c = pl.col

PACKAGE = Package(
    name="tag_engagement",
    source="postgres",
    description="users following or hiding tags",
    from_sql='"TagEngagement" te',
    columns='te."userId", te."tagId", te.type::text AS type, te."createdAt"',
    key='te."userId"',
    key_kind="int",
    time_filter=('te."createdAt"',),
    row_key=("userId", "tagId"),
    tables={"TagEngagement": ("userId", "tagId", "type", "createdAt")},
    metrics=(
        Metric("Tag", "followerCount", entity_id=c("tagId"), user_id=c("userId"),
               created_at=c("createdAt"),
               where=c("type") == "Follow"),
        Metric("Tag", "hiddenCount", entity_id=c("tagId"), user_id=c("userId"),
               created_at=c("createdAt"),
               where=c("type") == "Hide"),
    ),
    skips_by={
        "TagEngagement type with no metric": pl.when(~c("type").is_in(["Follow", "Hide"]))
        .then(c("type"))
    },
    expected=(
        Expected(
            ("Tag.followerCount", "Tag.hiddenCount"),
            """
            SELECT 'Tag' AS "entityType", "tagId" AS "entityId",
                   CASE type WHEN 'Follow' THEN 'followerCount' ELSE 'hiddenCount' END AS "metricType",
                   date_trunc('month', "createdAt")::date AS month, count(*) AS value
            FROM "TagEngagement"
            WHERE type IN ('Follow', 'Hide') AND "createdAt" >= {since} AND "createdAt" < {cutoff}
            GROUP BY 2, 3, 4
            """,
        ),
    ),
)
