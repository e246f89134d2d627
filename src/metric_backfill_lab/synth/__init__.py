"""Deterministic synthetic source data: the Civitai Postgres tables and the three ClickHouse tables,
and the legacy metric tables computed from them (``legacy``).

``seed(pg_dsn, ch_client, scale, seed)`` fills both; scale 1 is about 1 M source rows in all,
linear in scale, and every scale holds every edge case of SPEC §5.
"""

from __future__ import annotations

from typing import Any

from .clickhouse import (
    create_clickhouse_schema,
    generate_clickhouse,
    insert_clickhouse,
    seed_clickhouse,
)
from .constants import DEFAULT_CUTOFF, EDGE_SINCE
from .legacy import generate_legacy
from .pg import EXCLUDED_VERSIONS, generate_pg
from .pg_load import load_metric_tables, load_pg, seed_pg
from .schema import create_pg_schema

__all__ = [
    "DEFAULT_CUTOFF",
    "EDGE_SINCE",
    "EXCLUDED_VERSIONS",
    "create_clickhouse_schema",
    "create_pg_schema",
    "generate_clickhouse",
    "generate_legacy",
    "generate_pg",
    "insert_clickhouse",
    "load_metric_tables",
    "load_pg",
    "seed",
    "seed_clickhouse",
    "seed_pg",
]


def seed(pg_dsn: str, ch_client: Any, scale: float, seed: int) -> dict[str, int]:
    """Fill Postgres and ClickHouse; rows per source table (ClickHouse tables as ``db.table``).

    The ClickHouse rows draw their model versions from the Postgres frames, so most of them
    refer to versions that exist (and a known share to versions that do not). The legacy
    metric tables are computed from both and loaded last; they are not backfill sources, so
    their rows are not in the counts.
    """
    frames = generate_pg(scale, seed)
    counts = load_pg(pg_dsn, frames)
    versions = frames["ModelVersion"]
    ch = generate_clickhouse(scale, seed, versions["id"], versions["modelId"])
    counts.update(insert_clickhouse(ch_client, ch))
    load_metric_tables(pg_dsn, generate_legacy(frames, ch, seed).frames)
    return counts
