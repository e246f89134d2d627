"""P13 — ImageResourceNew ⋈ Image ⋈ ModelVersion: Model.imageCount and ModelVersion.imageCount.

SPEC §2 #39 and #48. One event per (image, model version) row of ImageResourceNew, for the
version and for the version's model: an image that uses two versions of one model counts twice
for that model (as the old Model = Σ versions did). userId = ``Image.userId`` (the image's
author), createdAt = ``Image.createdAt`` (the window applies to it). Image is an inner JOIN read
by the batch's imageId range (the FK cascades, so nothing is lost in a consistent database); the
version's model comes from the run's ModelVersion → modelId lookup rather than a join, so no
batch reads ModelVersion whole. The batching key is the leading PK column ``imageId``.
"""

from __future__ import annotations

import polars as pl

from metric_backfill.package import Expected, Metric, Package
from metric_backfill.transforms._clickhouse import LOOKUPS, with_model_id

c = pl.col

PACKAGE = Package(
    name="image_resource",
    source="postgres",
    description="model versions used by images, credited to the version and its model",
    from_sql='"ImageResourceNew" irn JOIN "Image" i ON i.id = irn."imageId"',
    columns='irn."imageId", irn."modelVersionId", i."userId", i."createdAt"',
    key='irn."imageId"',
    key_also=("i.id",),
    key_kind="int",
    time_filter=('i."createdAt"',),
    row_key=("imageId", "modelVersionId"),
    lookups=LOOKUPS,
    prepare=lambda rows, ctx: with_model_id(rows, ctx.lookups),
    tables={
        "ImageResourceNew": ("imageId", "modelVersionId"),
        "Image": ("id", "userId", "createdAt"),
        "ModelVersion": ("id", "modelId"),
    },
    metrics=(
        Metric("Model", "imageCount", entity_id=c("modelId"), user_id=c("userId"),
               created_at=c("createdAt"),
               skip_null="ModelVersion missing in Postgres"),
        Metric("ModelVersion", "imageCount", entity_id=c("modelVersionId"), user_id=c("userId"),
               created_at=c("createdAt")),
    ),
    expected=(
        Expected(
            ("ModelVersion.imageCount",),
            """
            SELECT 'ModelVersion' AS "entityType", r."modelVersionId" AS "entityId",
                   'imageCount' AS "metricType",
                   date_trunc('month', i."createdAt")::date AS month, count(*) AS value
            FROM "ImageResourceNew" r JOIN "Image" i ON i.id = r."imageId"
            WHERE i."createdAt" >= {since} AND i."createdAt" < {cutoff}
            GROUP BY r."modelVersionId", month
            """,
        ),
        Expected(
            ("Model.imageCount",),
            """
            SELECT 'Model' AS "entityType", mv."modelId" AS "entityId",
                   'imageCount' AS "metricType", per_version.month, sum(per_version.n) AS value
            FROM (
              SELECT r."modelVersionId", date_trunc('month', i."createdAt")::date AS month,
                     count(*) AS n
              FROM "ImageResourceNew" r JOIN "Image" i ON i.id = r."imageId"
              WHERE i."createdAt" >= {since} AND i."createdAt" < {cutoff}
              GROUP BY r."modelVersionId", month
            ) per_version JOIN "ModelVersion" mv ON mv.id = per_version."modelVersionId"
            GROUP BY mv."modelId", per_version.month
            """,
        ),
    ),
)
