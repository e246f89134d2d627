"""Buzz tips (BuzzTip): who tipped what, to whom, how much.

A tip goes to an image, model, post, article, user or collection, to that entity's owner, after
its creation, so this step runs last: it reads all six tables, and the collections' createdAt as
the collection items step left it (some moved onto the window edges). Amounts are heavy-tailed,
and two rows are forced to 50 M and 1 G so that very large sums occur at every scale.
"""

from __future__ import annotations

import numpy as np

from .._util import Array, Picker, after, choice, dedupe, pick
from .columns import cat_series, frame, int_series, ts_series
from .core import Entity, Gen, bools, by_time, take

TIP_KINDS = ["Image", "Model", "Post", "Article", "User", "Collection"]
TIP_KIND_P = [0.5, 0.12, 0.15, 0.08, 0.14, 0.01]


def _tipped(g: Gen) -> list[Entity]:
    """The tipped tables in TIP_KINDS order; a user is tipped as the owner of itself."""
    u = g.users
    as_entity = Entity(id=u.id, ct=u.ct, owner=np.arange(len(u.id)), pop=u.pop)
    return [g.images, g.models, g.posts, g.articles, as_entity, g.colls]


def _amounts(rng: np.random.Generator, n: int) -> Array:
    amount = rng.choice([10, 20, 25, 50, 100, 200, 500, 1000, 2000, 5000], size=n,
                        p=[0.1, 0.08, 0.12, 0.15, 0.25, 0.1, 0.1, 0.06, 0.02, 0.02])
    big = bools(rng, n, 0.005)
    amount[big] = rng.integers(10_000, 2_000_000, size=int(big.sum()))
    return amount


def buzz_tips(g: Gen) -> None:
    rng, n = g.rng("BuzzTip"), g.n("BuzzTip")
    U = len(g.users.id)
    m = int(n * 1.3)
    kind = choice(rng, m, TIP_KIND_P)
    prio = np.ones(m, np.int64)
    kind[:12], prio[:12] = np.arange(12) % 6, 0  # every kind, twice
    tables = _tipped(g)
    ent = np.select(
        [kind == k for k in range(6)],
        [pick(rng, len(t.id), m, t.pop) for t in tables],
        default=0,
    )
    frm = pick(rng, U, m, g.users.whale)
    keep = take(dedupe([kind, ent, frm], prio), prio, n)
    kind, ent, frm = kind[keep], ent[keep], frm[keep]
    nn = len(kind)

    def per_kind(columns: list[Array]) -> Array:
        return np.select([kind == k for k in range(6)],
                         [c[np.where(kind == k, ent, 0)] for k, c in enumerate(columns)])

    entity_id = per_kind([t.id for t in tables])
    base = per_kind([t.ct for t in tables])
    owner = per_kind([t.owner for t in tables])
    amount = _amounts(rng, nn)
    ct = after(rng, base, 6)
    picker = Picker(rng, nn)
    amount[picker.pick(2)] = [50_000_000, 1_000_000_000]
    picker.edges(ct)
    upd = np.where(bools(rng, nn, 0.2), after(rng, ct, 6), ct)
    kind, entity_id, owner, frm, amount, ct, upd = by_time(
        ct, kind, entity_id, owner, frm, amount, ct, upd
    )
    g.frames["BuzzTip"] = frame("BuzzTip", [
        cat_series("entityType", kind, TIP_KINDS),
        int_series("entityId", entity_id),
        int_series("toUserId", g.users.id[owner]),
        int_series("fromUserId", g.users.id[frm]),
        int_series("amount", amount),
        ts_series("createdAt", ct),
        ts_series("updatedAt", np.maximum(upd, ct)),
    ])
