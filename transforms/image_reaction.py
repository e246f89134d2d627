"""P5 — ImageReaction ⋈ Image: Image/Post reactions, Post.reactionCount, User.reactionCount."""

from __future__ import annotations

import polars as pl

from metric_backfill.package import Expected, Metric, Package
from metric_backfill.transforms._common import REACTIONS

c = pl.col
reaction = c("reaction")

PACKAGE = Package(
    name="image_reaction",
    source="postgres",
    description="reactions on images, credited to the image, its post and its owner",
    from_sql='"ImageReaction" ir JOIN "Image" i ON i.id = ir."imageId"',
    probe_from='"ImageReaction" ir',  # imageId is a foreign key to Image
    columns='ir.id, ir."imageId", ir."userId", ir.reaction::text AS reaction, ir."createdAt", '
    'i."userId" AS "ownerId", i."postId"',
    key="ir.id",
    key_kind="int",
    time_filter=('ir."createdAt"',),
    tables={
        "ImageReaction": ("id", "imageId", "userId", "reaction", "createdAt"),
        "Image": ("id", "userId", "postId"),
    },
    metrics=(
        Metric("Image", reaction, entity_id=c("imageId"), user_id=c("userId"),
               created_at=c("createdAt"), names=REACTIONS),
        Metric("Post", reaction, entity_id=c("postId"), user_id=c("userId"),
               created_at=c("createdAt"), names=REACTIONS,
               skip_null="Image.postId NULL"),
        Metric("Post", "reactionCount", entity_id=c("postId"), user_id=c("userId"),
               created_at=c("createdAt"),
               skip_null="Image.postId NULL"),
        Metric("User", "reactionCount", entity_id=c("ownerId"), user_id=c("userId"),
               created_at=c("createdAt"),
               skip_null="image owner NULL"),
    ),
    expected=(
        Expected(
            tuple(f"Image.{r}" for r in REACTIONS)
            + tuple(f"Post.{r}" for r in REACTIONS)
            + ("Post.reactionCount", "User.reactionCount"),
            """
            WITH r AS (
              SELECT ir."imageId", ir.reaction::text AS reaction, i."postId", i."userId" AS owner,
                     date_trunc('month', ir."createdAt")::date AS month
              FROM "ImageReaction" ir JOIN "Image" i ON i.id = ir."imageId"
              WHERE ir."createdAt" >= {since} AND ir."createdAt" < {cutoff}
            )
            SELECT 'Image' AS "entityType", "imageId" AS "entityId", reaction AS "metricType",
                   month, count(*) AS value FROM r GROUP BY 2, 3, 4
            UNION ALL
            SELECT 'Post', "postId", reaction, month, count(*) FROM r
            WHERE "postId" IS NOT NULL GROUP BY 2, 3, 4
            UNION ALL
            SELECT 'Post', "postId", 'reactionCount', month, count(*) FROM r
            WHERE "postId" IS NOT NULL GROUP BY 2, 4
            UNION ALL
            SELECT 'User', owner, 'reactionCount', month, count(*) FROM r
            WHERE owner IS NOT NULL GROUP BY 2, 4
            """,
        ),
    ),
)
