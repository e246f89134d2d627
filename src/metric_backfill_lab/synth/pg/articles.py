"""Articles and the reactions to them.

Articles read users (owners). ``Gen.articles.ct`` is an article's publishedAt, or its createdAt
where publishedAt is NULL (the instant the backfill places it by): reactions, comment threads
and tips on an article are created after it. The forced rows cover each status with and without
publishedAt, and an unpublished article with a publishedAt inside the window, which is not an
event.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from .._util import Array, Picker, after, choice, gapped_ids, pick, times, zipf_weights
from ..constants import CUTOFF_MS
from . import reactions
from .columns import cat_series, frame, int_series, ts_series
from .core import Entity, Gen, bools, edged_after


def _status_and_published(rng: np.random.Generator, n: int, ct: Array
                          ) -> tuple[Array, Array, Array, Picker]:
    """(status, publishedAt, publishedAt NULL) with the forced rows set, and the picker that
    chose them (its rows are taken)."""
    status = choice(rng, n, [0.75, 0.15, 0.10])  # Published, Draft, Unpublished
    pub = after(rng, ct, 14)
    u = rng.random(n)
    pub_null = ((status == 1) & (u < 0.9)) | ((status == 0) & (u < 0.02)) | ((status == 2) & (u < 0.1))
    picker = Picker(rng, n)
    # Draft or Unpublished with a publishedAt, Published without one: read, but not events
    for st, null, k in ((1, False, 2), (2, False, 2), (0, True, 2)):
        rows = picker.pick(k)
        status[rows], pub_null[rows] = st, null
    rows = picker.pick(1)  # and one of them inside the window
    status[rows], pub[rows], pub_null[rows] = 2, CUTOFF_MS - 1, False
    picker.edges(pub, (status == 0) & ~pub_null)
    return status, pub, pub_null, picker


def articles(g: Gen) -> None:
    rng, n = g.rng("Article"), g.n("Article")
    ct = np.sort(times(rng, n, skew=0.6))
    owner = pick(rng, len(g.users.id), n, g.users.pop)
    status, pub, pub_null, picker = _status_and_published(rng, n, ct)
    ct_null = bools(rng, n, 0.01)
    ct_null[picker.pick(1)] = True
    article_id = gapped_ids(rng, n)
    created = np.where(pub_null, ct, np.minimum(pub, ct))
    g.articles = Entity(id=article_id, ct=np.where(pub_null, ct, pub), owner=owner,
                        pop=zipf_weights(rng, n, 1.0))
    g.frames["Article"] = frame("Article", [
        int_series("id", article_id),
        ts_series("createdAt", created, ct_null),
        ts_series("updatedAt", np.maximum(ct, pub), ct_null),
        pl.Series("title", [f"Article {i}" for i in range(n)], dtype=pl.String),
        pl.Series("content", ["<p>Lorem ipsum, dolor \"sit\" amet</p>"] * n, dtype=pl.String),
        ts_series("publishedAt", pub, pub_null),
        int_series("userId", g.users.id[owner]),
        cat_series("status", status, ["Published", "Draft", "Unpublished"]),
        int_series("nsfwLevel", rng.choice([1, 2, 4], size=n)),
    ])


def article_reactions(g: Gen) -> None:
    rng, n = g.rng("ArticleReaction"), g.n("ArticleReaction")
    a = g.articles
    art, usr, rx = reactions.draw(g, rng, n, len(a.id), a.pop, np.arange(min(5, len(a.id))))
    ct = edged_after(rng, a.ct[art], 8)
    reactions.write(g, rng, "ArticleReaction", ("articleId", a.id), (art, usr, rx), ct)
