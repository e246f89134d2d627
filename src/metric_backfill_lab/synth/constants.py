"""Fixed dates, edge instants and table sizes shared by the Postgres and ClickHouse generators."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

GENERATION = 2
"""What a (scale, seed) generates, as a version: raised whenever the generator's output changes
(2: the legacy *Metric tables), so a directory seeded by another generation is seeded again."""

EDGE_SINCE = datetime(2023, 6, 1, 0, 0, 0)
"""The ``--since`` value the tests use (naive UTC)."""

DEFAULT_CUTOFF = datetime(2024, 8, 7, 15, 44, 39, 44000)
"""The default cutoff of SPEC §0 (naive UTC)."""

DATA_START = datetime(2022, 1, 1)
DATA_END = datetime(2024, 11, 1)  # exclusive: data runs to the end of 2024-10-31

_EPOCH = datetime(1970, 1, 1)
_MS = timedelta(milliseconds=1)


def to_ms(value: datetime) -> int:
    """Milliseconds since the Unix epoch of a naive-UTC datetime (no local time zone involved)."""
    return (value - _EPOCH) // _MS


START_MS = to_ms(DATA_START)
END_MS = to_ms(DATA_END)
SINCE_MS = to_ms(EDGE_SINCE)
CUTOFF_MS = to_ms(DEFAULT_CUTOFF)

EDGE_MS = np.array(
    [SINCE_MS - 1, SINCE_MS, SINCE_MS + 1, CUTOFF_MS - 1, CUTOFF_MS, CUTOFF_MS + 1], dtype=np.int64
)
"""Every metric timestamp column gets these six instants: the window bounds and 1 ms either side."""

EDGE_S = np.array(
    [SINCE_MS // 1000 - 1, SINCE_MS // 1000, SINCE_MS // 1000 + 1,
     CUTOFF_MS // 1000 - 1, CUTOFF_MS // 1000, CUTOFF_MS // 1000 + 1],
    dtype=np.int64,
)
"""Second-precision edges for ClickHouse ``DateTime`` columns (cutoff 15:44:39.044 → :38, :39, :40)."""

DAY_MS = 86_400_000

# Rows at scale 1 (the whole data set is ~1 M rows); each table also has a floor so that tiny
# scales still hold every edge case.
PG_SIZES: dict[str, tuple[int, int]] = {
    # table: (rows at scale 1, minimum rows)
    "User": (20_000, 300),
    "Tag": (3_000, 40),
    "Model": (5_000, 40),
    "ModelVersion": (10_000, 80),
    "Post": (20_000, 100),
    "Image": (80_000, 300),
    "ImageReaction": (250_000, 500),
    "ImageResourceNew": (80_000, 200),
    "Article": (3_000, 40),
    "ArticleReaction": (20_000, 150),
    "Collection": (5_000, 60),
    "CollectionItem": (80_000, 300),
    "CollectionContributor": (15_000, 150),
    "Thread": (20_000, 200),
    "CommentV2": (60_000, 300),
    "Comment": (20_000, 150),
    "ResourceReview": (30_000, 200),
    "UserEngagement": (60_000, 300),
    "TagEngagement": (30_000, 150),
    "Bounty": (1_000, 25),
    "BountyEntry": (4_000, 60),
    "BountyEntryReaction": (10_000, 100),
    "BountyBenefactor": (3_000, 50),
    "BountyEngagement": (5_000, 60),
    "BuzzTip": (30_000, 200),
}

CH_SIZES: dict[str, tuple[int, int]] = {
    "modelVersionEvents": (100_000, 500),
    "jobs": (50_000, 300),
    "buzz_resource_compensation": (10_000, 150),
}


def size(sizes: dict[str, tuple[int, int]], table: str, scale: float) -> int:
    """Rows for ``table`` at ``scale``: linear, never under the table's floor."""
    base, floor = sizes[table]
    return max(floor, int(round(base * scale)))
