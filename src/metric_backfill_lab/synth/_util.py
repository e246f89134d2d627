"""Vectorised sampling helpers: per-table RNG streams, heavy-tailed picks, gapped ids, dedupe.

Shared by the Postgres and the ClickHouse generators; turning arrays into Polars columns is the
Postgres side's business (``pg.columns``).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

from .constants import EDGE_MS, END_MS, START_MS

Array = np.ndarray


def child_rng(seed: int, name: str) -> np.random.Generator:
    """An independent, stable stream per table: changing one table never shifts another."""
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, zlib.crc32(name.encode())])


def gapped_ids(rng: np.random.Generator, n: int, start: int = 1, gap_p: float = 0.03,
               gap_max: int = 200) -> Array:
    """Increasing ids with random holes (deleted rows), as a real serial column has."""
    steps = np.ones(n, dtype=np.int64)
    gaps = rng.random(n) < gap_p
    steps[gaps] += rng.integers(1, gap_max, size=int(gaps.sum()))
    return start - 1 + np.cumsum(steps)


def times(rng: np.random.Generator, n: int, lo: int = START_MS, hi: int = END_MS,
          skew: float = 0.6) -> Array:
    """Epoch-ms instants in ``[lo, hi)``, denser towards ``hi`` (the platform grows)."""
    u = rng.random(n) ** skew
    return lo + (u * (hi - lo)).astype(np.int64)


def after(rng: np.random.Generator, base: Array, power: float = 8.0, hi: int = END_MS) -> Array:
    """Instants after ``base`` (a reaction after its image): mostly soon, with a long tail."""
    base = np.clip(base, START_MS, hi - 1)
    u = rng.random(len(base)) ** power
    return base + (u * (hi - base)).astype(np.int64)


def zipf_weights(rng: np.random.Generator, n: int, s: float) -> Array:
    """Zipf-like popularity over ``n`` items in random rank order (popularity ≠ id order)."""
    ranks = rng.permutation(n)
    w = 1.0 / (ranks + 1.0) ** s
    return w / w.sum()


def pick(rng: np.random.Generator, n: int, size: int, weights: Array | None = None) -> Array:
    """``size`` indices into ``n`` items, drawn with replacement by ``weights``."""
    if weights is None:
        return rng.integers(0, n, size=size)
    return rng.choice(n, size=size, p=weights)


def choice(rng: np.random.Generator, size: int, probs: Sequence[float]) -> Array:
    """Category codes 0..k-1 with the given probabilities."""
    p = np.asarray(probs, dtype=np.float64)
    return rng.choice(len(p), size=size, p=p / p.sum())


def dedupe(keys: Sequence[Array], prio: Array | None = None) -> Array:
    """Sorted positions of the first row of each distinct key (rows with prio 0 win first)."""
    n = len(keys[0])
    combined = np.zeros(n, dtype=np.int64)
    for k in keys:
        k = np.asarray(k, dtype=np.int64)
        radix = int(k.max()) + 1 if n else 1  # mixed radix: exact, no collisions
        combined = combined * radix + k
    order = np.argsort(prio, kind="stable") if prio is not None else np.arange(n)
    _, first = np.unique(combined[order], return_index=True)
    return np.sort(order[first])


class Picker:
    """Chooses disjoint rows of one table for the forced edge cases (no row serves two cases)."""

    def __init__(self, rng: np.random.Generator, n: int) -> None:
        self.rng = rng
        self.taken = np.zeros(n, dtype=bool)

    def pick(self, k: int, eligible: Array | None = None) -> Array:
        ok = ~self.taken if eligible is None else (eligible & ~self.taken)
        pool = np.flatnonzero(ok)
        if len(pool) == 0:
            return pool
        rows = self.rng.choice(pool, size=min(k, len(pool)), replace=False)
        self.taken[rows] = True
        return rows

    def edges(self, ts: Array, eligible: Array | None = None) -> Array:
        """Put the six window-edge instants into ``ts`` (in place) on fresh rows."""
        rows = self.pick(len(EDGE_MS), eligible)
        ts[rows] = EDGE_MS[: len(rows)]
        return rows
