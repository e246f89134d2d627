"""Deterministic synthetic Civitai Postgres data (SPEC §5), built column-wise with numpy and Polars.

Each table draws from its own RNG stream (seed + table name), rows reference earlier tables by
*position* (so owners, parents and times are plain array lookups), popularity is Zipf-like, ids
have holes and follow creation time. After the random rows are drawn, a ``Picker`` rewrites a few
disjoint rows per table into the edge cases the backfill must handle; key-changing rewrites get a
priority so that deduplication keeps them. One module per domain builds its tables; ``steps``
states the order they run in, ``core`` holds the state they share.
"""

from .models import EXCLUDED_VERSIONS
from .steps import STEPS, generate_pg, model_versions

__all__ = ["EXCLUDED_VERSIONS", "STEPS", "generate_pg", "model_versions"]
