"""P19 — ClickHouse orchestration.jobs: generationCount per (job, model version used).

Value ``if(blobsCount = 0, 1, blobsCount)`` (SPEC §3.11) for the four generation job types;
excluded version ids (``--exclude-versions``) give no event; the Model event needs the version
in Postgres (missing → that row's Model event is skipped and counted, never the batch).
"""

from __future__ import annotations

import polars as pl

from metric_backfill.package import Context, Expected, Metric, Package
from metric_backfill.transforms._clickhouse import LOOKUPS, MODEL_VERSIONS, nonzero, with_model_id

c = pl.col
JOB_TYPES = ("TextToImageV2", "TextToImage", "Comfy", "comfyVideoGen")
_jobs = ", ".join(f"'{j}'" for j in JOB_TYPES)


def _prepare(rows: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    excluded = [int(v) for v in ctx.params.get("exclude_versions", [])]  # type: ignore[union-attr]
    return with_model_id(rows, ctx.lookups).with_columns(
        c("modelVersionId").is_in(excluded).alias("excluded"),
        pl.when(c("blobsCount") == 0).then(1).otherwise(c("blobsCount")).alias("value"),
    )


counted = ~c("excluded")

PACKAGE = Package(
    name="orchestration_jobs",
    source="clickhouse",
    description="generation jobs and the model versions they used",
    from_sql="orchestration.jobs ARRAY JOIN resourcesUsed AS modelVersionId",
    columns="jobId, createdAt, userId, modelVersionId, blobsCount",
    key="createdAt",
    key_kind="time",
    time_filter=("createdAt",),
    where=f"jobType IN ({_jobs})",
    row_key=("jobId", "modelVersionId"),
    default_batch_size=500_000,
    tables={"orchestration.jobs": ("jobId", "jobType", "createdAt", "userId", "resourcesUsed", "blobsCount")},
    lookups=LOOKUPS,
    prepare=_prepare,
    skips={"excluded model version id (--exclude-versions)": c("excluded")},
    metrics=(
        Metric("Model", "generationCount", entity_id=c("modelId"), user_id=c("userId"),
               created_at=c("createdAt"),
               value=c("value"), where=counted & (c("modelVersionId") != 0),
               skip_null="ModelVersion missing in Postgres"),
        Metric("ModelVersion", "generationCount", entity_id=nonzero("modelVersionId"),
               user_id=c("userId"),
               created_at=c("createdAt"), value=c("value"), where=counted, skip_null="modelVersionId = 0"),
    ),
    pushdown="""
        SELECT 'Model', mv.modelId, j.userId, 'generationCount',
               toInt32(if(j.blobsCount = 0, 1, j.blobsCount)), j.createdAt
        FROM orchestration.jobs AS j ARRAY JOIN j.resourcesUsed AS modelVersionId
        INNER JOIN {model_versions} AS mv ON mv.id = modelVersionId
        WHERE {filter} AND modelVersionId != 0 AND modelVersionId NOT IN ({exclude_versions})
        UNION ALL
        SELECT 'ModelVersion', modelVersionId, userId, 'generationCount',
               toInt32(if(blobsCount = 0, 1, blobsCount)), createdAt
        FROM orchestration.jobs ARRAY JOIN resourcesUsed AS modelVersionId
        WHERE {filter} AND modelVersionId != 0 AND modelVersionId NOT IN ({exclude_versions})
    """,
    expected=tuple(
        Expected(
            (f"{entity}.generationCount",),
            f"""
            SELECT '{entity}' AS entityType, v AS entityId, 'generationCount' AS metricType,
                   toStartOfMonth(createdAt, 'UTC') AS month,
                   sum(if(blobsCount = 0, 1, blobsCount)) AS value
            FROM orchestration.jobs ARRAY JOIN resourcesUsed AS v
            WHERE jobType IN ({_jobs}) AND createdAt >= {{since}} AND createdAt < {{cutoff}}
              AND v != 0 AND v NOT IN ({{exclude_versions}})
            GROUP BY v, month
            """,
            remap=MODEL_VERSIONS if entity == "Model" else None,
        )
        for entity in ("ModelVersion", "Model")
    ),
)
