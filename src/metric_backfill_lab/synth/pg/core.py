"""The state every Postgres generation step shares, and the small array helpers they all use.

``Gen`` holds the scale, the seed and the frames built so far, plus one record per domain of the
arrays later steps look up (ids, creation times, owners, popularity), set by the step that
builds that table; ``Rows`` and ``Entity`` are the parts they share. Every table draws from its
own RNG stream, ``child_rng(seed, table name)``, so that adding draws to one table never shifts
another; keep that derivation as it is, or every table changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from .._util import Array, Picker, after, child_rng, gapped_ids, pick, times, zipf_weights
from ..constants import PG_SIZES, size

if TYPE_CHECKING:
    from .bounties import Bounties, Entries
    from .collections import Collections
    from .images import Images
    from .models import Versions
    from .users import Tags, Users


@dataclass(frozen=True)
class Rows:
    """Ids and creation instants: what a row that points at one of these needs."""

    id: Array
    ct: Array  # what points at a row is created after this instant


@dataclass(frozen=True)
class Entity(Rows):
    """Rows that users make and others react to, comment on and tip."""

    owner: Array  # position in Users
    pop: Array  # the weights other tables pick rows by


class Gen:
    """Scale, seed, the frames built so far and the records later steps read.

    A record is unset until its step has run: reading it earlier raises ``AttributeError``,
    which is how a step list in the wrong order shows itself.
    """

    users: Users
    tags: Tags
    models: Entity
    versions: Versions
    reviews: Rows
    colls: Collections
    posts: Entity
    images: Images
    articles: Entity
    bounties: Bounties
    entries: Entries

    def __init__(self, scale: float, seed: int) -> None:
        self.scale = scale
        self.seed = seed
        self.frames: dict[str, pl.DataFrame] = {}

    def n(self, table: str) -> int:
        """Rows wanted in ``table`` at this scale."""
        return size(PG_SIZES, table, self.scale)

    def rng(self, table: str) -> np.random.Generator:
        """A fresh stream for ``table``: the same one on every call."""
        return child_rng(self.seed, table)


def user_made(g: Gen, rng: np.random.Generator, n: int, time_skew: float, owner_weights: Array,
              pop_skew: float) -> Entity:
    """``n`` rows made by users: ids and creation times both increasing (a serial id follows
    creation time), owners picked by ``owner_weights``, and a popularity of their own."""
    ids = gapped_ids(rng, n)
    ct = np.sort(times(rng, n, skew=time_skew))
    owner = pick(rng, len(g.users.id), n, owner_weights)
    return Entity(id=ids, ct=ct, owner=owner, pop=zipf_weights(rng, n, pop_skew))


def take(keep: Array, prio: Array, n: int) -> Array:
    """At most ``n`` of the kept rows, forced (prio 0) rows first; returned in row order."""
    if len(keep) <= n:
        return keep
    sel = keep[np.argsort(prio[keep], kind="stable")][:n]
    return np.sort(sel)


def bools(rng: np.random.Generator, n: int, p: float) -> Array:
    return rng.random(n) < p


def by_time(ct: Array, *arrays: Array) -> tuple[Array, ...]:
    """``arrays`` reordered by ``ct``, ties in their order: rows are stored in creation order, so
    that ids drawn afterwards follow creation time as a serial column's do."""
    order = np.argsort(ct, kind="stable")
    return tuple(a[order] for a in arrays)


def edged_after(rng: np.random.Generator, base: Array, power: float,
                eligible: Array | None = None) -> Array:
    """Instants after ``base`` (see ``after``), six of the ``eligible`` rows put on the window
    edge instants, so that each table meets every window boundary at least once."""
    ct = after(rng, base, power)
    Picker(rng, len(ct)).edges(ct, eligible)
    return ct
