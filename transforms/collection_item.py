"""P2 — CollectionItem: Collection.itemCount and the collected entity's count.

Metrics (SPEC §2 #6, #24, #25, #34, #58): Collection.itemCount for every item, whatever its
status (REVIEW/REJECTED included, as the old COUNT(1)); Article.collectedCount,
Image.Collection, Model.collectedCount and Post.collectedCount for the item's entity column.
One event per row (row counts, not distinct adders: SPEC §3.3), value 1, userId
COALESCE(addedById, 0) (NULL counted as a substitution).

createdAt: ``CollectionItem.createdAt`` is nullable, so every metric of this package uses the
SPEC fallback COALESCE(ci.createdAt, ci.updatedAt, Collection.createdAt, 1970-01-01 00:00:00.000)
(the §2 table writes plain ci.createdAt for Model/Post; one createdAt per row for all its events is
the choice made here, so a NULL createdAt never drops an item from some metrics and not others).
Each substitution tier is counted. The window is applied to that same COALESCE in SQL.

Skips: an item with none of model/post/article/image id yields only itemCount (counted);
"article exists" / "model exists" (SPEC #6, #34) are checked with LEFT JOINs and a dangling id
is counted, never emitted. ``Image.Collection`` collides with the legacy image migration's
name (SPEC §3.1): the engine's guard and ``--exclude-metrics`` handle it, not this module.
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

EVENT_AT_SQL = collection_time_sql("ci")
event_at = COLLECTION_TIME
added_by = c("addedById").fill_null(0)
ENTITY_COLUMNS = ("articleId", "imageId", "modelId", "postId")


def _entity(entity: str, metric: str, column: str, exists: str | None = None) -> Metric:
    """An entity-level event for items whose ``column`` is set (and whose entity exists)."""
    entity_id = c(column) if exists is None else pl.when(c(exists)).then(c(column))
    return Metric(entity, metric, entity_id=entity_id, user_id=added_by, created_at=event_at,
                  where=c(column).is_not_null(),
                  skip_null=f"CollectionItem.{column} has no {entity} row")


n_entities = pl.sum_horizontal(*(c(k).is_not_null().cast(pl.Int32) for k in ENTITY_COLUMNS))

PACKAGE = Package(
    name="collection_item",
    source="postgres",
    description="items added to collections: the collection's item count and the entity's collected count",
    from_sql='"CollectionItem" ci LEFT JOIN "Collection" col ON col.id = ci."collectionId" '
    'LEFT JOIN "Article" a ON a.id = ci."articleId" LEFT JOIN "Model" m ON m.id = ci."modelId"',
    columns='ci.id, ci."collectionId", ci."articleId", ci."imageId", ci."modelId", ci."postId", '
    'ci."addedById", ci."createdAt", ci."updatedAt", col."createdAt" AS "collectionCreatedAt", '
    'a.id IS NOT NULL AS "articleExists", m.id IS NOT NULL AS "modelExists"',
    key="ci.id",
    pg_settings=INDEX_JOINS,
    key_kind="int",
    time_filter=(EVENT_AT_SQL,),
    tables={
        "CollectionItem": ("id", "collectionId", "articleId", "imageId", "modelId", "postId",
                           "addedById", "createdAt", "updatedAt"),
        "Collection": ("id", "createdAt"),
        "Article": ("id",),
        "Model": ("id",),
    },
    metrics=(
        Metric("Collection", "itemCount", entity_id=c("collectionId"), user_id=added_by,
               created_at=event_at),
        _entity("Article", "collectedCount", "articleId", exists="articleExists"),
        _entity("Image", "Collection", "imageId"),
        _entity("Model", "collectedCount", "modelId", exists="modelExists"),
        _entity("Post", "collectedCount", "postId"),
    ),
    skips={
        "CollectionItem.addedById NULL (userId 0)": c("addedById").is_null(),
        "CollectionItem with no model/post/article/image id (itemCount only)": n_entities == 0,
        "CollectionItem with several entity ids (each credited)": n_entities > 1,
    },
    skips_by={"CollectionItem.createdAt NULL, createdAt taken from": COLLECTION_TIME_TIER},
    expected=(
        Expected(
            ("Collection.itemCount", "Image.Collection", "Post.collectedCount"),
            """
            WITH items AS (
              SELECT i."collectionId", i."imageId", i."postId",
                     date_trunc('month', COALESCE(i."createdAt", i."updatedAt", k."createdAt",
                                                  TIMESTAMP '1970-01-01'))::date AS month
              FROM "CollectionItem" i LEFT JOIN "Collection" k ON k.id = i."collectionId"
              WHERE COALESCE(i."createdAt", i."updatedAt", k."createdAt", TIMESTAMP '1970-01-01')
                    >= {since}
                AND COALESCE(i."createdAt", i."updatedAt", k."createdAt", TIMESTAMP '1970-01-01')
                    < {cutoff}
            )
            SELECT 'Collection' AS "entityType", "collectionId" AS "entityId",
                   'itemCount' AS "metricType", month, count(*) AS value FROM items GROUP BY 2, 4
            UNION ALL
            SELECT 'Image', "imageId", 'Collection', month, count(*) FROM items
            WHERE "imageId" IS NOT NULL GROUP BY 2, 4
            UNION ALL
            SELECT 'Post', "postId", 'collectedCount', month, count(*) FROM items
            WHERE "postId" IS NOT NULL GROUP BY 2, 4
            """,
        ),
        Expected(
            ("Article.collectedCount",),
            """
            SELECT 'Article' AS "entityType", ar.id AS "entityId",
                   'collectedCount' AS "metricType",
                   date_trunc('month', COALESCE(i."createdAt", i."updatedAt", k."createdAt",
                                                TIMESTAMP '1970-01-01'))::date AS month,
                   count(*) AS value
            FROM "CollectionItem" i
            JOIN "Article" ar ON ar.id = i."articleId"
            LEFT JOIN "Collection" k ON k.id = i."collectionId"
            WHERE COALESCE(i."createdAt", i."updatedAt", k."createdAt", TIMESTAMP '1970-01-01')
                  >= {since}
              AND COALESCE(i."createdAt", i."updatedAt", k."createdAt", TIMESTAMP '1970-01-01')
                  < {cutoff}
            GROUP BY ar.id, month
            """,
        ),
        Expected(
            ("Model.collectedCount",),
            """
            SELECT 'Model' AS "entityType", mo.id AS "entityId",
                   'collectedCount' AS "metricType",
                   date_trunc('month', COALESCE(i."createdAt", i."updatedAt", k."createdAt",
                                                TIMESTAMP '1970-01-01'))::date AS month,
                   count(*) AS value
            FROM "CollectionItem" i
            JOIN "Model" mo ON mo.id = i."modelId"
            LEFT JOIN "Collection" k ON k.id = i."collectionId"
            WHERE COALESCE(i."createdAt", i."updatedAt", k."createdAt", TIMESTAMP '1970-01-01')
                  >= {since}
              AND COALESCE(i."createdAt", i."updatedAt", k."createdAt", TIMESTAMP '1970-01-01')
                  < {cutoff}
            GROUP BY mo.id, month
            """,
        ),
    ),
)
