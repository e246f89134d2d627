"""P18 — ClickHouse modelVersionEvents: one downloadCount event per Download event.

One event per download for both the Model and the ModelVersion, anonymous downloads kept with
userId 0 (SPEC §3.4); rows with modelId or modelVersionId 0 are skipped for that entity.
"""

from __future__ import annotations

import polars as pl

from metric_backfill.package import Expected, Metric, Package
from metric_backfill.transforms._clickhouse import nonzero

c = pl.col

PACKAGE = Package(
    name="model_version_events",
    source="clickhouse",
    description="model downloads from the ClickHouse event log",
    from_sql="default.modelVersionEvents",
    columns="time, userId, modelId, modelVersionId",
    key="time",
    key_kind="time",
    time_filter=("time",),
    where="type = 'Download'",
    row_key=("time", "modelId", "modelVersionId", "userId"),
    default_batch_size=500_000,
    tables={"default.modelVersionEvents": ("type", "time", "userId", "modelId", "modelVersionId")},
    metrics=(
        Metric("Model", "downloadCount", entity_id=nonzero("modelId"), user_id=c("userId"),
               created_at=c("time"),
               skip_null="modelId = 0"),
        Metric("ModelVersion", "downloadCount", entity_id=nonzero("modelVersionId"),
               user_id=c("userId"), created_at=c("time"),
               skip_null="modelVersionId = 0"),
    ),
    pushdown="""
        SELECT 'Model', modelId, userId, 'downloadCount', toInt32(1), toDateTime64(time, 3)
        FROM default.modelVersionEvents WHERE {filter} AND modelId != 0
        UNION ALL
        SELECT 'ModelVersion', modelVersionId, userId, 'downloadCount', toInt32(1), toDateTime64(time, 3)
        FROM default.modelVersionEvents WHERE {filter} AND modelVersionId != 0
    """,
    expected=(
        Expected(
            ("Model.downloadCount", "ModelVersion.downloadCount"),
            """
            SELECT 'Model' AS entityType, modelId AS entityId, 'downloadCount' AS metricType,
                   toStartOfMonth(time, 'UTC') AS month, count() AS value
            FROM default.modelVersionEvents
            WHERE type = 'Download' AND time >= {since} AND time < {cutoff} AND modelId != 0
            GROUP BY modelId, month
            UNION ALL
            SELECT 'ModelVersion', modelVersionId, 'downloadCount',
                   toStartOfMonth(time, 'UTC') AS month, count()
            FROM default.modelVersionEvents
            WHERE type = 'Download' AND time >= {since} AND time < {cutoff} AND modelVersionId != 0
            GROUP BY modelVersionId, month
            """,
        ),
    ),
)
