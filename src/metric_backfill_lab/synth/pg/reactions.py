"""What the three reaction tables (images, articles, bounty entries) have in common.

Each is a set of unique (target, user, reaction) rows drawn by target popularity and user
activity, created some time after its target, in creation order. The rows of ``forced_targets``
are kept whatever the deduplication drops, with every reaction type on them, because they are
the edge cases (NULL parents, edge instants) a reaction must reach. The step that calls this has
built the target table; users come from ``Gen.users``.
"""

from __future__ import annotations

import numpy as np

from .._util import Array, choice, dedupe, gapped_ids, pick
from ..schema import TABLES
from .columns import cat_series, frame, int_series, ts_series
from .core import Gen, by_time, take

REACTIONS = ["Like", "Dislike", "Laugh", "Cry", "Heart"]
REACTION_P = [0.55, 0.04, 0.08, 0.06, 0.27]


def draw(g: Gen, rng: np.random.Generator, n: int, targets: int, weights: Array,
         forced_targets: Array) -> tuple[Array, Array, Array]:
    """(target, user, reaction) rows, unique, with each reaction on ``forced_targets`` kept."""
    m = int(n * 1.3)
    tgt = pick(rng, targets, m, weights)
    usr = pick(rng, len(g.users.id), m, g.users.act)
    rx = choice(rng, m, REACTION_P)
    prio = np.ones(m, dtype=np.int64)
    k = min(m, max(10, len(forced_targets)))
    tgt[:k] = np.resize(forced_targets, k)
    rx[:k] = np.arange(k) % 5
    prio[:k] = 0
    keep = take(dedupe([tgt, usr, rx], prio), prio, n)
    return tgt[keep], usr[keep], rx[keep]


def write(g: Gen, rng: np.random.Generator, table: str, target: tuple[str, Array],
          rows: tuple[Array, Array, Array], ct: Array) -> None:
    """The frame of ``rows`` (target, user, reaction) created at ``ct``, in creation order;
    ``target`` is the target column and its ids. The id and updatedAt columns are written
    where the table has them."""
    column, target_ids = target
    tgt, usr, rx, ct = by_time(ct, *rows, ct)
    cols = [
        int_series(column, target_ids[tgt]),
        int_series("userId", g.users.id[usr]),
        cat_series("reaction", rx, REACTIONS),
        ts_series("createdAt", ct),
    ]
    ddl = {c for c, _ in TABLES[table]}
    if "id" in ddl:
        cols.append(int_series("id", gapped_ids(rng, len(tgt))))
    if "updatedAt" in ddl:
        cols.append(ts_series("updatedAt", ct))
    g.frames[table] = frame(table, cols)
