"""Shared pieces of the ClickHouse-source packages, and the ModelVersion lookup (also used by
image_resource)."""

from __future__ import annotations

import polars as pl

MODEL_VERSIONS = "model_versions"
"""Lookup name: Postgres ModelVersion id → modelId, loaded once per run."""
MODEL_VERSIONS_SQL = 'SELECT id, "modelId" FROM "ModelVersion"'

LOOKUPS = {MODEL_VERSIONS: MODEL_VERSIONS_SQL}


def nonzero(col: str) -> pl.Expr:
    """0 means "unknown" in these tables: no event (SPEC §2 skips)."""
    return pl.when(pl.col(col) != 0).then(pl.col(col))


def with_model_id(rows: pl.DataFrame, lookups: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Add ``modelId`` from the Postgres ModelVersion map (NULL when the version is missing)."""
    mv = lookups[MODEL_VERSIONS].select(
        pl.col("id").cast(pl.Int32).alias("modelVersionId"), pl.col("modelId").cast(pl.Int32)
    )
    return rows.join(mv, on="modelVersionId", how="left", maintain_order="left")
