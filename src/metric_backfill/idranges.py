"""Entity-id ranges of about N rows, for comparisons run inside ClickHouse one range at a time.

verify and compare both group rows per entity inside the target ClickHouse; doing it one entity
type and id range at a time bounds each GROUP BY whatever the data. The ranges are cut at row
quantiles of the id (a sample of 8,192 ids, deterministic), not at equal widths: an outlier id
or a busy stretch of ids does not put most rows in one range.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

LEVELS = 1000
"""Quantiles of the entity id the ranges are cut at (at most this many ranges)."""


def id_ranges(query: Callable[[str], list[tuple]], rows: str, chunk_rows: int) -> list[tuple[int, int]]:
    """Half-open ``[lo, hi)`` ranges of ``entityId`` covering every row of the SQL ``rows``
    (one entity type), about ``chunk_rows`` rows each; none when ``rows`` is empty."""
    lo, hi, n = query(f"SELECT min(entityId), max(entityId), count() FROM ({rows})")[0]
    if n == 0:
        return []
    if n <= chunk_rows:  # one range: no quantiles to compute
        return [(lo, hi + 1)]
    levels = ", ".join(f"{i / LEVELS}" for i in range(1, LEVELS))
    (qs,) = query(f"SELECT quantilesDeterministic({levels})(entityId, cityHash64(entityId)) "
                  f"FROM ({rows})")[0]
    chunks = min(math.ceil(n / chunk_rows), LEVELS)
    cuts = {math.ceil(qs[min(max(round(i * LEVELS / chunks) - 1, 0), LEVELS - 2)])
            for i in range(1, chunks)}
    edges = [lo, *sorted(c for c in cuts if lo < c <= hi), hi + 1]
    return list(itertools.pairwise(edges))
