"""Shared vocabulary of the Civitai packages."""

from __future__ import annotations

from datetime import datetime

import polars as pl

REACTIONS = ("Like", "Dislike", "Laugh", "Cry", "Heart")
"""The ``ReviewReactions`` enum: each value is used as a metricType."""


EPOCH = datetime(1970, 1, 1)


def collection_time_sql(alias: str) -> str:
    """SQL of the createdAt fallback (SPEC §2): own createdAt, own updatedAt, the collection's
    createdAt (joined as ``col``), else 1970-01-01; the window filter uses exactly this."""
    return (
        f'COALESCE({alias}."createdAt", {alias}."updatedAt", col."createdAt", '
        "TIMESTAMP '1970-01-01 00:00:00.000')"
    )


COLLECTION_TIME = pl.coalesce(
    pl.col("createdAt"), pl.col("updatedAt"), pl.col("collectionCreatedAt"),
    pl.lit(EPOCH, dtype=pl.Datetime("ms")),
)
"""The same fallback over the batch columns ``createdAt, updatedAt, collectionCreatedAt``."""

COLLECTION_TIME_TIER = (
    pl.when(pl.col("createdAt").is_not_null()).then(None)
    .when(pl.col("updatedAt").is_not_null()).then(pl.lit("updatedAt"))
    .when(pl.col("collectionCreatedAt").is_not_null()).then(pl.lit("Collection.createdAt"))
    .otherwise(pl.lit("1970-01-01 00:00:00.000"))
)
"""Which fallback tier a row used (NULL: its own createdAt), for the run report's skips_by."""
