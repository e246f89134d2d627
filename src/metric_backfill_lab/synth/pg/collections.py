"""Collections, their items and their contributors, in three steps around the others.

``collections`` runs early and draws arrays only (posts put some into contest collections), the
items and contributors then point at images, models, posts and articles, and ``collection_frame``
writes the Collection table last. The split is needed because the items and contributors still
move some Collection.createdAt values: their createdAt falls back to updatedAt, then to the
collection's createdAt, then to 1970-01-01, and reaching each fallback at the window edges takes
collections whose createdAt is NULL or exactly on an edge. The Collection stream is kept in the
record so that the frame draws continue it just as if they had been drawn at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from .._util import Array, Picker, after, choice, dedupe, gapped_ids, pick, times
from ..constants import EDGE_MS
from .columns import cat_series, frame, int_series, lists, ts_series
from .core import Entity, Gen, bools, take, user_made

PERMISSIONS: list[list[str]] = [
    ["VIEW"], ["VIEW", "ADD"], ["ADD"], ["MANAGE"], ["ADD_REVIEW"], [],
    ["VIEW", "ADD", "MANAGE"], ["ADD", "ADD_REVIEW"], ["VIEW", "ADD_REVIEW"],
]
PERMISSION_P = [0.55, 0.2, 0.05, 0.02, 0.02, 0.03, 0.05, 0.03, 0.05]
COUNTED_PERMISSIONS = [0, 1, 2, 6, 7, 8]  # the sets that contain VIEW or ADD


@dataclass(frozen=True)
class Collections(Entity):
    """The items and contributors steps write into ``ct``, ``ct_null`` and ``edge`` in place."""

    type: Array  # 0 Image, 1 Model, 2 Post, 3 Article, 4 NULL
    mode: Array  # 0 NULL, 1 Bookmark, 2 Contest
    ct_null: Array
    edge: Array  # createdAt moved onto a window edge
    upd: Array
    rng: np.random.Generator


def collections(g: Gen) -> None:
    rng, n = g.rng("Collection"), g.n("Collection")
    e = user_made(g, rng, n, 0.7, g.users.act, 1.0)
    ctype = choice(rng, n, [0.45, 0.25, 0.10, 0.05, 0.15])
    mode = choice(rng, n, [0.8, 0.15, 0.05])
    picker = Picker(rng, n)
    mode[picker.pick(3)] = [1, 2, 0]
    ctype[(mode == 1) & (ctype == 4)] = 0
    # User_bookmark_collection: one Bookmark collection per (user, type)
    bm = np.flatnonzero(mode == 1)
    first = bm[dedupe([e.owner[bm], ctype[bm]])]
    mode[np.setdiff1d(bm, first)] = 0
    ct_null = bools(rng, n, 0.02)
    ct_null[picker.pick(2)] = True
    upd = np.where(bools(rng, n, 0.3), after(rng, e.ct, 4), e.ct)
    g.colls = Collections(id=e.id, ct=e.ct, owner=e.owner, pop=e.pop, type=ctype, mode=mode,
                          ct_null=ct_null, edge=np.zeros(n, dtype=bool), upd=upd, rng=rng)


def collection_frame(g: Gen) -> None:
    c = g.colls
    rng, n, mode = c.rng, len(c.id), c.mode
    write = np.where(mode == 2, 2, np.where(mode == 1, 0, choice(rng, n, [0.7, 0.3, 0.0])))
    read = np.where(mode == 2, 1, np.where(mode == 1, 0, choice(rng, n, [0.6, 0.35, 0.05])))
    upd = np.maximum(c.upd, c.ct)
    g.frames["Collection"] = frame("Collection", [
        int_series("id", c.id),
        ts_series("createdAt", c.ct, c.ct_null),
        ts_series("updatedAt", upd, c.ct_null & bools(rng, n, 0.5)),
        pl.Series("name", [f"Collection {i}" for i in c.id.tolist()], dtype=pl.String),
        int_series("userId", g.users.id[c.owner]),
        cat_series("write", write, ["Private", "Public", "Review"]),
        cat_series("read", read, ["Private", "Public", "Unlisted"]),
        cat_series("type", np.minimum(c.type, 3), ["Image", "Model", "Post", "Article"],
                   c.type == 4),
        cat_series("mode", np.maximum(mode - 1, 0), ["Bookmark", "Contest"], mode == 0),
        int_series("nsfwLevel", rng.choice([0, 1, 3, 31], size=n)),
    ])


@dataclass
class _Stamps:
    """createdAt and updatedAt of item or contributor rows, each NULL-able, with the forced rows
    that reach every step of the createdAt fallback (updatedAt, Collection.createdAt)."""

    ct: Array
    upd: Array
    ct_null: Array
    upd_null: Array

    @classmethod
    def draw(cls, g: Gen, rng: np.random.Generator, col: Array, power: float,
             p: tuple[float, float, float]) -> _Stamps:
        """``p``: the shares of rows updated later, with createdAt NULL, and of those also with
        updatedAt NULL."""
        c = g.colls
        base = np.where(c.ct_null[col], times(rng, len(col)), c.ct[col])
        nn = len(col)
        ct = after(rng, base, power)
        upd = np.where(bools(rng, nn, p[0]), after(rng, ct, 6), ct)
        ct_null = bools(rng, nn, p[1])
        return cls(ct, upd, ct_null, ct_null & bools(rng, nn, p[2]))

    def null(self, rows: Array, upd_too: bool = True) -> None:
        self.ct_null[rows], self.upd_null[rows] = True, upd_too

    def force_fallbacks(self, picker: Picker, counted: Array, coll_known: Array) -> None:
        """Edge instants on createdAt, then on updatedAt with createdAt NULL, then a few rows
        with both NULL on collections whose createdAt is set."""
        picker.edges(self.ct, counted & ~self.ct_null)
        self.null(picker.edges(self.upd, counted), upd_too=False)
        self.null(picker.pick(3, counted & coll_known))

    def order(self) -> Array:
        return np.argsort(np.where(self.ct_null, self.upd, self.ct), kind="stable")

    def sorted(self, order: Array) -> _Stamps:
        return _Stamps(self.ct[order], self.upd[order], self.ct_null[order], self.upd_null[order])

    def series(self) -> list[pl.Series]:
        return [
            ts_series("createdAt", self.ct, self.ct_null),
            ts_series("updatedAt", np.where(self.ct_null, self.upd, np.maximum(self.upd, self.ct)),
                      self.upd_null),
        ]


ITEM_KINDS = ["imageId", "modelId", "postId", "articleId"]  # by Collections.type code


def _item_targets(g: Gen, rng: np.random.Generator, n: int) -> tuple[Array, Array, Array]:
    """(collection, kind, entity) rows, unique per (collection, kind, entity); kind 4 rows point
    at nothing and are all kept."""
    m = int(n * 1.5)
    col = pick(rng, len(g.colls.id), m, g.colls.pop)
    kind = g.colls.type[col].copy()
    untyped = kind == 4
    kind[untyped] = choice(rng, int(untyped.sum()), [0.5, 0.2, 0.2, 0.1])
    kind[bools(rng, m, 0.004)] = 4
    pools = [pick(rng, len(e.id), m, e.pop) for e in (g.images, g.models, g.posts, g.articles)]
    ent = np.select([kind == k for k in range(4)], pools, default=0)
    with_ent = np.flatnonzero(kind != 4)
    keep = np.sort(np.concatenate([
        with_ent[dedupe([col[with_ent], kind[with_ent], ent[with_ent]])],
        np.flatnonzero(kind == 4),
    ]))[:n]
    return col[keep], kind[keep], ent[keep]


def _force_collection_cases(g: Gen, rng: np.random.Generator, picker: Picker, st: _Stamps,
                            col: Array, has: Array) -> None:
    """Items with all three createdAt candidates NULL, and items that fall back to a collection
    whose createdAt is put exactly on a window edge."""
    c = g.colls
    rows = picker.pick(3, has)
    st.null(rows)
    c.ct_null[col[rows]] = True
    cands = np.flatnonzero(has & ~picker.taken & ~c.ct_null[col])
    cands = cands[np.unique(col[cands], return_index=True)[1]]
    rows = rng.choice(cands, size=min(len(EDGE_MS), len(cands)), replace=False)
    st.null(rows)
    c.ct[col[rows]] = EDGE_MS[: len(rows)]
    c.edge[col[rows]] = True


def collection_items(g: Gen) -> None:
    rng, n = g.rng("CollectionItem"), g.n("CollectionItem")
    c = g.colls
    col, kind, ent = _item_targets(g, rng, n)
    nn = len(col)
    added = np.where(bools(rng, nn, 0.7), c.owner[col], pick(rng, len(g.users.id), nn, g.users.act))
    added_null = bools(rng, nn, 0.02)
    status = choice(rng, nn, [0.88, 0.08, 0.04])
    st = _Stamps.draw(g, rng, col, 4, (0.1, 0.02, 0.35))
    picker = Picker(rng, nn)
    status[picker.pick(3)] = [0, 1, 2]
    kind[picker.pick(3)] = 4  # no model/post/article/image: only itemCount
    added_null[picker.pick(3)] = True
    has = kind != 4
    st.force_fallbacks(picker, has, ~c.ct_null[col])
    _force_collection_cases(g, rng, picker, st, col, has)

    order = st.order()
    st = st.sorted(order)
    col, kind, ent, added, added_null, status = (
        a[order] for a in (col, kind, ent, added, added_null, status)
    )
    targets = (g.images.id, g.models.id, g.posts.id, g.articles.id)
    reviewed = status != 0
    g.frames["CollectionItem"] = frame("CollectionItem", [
        int_series("id", gapped_ids(rng, nn)),
        *st.series(),
        int_series("collectionId", c.id[col]),
        *(int_series(name, ids[np.where(kind == k, ent, 0)], kind != k)
          for k, (name, ids) in enumerate(zip(ITEM_KINDS, targets, strict=True))),
        int_series("addedById", g.users.id[added], added_null),
        int_series("reviewedById", g.users.id[c.owner[col]], ~reviewed),
        ts_series("reviewedAt", after(rng, st.ct, 10), ~reviewed),
        cat_series("status", status, ["ACCEPTED", "REVIEW", "REJECTED"]),
        int_series("randomId", rng.integers(0, 1_000_000_000, size=nn)),
    ])


def _contributor_pairs(g: Gen, rng: np.random.Generator, n: int) -> tuple[Array, Array]:
    """(user, collection) pairs, unique, the hot user holding a large block of them."""
    U, C = len(g.users.id), len(g.colls.id)
    h = min(int(0.18 * n), C - 1)
    r = int((n - h) * 1.25)
    usr = np.concatenate([np.full(h, g.users.hot), pick(rng, U, r, g.users.act)])
    col = np.concatenate([rng.choice(C, size=h, replace=False), pick(rng, C, r, g.colls.pop)])
    prio = np.concatenate([np.zeros(h, np.int64), np.ones(r, np.int64)])
    keep = take(dedupe([usr, col], prio), prio, n)
    return usr[keep], col[keep]


def collection_contributors(g: Gen) -> None:
    rng, n = g.rng("CollectionContributor"), g.n("CollectionContributor")
    c = g.colls
    usr, col = _contributor_pairs(g, rng, n)
    nn = len(usr)
    perm = choice(rng, nn, PERMISSION_P)
    st = _Stamps.draw(g, rng, col, 5, (0.2, 0.03, 0.4))
    picker = Picker(rng, nn)
    perm[picker.pick(6)] = [0, 2, 1, 3, 4, 5]  # {VIEW} {ADD} {VIEW,ADD} {MANAGE} {ADD_REVIEW} {}
    counted = np.isin(perm, COUNTED_PERMISSIONS)
    st.force_fallbacks(picker, counted, ~c.ct_null[col])
    # all three NULL: on a collection the items step left without createdAt, else on a new one
    rows = picker.pick(2, counted & c.ct_null[col])
    if len(rows) == 0:
        rows = picker.pick(2, counted & ~c.edge[col])
        c.ct_null[col[rows]] = True
    st.null(rows)
    st.null(picker.pick(3, counted & c.edge[col]))

    order = st.order()
    st = st.sorted(order)
    usr, col, perm = (a[order] for a in (usr, col, perm))
    g.frames["CollectionContributor"] = frame("CollectionContributor", [
        *st.series(),
        int_series("userId", g.users.id[usr]),
        int_series("collectionId", c.id[col]),
        lists("permissions", PERMISSIONS, perm),
    ])
