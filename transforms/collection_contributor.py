"""P9 — CollectionContributor: Collection.contributorCount and Collection.followerCount.

Metrics (SPEC §2 #22, #23; §3.7): one event per contributor row, value 1, entityId = the
collection, userId = the contributor. contributorCount = rows whose permissions contain 'ADD',
followerCount = rows whose permissions contain 'VIEW' (a row with both yields both); rows with
neither (MANAGE/ADD_REVIEW only, or an empty array) are no event and are counted. The enum array
is never read: the two booleans are computed in SQL. No Collection.mode filter at all (a NULL
mode is not 'Bookmark'; the TS's ``mode != 'Bookmark'`` dropped them, SPEC §4).

createdAt: ``CollectionContributor.createdAt`` is nullable, so the SPEC fallback
COALESCE(cc.createdAt, cc.updatedAt, Collection.createdAt, 1970-01-01 00:00:00.000) is used
(Collection LEFT JOINed for it; a missing collection falls through to the epoch); each
substitution tier is counted and the window applies to the same COALESCE in SQL.
"""

from __future__ import annotations

import polars as pl

from metric_backfill.package import INDEX_JOINS, Expected, Metric, Package
from metric_backfill.transforms._common import (
    COLLECTION_TIME,
    COLLECTION_TIME_TIER,
    collection_time_sql,
)

c = pl.col

EVENT_AT_SQL = collection_time_sql("cc")
event_at = COLLECTION_TIME
no_event = (
    pl.when(c("hasView") | c("hasAdd")).then(None)
    .when(c("noPermissions")).then(pl.lit("empty permissions"))
    .otherwise(pl.lit("permissions without VIEW or ADD"))
)

PACKAGE = Package(
    name="collection_contributor",
    source="postgres",
    description="collection followers (VIEW) and contributors (ADD)",
    from_sql='"CollectionContributor" cc LEFT JOIN "Collection" col ON col.id = cc."collectionId"',
    columns='cc."userId", cc."collectionId", '
    """'VIEW' = ANY(cc.permissions) AS "hasView", 'ADD' = ANY(cc.permissions) AS "hasAdd", """
    'cardinality(cc.permissions) = 0 AS "noPermissions", '
    'cc."createdAt", cc."updatedAt", col."createdAt" AS "collectionCreatedAt"',
    key='cc."userId"',
    pg_settings=INDEX_JOINS,
    key_kind="int",
    time_filter=(EVENT_AT_SQL,),
    row_key=("userId", "collectionId"),
    tables={
        "CollectionContributor": ("userId", "collectionId", "permissions", "createdAt", "updatedAt"),
        "Collection": ("id", "createdAt"),
    },
    metrics=(
        Metric("Collection", "contributorCount", entity_id=c("collectionId"), user_id=c("userId"),
               created_at=event_at,
               where=c("hasAdd")),
        Metric("Collection", "followerCount", entity_id=c("collectionId"), user_id=c("userId"),
               created_at=event_at,
               where=c("hasView")),
    ),
    skips_by={
        "CollectionContributor.createdAt NULL, createdAt taken from": COLLECTION_TIME_TIER,
        "CollectionContributor with no event": no_event,
    },
    expected=(
        Expected(
            ("Collection.contributorCount", "Collection.followerCount"),
            """
            WITH r AS (
              SELECT x."collectionId", x.permissions,
                     date_trunc('month', COALESCE(x."createdAt", x."updatedAt", k."createdAt",
                                                  TIMESTAMP '1970-01-01'))::date AS month
              FROM "CollectionContributor" x LEFT JOIN "Collection" k ON k.id = x."collectionId"
              WHERE COALESCE(x."createdAt", x."updatedAt", k."createdAt", TIMESTAMP '1970-01-01')
                    >= {since}
                AND COALESCE(x."createdAt", x."updatedAt", k."createdAt", TIMESTAMP '1970-01-01')
                    < {cutoff}
            )
            SELECT 'Collection' AS "entityType", "collectionId" AS "entityId",
                   'contributorCount' AS "metricType", month, count(*) AS value
            FROM r WHERE permissions @> ARRAY['ADD']::"CollectionContributorPermission"[]
            GROUP BY 2, 4
            UNION ALL
            SELECT 'Collection', "collectionId", 'followerCount', month, count(*)
            FROM r WHERE permissions @> ARRAY['VIEW']::"CollectionContributorPermission"[]
            GROUP BY 2, 4
            """,
        ),
    ),
)
