"""P20 — ClickHouse buzz_resource_compensation FINAL: earnedAmount per (version, day).

Read with FINAL (a ReplacingMergeTree: unmerged duplicates must not count twice). One
ModelVersion event (userId 0, value ``total``, at ``date``) per row, and one Model event per
row through the Postgres ModelVersion map; a version missing there skips only that row's
Model event (the reference dropped the whole day, SPEC §4).
"""

from __future__ import annotations

import polars as pl

from metric_backfill.package import Context, Expected, Metric, Package
from metric_backfill.transforms._clickhouse import LOOKUPS, MODEL_VERSIONS, nonzero, with_model_id

c = pl.col


def _prepare(rows: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    return with_model_id(rows, ctx.lookups)


PACKAGE = Package(
    name="buzz_resource_compensation",
    source="clickhouse",
    description="daily Buzz earned by model versions (creator compensation)",
    from_sql="default.buzz_resource_compensation FINAL",
    columns="date, modelVersionId, total",
    key="date",
    key_kind="time",
    time_filter=("date",),
    row_key=("date", "modelVersionId"),
    default_batch_size=500_000,
    tables={"default.buzz_resource_compensation": ("date", "modelVersionId", "total")},
    lookups=LOOKUPS,
    prepare=_prepare,
    metrics=(
        Metric("Model", "earnedAmount", entity_id=c("modelId"), user_id=pl.lit(0),
               created_at=c("date"), value=c("total"),
               where=c("modelVersionId") != 0, skip_null="ModelVersion missing in Postgres"),
        Metric("ModelVersion", "earnedAmount", entity_id=nonzero("modelVersionId"),
               user_id=pl.lit(0), created_at=c("date"),
               value=c("total"), skip_null="modelVersionId = 0"),
    ),
    pushdown="""
        SELECT 'Model', mv.modelId, toInt32(0), 'earnedAmount', accurateCast(b.total, 'Int32'), toDateTime64(b.date, 3)
        FROM default.buzz_resource_compensation AS b FINAL
        INNER JOIN {model_versions} AS mv ON mv.id = b.modelVersionId
        WHERE {filter} AND b.modelVersionId != 0
        UNION ALL
        SELECT 'ModelVersion', modelVersionId, toInt32(0), 'earnedAmount', accurateCast(total, 'Int32'), toDateTime64(date, 3)
        FROM default.buzz_resource_compensation FINAL WHERE {filter} AND modelVersionId != 0
    """,
    expected=tuple(
        Expected(
            (f"{entity}.earnedAmount",),
            f"""
            SELECT '{entity}' AS entityType, modelVersionId AS entityId,
                   'earnedAmount' AS metricType, toStartOfMonth(date, 'UTC') AS month,
                   sum(total) AS value
            FROM default.buzz_resource_compensation FINAL
            WHERE date >= {{since}} AND date < {{cutoff}} AND modelVersionId != 0
            GROUP BY modelVersionId, month
            """,
            remap=MODEL_VERSIONS if entity == "Model" else None,
        )
        for entity in ("ModelVersion", "Model")
    ),
)
