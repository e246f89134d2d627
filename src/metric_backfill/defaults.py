"""Defaults of the product (SPEC §0)."""

from __future__ import annotations

from datetime import datetime

DEFAULT_CUTOFF = datetime(2024, 8, 7, 15, 44, 39, 44000)
"""The moment the live event handlers took over (UTC): the backfill window ends here."""

DEFAULT_TABLE = "entityMetricEvents"
DEFAULT_STATE = ".metric-backfill"

LEGACY_IMAGE_METRICS = (
    "Buzz", "Collection", "Comment", "ReactionLike", "ReactionHeart", "ReactionLaugh", "ReactionCry",
)
"""Names an earlier image migration wrote before the cutoff (SPEC §3.1)."""

DEFAULT_EXCLUDED_VERSIONS = (106916, 250708, 250712)
"""Model versions left out of generationCount (SPEC §2 #38), unless --exclude-versions says otherwise."""


def default_params() -> dict[str, object]:
    return {"exclude_versions": list(DEFAULT_EXCLUDED_VERSIONS)}


def excluded_versions_sql(params: dict[str, object]) -> str:
    """``exclude_versions`` as the SQL list the templates put in ``IN ({exclude_versions})``
    (``0`` when empty: no version has id 0, and ``IN ()`` is not SQL)."""
    versions = [int(v) for v in params.get("exclude_versions", []) or []]  # type: ignore[union-attr]
    return ", ".join(map(str, versions)) or "0"
