"""Deterministic synthetic Civitai Postgres data (SPEC §5), built column-wise with numpy and Polars.

Each table draws from its own RNG stream (seed + table name), rows reference earlier tables by
*position* (so owners, parents and times are plain array lookups), popularity is Zipf-like, ids
have holes and follow creation time. After the random rows are drawn, a ``Picker`` rewrites a few
disjoint rows per table into the edge cases the backfill must handle; key-changing rewrites get a
priority so that deduplication keeps them.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from ._util import (
    Array,
    Picker,
    after,
    cat_series,
    child_rng,
    choice,
    dedupe,
    gapped_ids,
    int_series,
    pick,
    times,
    ts_series,
    zipf_weights,
)
from .constants import CUTOFF_MS, DAY_MS, EDGE_MS, END_MS, PG_SIZES, size
from .schema import TABLES

REACTIONS = ["Like", "Dislike", "Laugh", "Cry", "Heart"]
REACTION_P = [0.55, 0.04, 0.08, 0.06, 0.27]
EXCLUDED_VERSIONS = (106916, 250708, 250712)
"""Version ids the generation backfill excludes by default; they exist in PG and in CH jobs."""

PERMISSIONS: list[list[str]] = [
    ["VIEW"], ["VIEW", "ADD"], ["ADD"], ["MANAGE"], ["ADD_REVIEW"], [],
    ["VIEW", "ADD", "MANAGE"], ["ADD", "ADD_REVIEW"], ["VIEW", "ADD_REVIEW"],
]
PERMISSION_P = [0.55, 0.2, 0.05, 0.02, 0.02, 0.03, 0.05, 0.03, 0.05]

TIP_KINDS = ["Image", "Model", "Post", "Article", "User", "Collection"]
TIP_KIND_P = [0.5, 0.12, 0.15, 0.08, 0.14, 0.01]


def _take(keep: Array, prio: Array, n: int) -> Array:
    """At most ``n`` of the kept rows, forced (prio 0) rows first; returned in row order."""
    if len(keep) <= n:
        return keep
    sel = keep[np.argsort(prio[keep], kind="stable")][:n]
    return np.sort(sel)


def _bools(rng: np.random.Generator, n: int, p: float) -> Array:
    return rng.random(n) < p


def _lists(name: str, options: list[list[str]], codes: Array) -> pl.Series:
    return pl.Series(name, options, dtype=pl.List(pl.String)).gather(
        np.asarray(codes, dtype=np.int64)
    )


def _frame(table: str, cols: list[pl.Series]) -> pl.DataFrame:
    """Columns in DDL order (the loader names them explicitly anyway)."""
    order = {c: i for i, (c, _) in enumerate(TABLES[table])}
    return pl.DataFrame(sorted(cols, key=lambda s: order.get(s.name, len(order))))


def _ddl_order(table: str, df: pl.DataFrame) -> list[str]:
    return [c for c, _ in TABLES[table] if c in df.columns]


class _Gen:
    """Holds the arrays of the tables built so far; later tables look their parents up here."""

    def __init__(self, scale: float, seed: int) -> None:
        self.scale = scale
        self.seed = seed
        self.frames: dict[str, pl.DataFrame] = {}

    def n(self, table: str) -> int:
        return size(PG_SIZES, table, self.scale)

    def rng(self, table: str) -> np.random.Generator:
        return child_rng(self.seed, table)

    # ---------------------------------------------------------------- users, tags, models
    def users(self) -> None:
        rng, n = self.rng("User"), self.n("User")
        self.user_id = gapped_ids(rng, n)
        self.user_ct = np.sort(times(rng, n, skew=0.7))
        self.user_act = zipf_weights(rng, n, 0.8)  # who reacts, follows, comments
        self.user_pop = zipf_weights(rng, n, 1.1)  # who creates what others like
        self.user_whale = zipf_weights(rng, n, 1.3)  # who tips
        self.hot_user = int(rng.integers(n))  # the skewed leading key of composite-PK tables
        deleted, banned = _bools(rng, n, 0.01), _bools(rng, n, 0.005)
        df = _frame("User", [
            int_series("id", self.user_id),
            ts_series("createdAt", self.user_ct),
            ts_series("deletedAt", after(rng, self.user_ct, 2), ~deleted),
            ts_series("bannedAt", after(rng, self.user_ct, 2), ~banned),
        ])
        self.frames["User"] = df.with_columns(
            username=pl.format("user{}", pl.col("id")),
            email=pl.format("user{}@example.com", pl.col("id")),
        ).select(["id", "username", "email", "createdAt", "deletedAt", "bannedAt"])

    def tags(self) -> None:
        rng, n = self.rng("Tag"), self.n("Tag")
        self.tag_id = gapped_ids(rng, n)
        ct = np.sort(times(rng, n, skew=0.8))
        self.tag_pop = zipf_weights(rng, n, 1.0)
        targets = [["Model"], ["Image", "Post"], ["Model", "Image", "Post"], ["Tag"],
                   ["Article"], ["Collection"], ["Bounty"], ["Question"]]
        df = _frame("Tag", [
            int_series("id", self.tag_id),
            ts_series("createdAt", ct),
            ts_series("updatedAt", ct),
            _lists("target", targets, choice(rng, n, [0.3, 0.35, 0.2, 0.05, 0.04, 0.03, 0.02, 0.01])),
            cat_series("type", choice(rng, n, [0.8, 0.15, 0.03, 0.02]),
                       ["UserGenerated", "Label", "Moderation", "System"]),
        ])
        self.frames["Tag"] = df.with_columns(name=pl.format("tag{}", pl.col("id")))

    def models(self) -> None:
        rng, n = self.rng("Model"), self.n("Model")
        U = len(self.user_id)
        self.model_id = gapped_ids(rng, n)
        self.model_ct = np.sort(times(rng, n, skew=0.7))
        self.model_owner = pick(rng, U, n, self.user_pop)
        self.model_pop = zipf_weights(rng, n, 1.0)
        status = choice(rng, n, [0.8, 0.07, 0.05, 0.04, 0.015, 0.01, 0.01, 0.005])
        status_labels = ["Published", "Draft", "Unpublished", "Deleted", "Training",
                         "UnpublishedViolation", "Scheduled", "GatherInterest"]
        published = np.isin(status, [0, 2, 3, 5])
        pub = after(rng, self.model_ct, 12)
        types = ["LORA", "Checkpoint", "TextualInversion", "LoCon", "Controlnet", "VAE",
                 "Upscaler", "DoRA", "Workflows", "Other"]
        self.frames["Model"] = _frame("Model", [
            int_series("id", self.model_id),
            pl.Series("name", [f"Model {i}" for i in self.model_id.tolist()], dtype=pl.String),
            cat_series("type", choice(rng, n, [0.55, 0.18, 0.07, 0.06, 0.03, 0.02, 0.02, 0.03,
                                               0.02, 0.02]), types),
            ts_series("createdAt", self.model_ct),
            ts_series("updatedAt", np.maximum(pub, self.model_ct)),
            ts_series("lastVersionAt", pub, ~published),
            pl.Series("nsfw", _bools(rng, n, 0.15)),
            int_series("userId", self.user_id[self.model_owner]),
            cat_series("status", status, status_labels),
            ts_series("publishedAt", pub, ~published),
            ts_series("deletedAt", after(rng, pub, 3), status != 3),
            int_series("nsfwLevel", rng.choice([1, 2, 4, 8, 16], size=n)),
        ])

    def versions(self) -> None:
        rng = self.rng("ModelVersion")
        M = len(self.model_id)
        n = max(self.n("ModelVersion"), M)
        midx = np.concatenate(
            [np.arange(M), pick(rng, M, n - M, zipf_weights(rng, M, 0.9))]
        )
        ct = after(rng, self.model_ct[midx], 6)
        ct[:M] = self.model_ct  # every model's first version comes with the model
        order = np.argsort(ct, kind="stable")
        midx, ct = midx[order], ct[order]
        ids = gapped_ids(rng, n)
        picker = Picker(rng, n)
        for special in EXCLUDED_VERSIONS:
            if special not in ids:
                ids[picker.pick(1)] = special
        self.mv_id, self.mv_model, self.mv_ct = ids, midx, ct
        self.mv_pop = zipf_weights(rng, n, 1.05)
        # the excluded versions are among the most used ones, as in production
        special_rows = np.flatnonzero(np.isin(ids, EXCLUDED_VERSIONS))
        self.mv_pop[special_rows] = self.mv_pop.max()
        self.mv_pop /= self.mv_pop.sum()
        published = _bools(rng, n, 0.88)
        pub = after(rng, ct, 14)
        base = ["SD 1.5", "SDXL 1.0", "Pony", "Flux.1 D", "Illustrious", "SD 3.5"]
        df = _frame("ModelVersion", [
            int_series("id", ids),
            int_series("modelId", self.model_id[midx]),
            ts_series("createdAt", ct),
            ts_series("updatedAt", np.maximum(ct, pub)),
            ts_series("publishedAt", pub, ~published),
            cat_series("status", np.where(published, 1, 0), ["Draft", "Published"]),
            cat_series("baseModel", choice(rng, n, [0.35, 0.3, 0.15, 0.12, 0.05, 0.03]), base),
            pl.Series("words", _bools(rng, n, 0.6)),
        ])
        self.frames["ModelVersion"] = df.with_columns(
            name=pl.format("v{}", pl.col("id")),
            trainedWords=pl.format("trigger{}", pl.col("id"))
            .str.split(",")
            .list.head(pl.col("words").cast(pl.Int64)),
        ).drop("words")

    # ---------------------------------------------------------------- collections (arrays only)
    def collections(self) -> None:
        """Arrays only: items and contributors still move some createdAt values (NULL, edges)."""
        rng, n = self.rng("Collection"), self.n("Collection")
        U = len(self.user_id)
        self.coll_id = gapped_ids(rng, n)
        self.coll_ct = np.sort(times(rng, n, skew=0.7))
        self.coll_owner = pick(rng, U, n, self.user_act)
        self.coll_pop = zipf_weights(rng, n, 1.0)
        ctype = choice(rng, n, [0.45, 0.25, 0.10, 0.05, 0.15])  # Image, Model, Post, Article, NULL
        mode = choice(rng, n, [0.8, 0.15, 0.05])  # NULL, Bookmark, Contest
        picker = Picker(rng, n)
        mode[picker.pick(3)] = [1, 2, 0]
        ctype[(mode == 1) & (ctype == 4)] = 0
        # User_bookmark_collection: one Bookmark collection per (user, type)
        bm = np.flatnonzero(mode == 1)
        first = bm[dedupe([self.coll_owner[bm], ctype[bm]])]
        mode[np.setdiff1d(bm, first)] = 0
        self.coll_type, self.coll_mode = ctype, mode
        self.coll_ct_null = _bools(rng, n, 0.02)
        self.coll_ct_null[picker.pick(2)] = True
        self.coll_edge = np.zeros(n, dtype=bool)
        self.coll_upd = np.where(_bools(rng, n, 0.3), after(rng, self.coll_ct, 4), self.coll_ct)
        self.coll_rng = rng

    def collection_frame(self) -> None:
        rng, n = self.coll_rng, len(self.coll_id)
        mode = self.coll_mode
        write = np.where(mode == 2, 2, np.where(mode == 1, 0, choice(rng, n, [0.7, 0.3, 0.0])))
        read = np.where(mode == 2, 1, np.where(mode == 1, 0, choice(rng, n, [0.6, 0.35, 0.05])))
        upd = np.maximum(self.coll_upd, self.coll_ct)
        self.frames["Collection"] = _frame("Collection", [
            int_series("id", self.coll_id),
            ts_series("createdAt", self.coll_ct, self.coll_ct_null),
            ts_series("updatedAt", upd, self.coll_ct_null & _bools(rng, n, 0.5)),
            pl.Series("name", [f"Collection {i}" for i in self.coll_id.tolist()], dtype=pl.String),
            int_series("userId", self.user_id[self.coll_owner]),
            cat_series("write", write, ["Private", "Public", "Review"]),
            cat_series("read", read, ["Private", "Public", "Unlisted"]),
            cat_series("type", np.minimum(self.coll_type, 3), ["Image", "Model", "Post", "Article"],
                       self.coll_type == 4),
            cat_series("mode", np.maximum(mode - 1, 0), ["Bookmark", "Contest"], mode == 0),
            int_series("nsfwLevel", rng.choice([0, 1, 3, 31], size=n)),
        ])

    # ---------------------------------------------------------------- posts, images
    def posts(self) -> None:
        rng, n = self.rng("Post"), self.n("Post")
        U, V = len(self.user_id), len(self.mv_id)
        self.post_id = gapped_ids(rng, n)
        self.post_ct = np.sort(times(rng, n, skew=0.6))
        self.post_owner = pick(rng, U, n, self.user_pop)
        self.post_pop = zipf_weights(rng, n, 0.9)
        has_mv = _bools(rng, n, 0.4)
        mv = pick(rng, V, n, self.mv_pop)
        published = _bools(rng, n, 0.85)
        pub = after(rng, self.post_ct, 14)
        contests = np.flatnonzero(self.coll_mode == 2)
        in_contest = _bools(rng, n, 0.015) & (len(contests) > 0)
        coll = contests[rng.integers(0, max(len(contests), 1), size=n)] if len(contests) else np.zeros(n, np.int64)
        self.frames["Post"] = _frame("Post", [
            int_series("id", self.post_id),
            pl.Series("nsfw", _bools(rng, n, 0.12)),
            int_series("userId", self.user_id[self.post_owner]),
            int_series("modelVersionId", self.mv_id[mv], ~has_mv),
            ts_series("createdAt", self.post_ct),
            ts_series("updatedAt", np.maximum(self.post_ct, pub)),
            ts_series("publishedAt", pub, ~published),
            int_series("collectionId", self.coll_id[coll], ~in_contest),
            int_series("nsfwLevel", rng.choice([1, 2, 4, 8, 16], size=n)),
        ])

    def images(self) -> None:
        rng, n = self.rng("Image"), self.n("Image")
        U, P = len(self.user_id), len(self.post_id)
        with_post = ~_bools(rng, n, 0.08)
        pidx = pick(rng, P, n, zipf_weights(rng, P, 0.5))
        ct = np.where(with_post, self.post_ct[pidx] + rng.integers(0, 3_600_000, size=n),
                      times(rng, n))
        ct = np.minimum(ct, END_MS - 1)
        owner = np.where(with_post, self.post_owner[pidx], pick(rng, U, n, self.user_pop))
        order = np.argsort(ct, kind="stable")
        with_post, pidx, ct, owner = with_post[order], pidx[order], ct[order], owner[order]
        picker = Picker(rng, n)
        self.image_null_post = picker.pick(4, with_post)
        with_post[self.image_null_post] = False
        self.image_edge = picker.edges(ct, with_post)
        self.image_id = gapped_ids(rng, n)
        self.image_ct, self.image_owner, self.image_has_post = ct, owner, with_post
        self.image_pop = zipf_weights(rng, n, 0.95)
        video = _bools(rng, n, 0.04)
        df = _frame("Image", [
            int_series("id", self.image_id),
            int_series("userId", self.user_id[owner]),
            ts_series("createdAt", ct),
            ts_series("updatedAt", ct),
            int_series("height", rng.choice([512, 768, 1024, 1216], size=n)),
            int_series("width", rng.choice([512, 768, 832, 1024], size=n)),
            cat_series("type", video.astype(np.int64), ["image", "video"]),
            int_series("nsfwLevel", rng.choice([1, 2, 4, 8, 16], size=n, p=[0.5, 0.2, 0.15, 0.1, 0.05])),
            int_series("postId", self.post_id[pidx], ~with_post),
            int_series("index", rng.integers(0, 10, size=n)),
            cat_series("ingestion", choice(rng, n, [0.96, 0.02, 0.01, 0.01]),
                       ["Scanned", "Pending", "Error", "Blocked"]),
            ts_series("sortAt", ct),
        ])
        self.frames["Image"] = df.with_columns(url=pl.format("img/{}.jpeg", pl.col("id")))

    def _reactions(self, rng: np.random.Generator, n: int, targets: int, weights: Array,
                   forced_targets: Array) -> tuple[Array, Array, Array]:
        """(target, user, reaction) rows, unique, with each reaction on ``forced_targets`` kept."""
        U = len(self.user_id)
        m = int(n * 1.3)
        tgt = pick(rng, targets, m, weights)
        usr = pick(rng, U, m, self.user_act)
        rx = choice(rng, m, REACTION_P)
        prio = np.ones(m, dtype=np.int64)
        k = min(m, max(10, len(forced_targets)))
        tgt[:k] = np.resize(forced_targets, k)
        rx[:k] = np.arange(k) % 5
        prio[:k] = 0
        keep = _take(dedupe([tgt, usr, rx], prio), prio, n)
        return tgt[keep], usr[keep], rx[keep]

    def image_reactions(self) -> None:
        rng, n = self.rng("ImageReaction"), self.n("ImageReaction")
        forced = np.concatenate([self.image_null_post, self.image_edge])
        img, usr, rx = self._reactions(rng, n, len(self.image_id), self.image_pop, forced)
        picker = Picker(rng, len(img))
        rows = picker.pick(3)
        usr[rows] = self.image_owner[img[rows]]  # self-reactions count too
        keep = dedupe([img, usr, rx], 1 - picker.taken.astype(np.int64))
        img, usr, rx = img[keep], usr[keep], rx[keep]
        ct = after(rng, self.image_ct[img], 8)
        Picker(rng, len(img)).edges(ct, self.image_has_post[img])
        order = np.argsort(ct, kind="stable")
        img, usr, rx, ct = img[order], usr[order], rx[order], ct[order]
        self.frames["ImageReaction"] = _frame("ImageReaction", [
            int_series("id", gapped_ids(rng, len(img))),
            int_series("imageId", self.image_id[img]),
            int_series("userId", self.user_id[usr]),
            cat_series("reaction", rx, REACTIONS),
            ts_series("createdAt", ct),
            ts_series("updatedAt", ct),
        ])

    def image_resources(self) -> None:
        rng, n = self.rng("ImageResourceNew"), self.n("ImageResourceNew")
        n_img, V, M = len(self.image_id), len(self.mv_id), len(self.model_id)
        m = int(n * 1.1)
        img = pick(rng, n_img, m, zipf_weights(rng, n_img, 0.3))
        ver = pick(rng, V, m, self.mv_pop)
        prio = np.ones(m, dtype=np.int64)
        # images at the window edges use a resource; a few images use two versions of one model
        k = len(self.image_edge)
        img[:k], prio[:k] = self.image_edge, 0
        counts = np.bincount(self.mv_model, minlength=M)
        multi = rng.choice(np.flatnonzero(counts >= 2), size=3, replace=False)
        order = np.argsort(self.mv_model, kind="stable")
        starts = np.cumsum(counts) - counts
        pairs = np.stack([order[starts[multi]], order[starts[multi] + 1]], axis=1).ravel()
        two = np.repeat(rng.choice(np.flatnonzero(self.image_has_post), size=3, replace=False), 2)
        img[k:k + 6], ver[k:k + 6], prio[k:k + 6] = two, pairs, 0
        self.image_two_versions = self.image_id[two[::2]]
        keep = _take(dedupe([img, ver], prio), prio, n)
        img, ver = img[keep], ver[keep]
        order = np.lexsort([ver, img])
        img, ver = img[order], ver[order]
        nn = len(img)
        self.frames["ImageResourceNew"] = _frame("ImageResourceNew", [
            int_series("imageId", self.image_id[img]),
            int_series("modelVersionId", self.mv_id[ver]),
            int_series("strength", rng.integers(30, 101, size=nn), _bools(rng, nn, 0.3)),
            pl.Series("detected", _bools(rng, nn, 0.15)),
        ])

    # ---------------------------------------------------------------- articles
    def articles(self) -> None:
        rng, n = self.rng("Article"), self.n("Article")
        U = len(self.user_id)
        ct = np.sort(times(rng, n, skew=0.6))
        owner = pick(rng, U, n, self.user_pop)
        status = choice(rng, n, [0.75, 0.15, 0.10])  # Published, Draft, Unpublished
        pub = after(rng, ct, 14)
        u = rng.random(n)
        pub_null = ((status == 1) & (u < 0.9)) | ((status == 0) & (u < 0.02)) | ((status == 2) & (u < 0.1))
        picker = Picker(rng, n)
        for st, null, k in ((1, False, 2), (2, False, 2), (0, True, 2)):
            rows = picker.pick(k)
            status[rows], pub_null[rows] = st, null
        rows = picker.pick(1)  # unpublished, publishedAt inside the window: not counted
        status[rows], pub[rows], pub_null[rows] = 2, CUTOFF_MS - 1, False
        picker.edges(pub, (status == 0) & ~pub_null)
        ct_null = _bools(rng, n, 0.01)
        ct_null[picker.pick(1)] = True
        self.article_id, self.article_owner = gapped_ids(rng, n), owner
        self.article_ct = np.where(pub_null, ct, np.minimum(pub, ct))
        self.article_pop = zipf_weights(rng, n, 1.0)
        self.frames["Article"] = _frame("Article", [
            int_series("id", self.article_id),
            ts_series("createdAt", self.article_ct, ct_null),
            ts_series("updatedAt", np.maximum(ct, pub), ct_null),
            pl.Series("title", [f"Article {i}" for i in range(n)], dtype=pl.String),
            pl.Series("content", ["<p>Lorem ipsum, dolor \"sit\" amet</p>"] * n, dtype=pl.String),
            ts_series("publishedAt", pub, pub_null),
            int_series("userId", self.user_id[owner]),
            cat_series("status", status, ["Published", "Draft", "Unpublished"]),
            int_series("nsfwLevel", rng.choice([1, 2, 4], size=n)),
        ])
        self.article_base = np.where(pub_null, ct, pub)

    def article_reactions(self) -> None:
        rng, n = self.rng("ArticleReaction"), self.n("ArticleReaction")
        art, usr, rx = self._reactions(rng, n, len(self.article_id), self.article_pop,
                                       np.arange(min(5, len(self.article_id))))
        ct = after(rng, self.article_base[art], 8)
        Picker(rng, len(art)).edges(ct)
        order = np.argsort(ct, kind="stable")
        art, usr, rx, ct = art[order], usr[order], rx[order], ct[order]
        self.frames["ArticleReaction"] = _frame("ArticleReaction", [
            int_series("id", gapped_ids(rng, len(art))),
            int_series("articleId", self.article_id[art]),
            int_series("userId", self.user_id[usr]),
            cat_series("reaction", rx, REACTIONS),
            ts_series("createdAt", ct),
            ts_series("updatedAt", ct),
        ])

    # ---------------------------------------------------------------- collection items/contributors
    def _coll_base(self, col: Array, rng: np.random.Generator) -> Array:
        return np.where(self.coll_ct_null[col], times(rng, len(col)), self.coll_ct[col])

    def collection_items(self) -> None:
        rng, n = self.rng("CollectionItem"), self.n("CollectionItem")
        U = len(self.user_id)
        m = int(n * 1.5)
        col = pick(rng, len(self.coll_id), m, self.coll_pop)
        kind = self.coll_type[col].copy()  # 0 Image, 1 Model, 2 Post, 3 Article, 4 none
        untyped = kind == 4
        kind[untyped] = choice(rng, int(untyped.sum()), [0.5, 0.2, 0.2, 0.1])
        kind[_bools(rng, m, 0.004)] = 4
        pools = [
            pick(rng, len(self.image_id), m, self.image_pop),
            pick(rng, len(self.model_id), m, self.model_pop),
            pick(rng, len(self.post_id), m, self.post_pop),
            pick(rng, len(self.article_id), m, self.article_pop),
        ]
        ent = np.select([kind == k for k in range(4)], pools, default=0)
        with_ent = np.flatnonzero(kind != 4)
        keep = np.sort(np.concatenate([
            with_ent[dedupe([col[with_ent], kind[with_ent], ent[with_ent]])],
            np.flatnonzero(kind == 4),
        ]))
        keep = keep[:n]
        col, kind, ent = col[keep], kind[keep], ent[keep]
        nn = len(col)
        added = np.where(_bools(rng, nn, 0.7), self.coll_owner[col], pick(rng, U, nn, self.user_act))
        added_null = _bools(rng, nn, 0.02)
        status = choice(rng, nn, [0.88, 0.08, 0.04])
        ct = after(rng, self._coll_base(col, rng), 4)
        upd = np.where(_bools(rng, nn, 0.1), after(rng, ct, 6), ct)
        ct_null = _bools(rng, nn, 0.02)
        upd_null = ct_null & _bools(rng, nn, 0.35)

        picker = Picker(rng, nn)
        status[picker.pick(3)] = [0, 1, 2]
        kind[picker.pick(3)] = 4  # no model/post/article/image: only itemCount
        added_null[picker.pick(3)] = True
        has = kind != 4
        picker.edges(ct, has & ~ct_null)
        rows = picker.edges(upd, has)  # createdAt NULL: the updatedAt fallback at the edges
        ct_null[rows], upd_null[rows] = True, False
        rows = picker.pick(3, has & ~self.coll_ct_null[col])  # both NULL: Collection.createdAt
        ct_null[rows], upd_null[rows] = True, True
        rows = picker.pick(3, has)  # all three NULL: 1970-01-01
        ct_null[rows], upd_null[rows] = True, True
        self.coll_ct_null[col[rows]] = True
        # Collection.createdAt exactly at the edges, reached through items with both NULL
        cands = np.flatnonzero(has & ~picker.taken & ~self.coll_ct_null[col])
        cands = cands[np.unique(col[cands], return_index=True)[1]]
        rows = rng.choice(cands, size=min(len(EDGE_MS), len(cands)), replace=False)
        ct_null[rows], upd_null[rows] = True, True
        self.coll_ct[col[rows]] = EDGE_MS[: len(rows)]
        self.coll_edge[col[rows]] = True

        order = np.argsort(np.where(ct_null, upd, ct), kind="stable")
        col, kind, ent, added, added_null, status, ct, upd, ct_null, upd_null = (
            a[order] for a in (col, kind, ent, added, added_null, status, ct, upd, ct_null, upd_null)
        )
        ids_by_kind = [self.image_id, self.model_id, self.post_id, self.article_id]
        names = ["imageId", "modelId", "postId", "articleId"]
        ent_cols = [
            int_series(name, ids[np.where(kind == k, ent, 0)], kind != k)
            for k, (name, ids) in enumerate(zip(names, ids_by_kind, strict=True))
        ]
        reviewed = status != 0
        self.frames["CollectionItem"] = _frame("CollectionItem", [
            int_series("id", gapped_ids(rng, nn)),
            ts_series("createdAt", ct, ct_null),
            ts_series("updatedAt", np.where(ct_null, upd, np.maximum(upd, ct)), upd_null),
            int_series("collectionId", self.coll_id[col]),
            *ent_cols,
            int_series("addedById", self.user_id[added], added_null),
            int_series("reviewedById", self.user_id[self.coll_owner[col]], ~reviewed),
            ts_series("reviewedAt", after(rng, ct, 10), ~reviewed),
            cat_series("status", status, ["ACCEPTED", "REVIEW", "REJECTED"]),
            int_series("randomId", rng.integers(0, 1_000_000_000, size=nn)),
        ])

    def collection_contributors(self) -> None:
        rng, n = self.rng("CollectionContributor"), self.n("CollectionContributor")
        U, C = len(self.user_id), len(self.coll_id)
        h = min(int(0.18 * n), C - 1)
        r = int((n - h) * 1.25)
        usr = np.concatenate([np.full(h, self.hot_user), pick(rng, U, r, self.user_act)])
        col = np.concatenate([rng.choice(C, size=h, replace=False), pick(rng, C, r, self.coll_pop)])
        prio = np.concatenate([np.zeros(h, np.int64), np.ones(r, np.int64)])
        keep = _take(dedupe([usr, col], prio), prio, n)
        usr, col = usr[keep], col[keep]
        nn = len(usr)
        perm = choice(rng, nn, PERMISSION_P)
        ct = after(rng, self._coll_base(col, rng), 5)
        upd = np.where(_bools(rng, nn, 0.2), after(rng, ct, 6), ct)
        ct_null = _bools(rng, nn, 0.03)
        upd_null = ct_null & _bools(rng, nn, 0.4)

        picker = Picker(rng, nn)
        perm[picker.pick(6)] = [0, 2, 1, 3, 4, 5]  # {VIEW} {ADD} {VIEW,ADD} {MANAGE} {ADD_REVIEW} {}
        counted = np.isin(perm, [0, 1, 2, 6, 7, 8])  # contains VIEW or ADD
        picker.edges(ct, counted & ~ct_null)
        rows = picker.edges(upd, counted)
        ct_null[rows], upd_null[rows] = True, False
        rows = picker.pick(3, counted & ~self.coll_ct_null[col])
        ct_null[rows], upd_null[rows] = True, True
        rows = picker.pick(2, counted & self.coll_ct_null[col])
        if len(rows) == 0:
            rows = picker.pick(2, counted & ~self.coll_edge[col])
            self.coll_ct_null[col[rows]] = True
        ct_null[rows], upd_null[rows] = True, True
        rows = picker.pick(3, counted & self.coll_edge[col])
        ct_null[rows], upd_null[rows] = True, True

        order = np.argsort(np.where(ct_null, upd, ct), kind="stable")
        usr, col, perm, ct, upd, ct_null, upd_null = (
            a[order] for a in (usr, col, perm, ct, upd, ct_null, upd_null)
        )
        self.frames["CollectionContributor"] = _frame("CollectionContributor", [
            ts_series("createdAt", ct, ct_null),
            ts_series("updatedAt", np.where(ct_null, upd, np.maximum(upd, ct)), upd_null),
            int_series("userId", self.user_id[usr]),
            int_series("collectionId", self.coll_id[col]),
            _lists("permissions", PERMISSIONS, perm),
        ])

    # ---------------------------------------------------------------- reviews
    def reviews(self) -> None:
        rng, n = self.rng("ResourceReview"), self.n("ResourceReview")
        U, V = len(self.user_id), len(self.mv_id)
        m = int(n * 1.2)
        ver = pick(rng, V, m, self.mv_pop)
        usr = pick(rng, U, m, self.user_act)
        keep = dedupe([ver, usr])[:n]
        ver, usr = ver[keep], usr[keep]
        nn = len(ver)
        rating = choice(rng, nn, [0.05, 0.04, 0.08, 0.18, 0.65]) + 1
        rec = (rating >= 3) ^ _bools(rng, nn, 0.05)
        exclude, tos = _bools(rng, nn, 0.04), _bools(rng, nn, 0.015)
        ct = after(rng, self.mv_ct[ver], 6)
        picker = Picker(rng, nn)
        exclude[picker.pick(2)] = True
        tos[picker.pick(2)] = True
        clean = ~exclude & ~tos
        rec[picker.pick(2, clean)] = False
        rec[picker.pick(2, clean)] = True
        picker.edges(ct, clean)
        order = np.argsort(ct, kind="stable")
        ver, usr, rating, rec, exclude, tos, ct = (
            a[order] for a in (ver, usr, rating, rec, exclude, tos, ct)
        )
        self.review_id, self.review_ct = gapped_ids(rng, nn), ct
        self.frames["ResourceReview"] = _frame("ResourceReview", [
            int_series("id", self.review_id),
            int_series("modelId", self.model_id[self.mv_model[ver]]),
            int_series("modelVersionId", self.mv_id[ver]),
            int_series("rating", rating),
            pl.Series("recommended", rec),
            int_series("userId", self.user_id[usr]),
            ts_series("createdAt", ct),
            ts_series("updatedAt", ct),
            pl.Series("exclude", exclude),
            pl.Series("nsfw", _bools(rng, nn, 0.1)),
            pl.Series("tosViolation", tos),
        ])

    # ---------------------------------------------------------------- bounties
    def bounties(self) -> None:
        rng, n = self.rng("Bounty"), self.n("Bounty")
        U = len(self.user_id)
        ct = np.sort(times(rng, n, skew=0.6))
        owner = pick(rng, U, n, self.user_act)
        user_null = _bools(rng, n, 0.06)
        picker = Picker(rng, n)
        user_null[picker.pick(2)] = True
        picker.edges(ct, ~user_null)
        self.bounty_id, self.bounty_ct = gapped_ids(rng, n), ct
        self.bounty_owner, self.bounty_user_null = owner, user_null
        self.bounty_min = rng.choice([500, 1000, 2500, 5000], size=n)
        starts = ct // DAY_MS
        types = ["ModelCreation", "LoraCreation", "EmbedCreation", "DataSetCreation",
                 "DataSetCaption", "ImageCreation", "VideoCreation", "Other"]
        self.frames["Bounty"] = _frame("Bounty", [
            int_series("id", self.bounty_id),
            int_series("userId", self.user_id[owner], user_null),
            pl.Series("name", [f"Bounty {i}" for i in range(n)], dtype=pl.String),
            pl.Series("description", ["Make me a LoRA, please"] * n, dtype=pl.String),
            pl.Series("startsAt", starts.astype("datetime64[D]")),
            pl.Series("expiresAt", (starts + rng.integers(7, 31, size=n)).astype("datetime64[D]")),
            ts_series("createdAt", ct),
            ts_series("updatedAt", ct),
            cat_series("mode", choice(rng, n, [0.8, 0.2]), ["Individual", "Split"]),
            cat_series("entryMode", choice(rng, n, [0.9, 0.1]), ["Open", "BenefactorsOnly"]),
            cat_series("type", choice(rng, n, [0.1, 0.45, 0.05, 0.05, 0.03, 0.2, 0.05, 0.07]), types),
            int_series("minBenefactorUnitAmount", self.bounty_min),
            int_series("maxBenefactorUnitAmount", self.bounty_min * 10, _bools(rng, n, 0.5)),
            pl.Series("complete", (ct < END_MS - 60 * DAY_MS) & _bools(rng, n, 0.7)),
        ])

    def bounty_entries(self) -> None:
        rng, n = self.rng("BountyEntry"), self.n("BountyEntry")
        U, B = len(self.user_id), len(self.bounty_id)
        b = pick(rng, B, n, zipf_weights(rng, B, 0.8))
        ct = after(rng, self.bounty_ct[b], 3)
        usr = pick(rng, U, n, self.user_act)
        user_null = _bools(rng, n, 0.05)
        order = np.argsort(ct, kind="stable")
        b, ct, usr = b[order], ct[order], usr[order]
        picker = Picker(rng, n)
        user_null[picker.pick(3)] = True
        picker.edges(ct)
        self.entry_id, self.entry_bounty, self.entry_ct = gapped_ids(rng, n), b, ct
        self.entry_user_null = user_null
        self.frames["BountyEntry"] = _frame("BountyEntry", [
            int_series("id", self.entry_id),
            int_series("userId", self.user_id[usr], user_null),
            int_series("bountyId", self.bounty_id[b]),
            ts_series("createdAt", ct),
            ts_series("updatedAt", ct),
            pl.Series("description", ["entry"] * n, dtype=pl.String),
        ])

    def bounty_entry_reactions(self) -> None:
        rng, n = self.rng("BountyEntryReaction"), self.n("BountyEntryReaction")
        E = len(self.entry_id)
        ent, usr, rx = self._reactions(rng, n, E, zipf_weights(rng, E, 0.9),
                                       np.flatnonzero(self.entry_user_null))
        ct = after(rng, self.entry_ct[ent], 6)
        Picker(rng, len(ent)).edges(ct)
        order = np.argsort(ct, kind="stable")
        ent, usr, rx, ct = ent[order], usr[order], rx[order], ct[order]
        self.frames["BountyEntryReaction"] = _frame("BountyEntryReaction", [
            int_series("bountyEntryId", self.entry_id[ent]),
            int_series("userId", self.user_id[usr]),
            cat_series("reaction", rx, REACTIONS),
            ts_series("createdAt", ct),
        ])

    def bounty_benefactors(self) -> None:
        rng, n = self.rng("BountyBenefactor"), self.n("BountyBenefactor")
        U, B = len(self.user_id), len(self.bounty_id)
        creators = np.flatnonzero(~self.bounty_user_null)
        r = max(0, int((n - len(creators)) * 1.3))
        b = np.concatenate([creators, pick(rng, B, r, zipf_weights(rng, B, 1.0))])
        usr = np.concatenate([self.bounty_owner[creators], pick(rng, U, r, self.user_act)])
        prio = np.concatenate([np.zeros(len(creators), np.int64), np.ones(r, np.int64)])
        is_creator = prio == 0
        keep = _take(dedupe([b, usr], prio), prio, n)
        b, usr, is_creator = b[keep], usr[keep], is_creator[keep]
        nn = len(b)
        unit = np.where(
            is_creator,
            self.bounty_min[b] * rng.choice([1, 2, 5, 10], size=nn),
            rng.choice([500, 1000, 2000, 5000, 10000, 50000], size=nn,
                       p=[0.3, 0.3, 0.15, 0.15, 0.07, 0.03]),
        )
        big = _bools(rng, nn, 0.01)
        unit[big] = rng.integers(100_000, 5_000_000, size=int(big.sum()))
        ct = np.where(is_creator, self.bounty_ct[b], after(rng, self.bounty_ct[b], 4))
        # award: a benefactor awards one entry *of the same bounty* (awardedToId is an entry id)
        E = len(self.entry_id)
        counts = np.bincount(self.entry_bounty, minlength=B)
        starts = np.cumsum(counts) - counts
        by_bounty = np.argsort(self.entry_bounty, kind="stable")
        has_entries = counts[b] > 0
        pos = starts[b] + (rng.random(nn) * np.maximum(counts[b], 1)).astype(np.int64)
        entry = by_bounty[np.minimum(pos, E - 1)]
        awarded = has_entries & _bools(rng, nn, 0.45)
        aw_at = after(rng, np.maximum(ct, self.entry_ct[entry]), 5)
        at_null = ~awarded | (awarded & _bools(rng, nn, 0.03))

        picker = Picker(rng, nn)
        unit[picker.pick(1)] = 25_000_000
        awarded[picker.pick(2, has_entries)] = False
        rows = picker.pick(2, has_entries)  # awardedToId set, awardedAt NULL
        awarded[rows], at_null[rows] = True, True
        picker.edges(ct)
        rows = picker.edges(aw_at, has_entries)
        awarded[rows], at_null[rows] = True, False
        at_null |= ~awarded
        order = np.argsort(ct, kind="stable")
        b, usr, unit, ct, entry, awarded, aw_at, at_null = (
            a[order] for a in (b, usr, unit, ct, entry, awarded, aw_at, at_null)
        )
        self.frames["BountyBenefactor"] = _frame("BountyBenefactor", [
            int_series("userId", self.user_id[usr]),
            int_series("bountyId", self.bounty_id[b]),
            int_series("unitAmount", unit),
            ts_series("createdAt", ct),
            ts_series("updatedAt", np.where(at_null, ct, np.maximum(ct, aw_at))),
            ts_series("awardedAt", aw_at, at_null),
            int_series("awardedToId", self.entry_id[entry], ~awarded),
            cat_series("currency", choice(rng, nn, [0.95, 0.05]), ["BUZZ", "USD"]),
        ])

    def bounty_engagements(self) -> None:
        rng, n = self.rng("BountyEngagement"), self.n("BountyEngagement")
        U, B = len(self.user_id), len(self.bounty_id)
        m = int(n * 1.3)
        typ = choice(rng, m, [0.6, 0.4])
        typ[:2] = [0, 1]
        b = pick(rng, B, m, zipf_weights(rng, B, 1.0))
        usr = pick(rng, U, m, self.user_act)
        keep = dedupe([typ, b, usr])[:n]
        typ, b, usr = typ[keep], b[keep], usr[keep]
        ct = after(rng, self.bounty_ct[b], 4)
        Picker(rng, len(b)).edges(ct)
        order = np.argsort(ct, kind="stable")
        typ, b, usr, ct = typ[order], b[order], usr[order], ct[order]
        self.frames["BountyEngagement"] = _frame("BountyEngagement", [
            int_series("userId", self.user_id[usr]),
            int_series("bountyId", self.bounty_id[b]),
            cat_series("type", typ, ["Favorite", "Track"]),
            ts_series("createdAt", ct),
        ])

    # ---------------------------------------------------------------- threads and comments
    def threads_comments(self) -> None:
        """Root threads per entity kind, child threads on comments (two levels), and comments."""
        rng = self.rng("Thread")
        n_t, n_c = self.n("Thread"), self.n("CommentV2")
        U = len(self.user_id)
        kinds: list[tuple[str | None, float, Array | None, Array | None]] = [
            ("imageId", 0.38, self.image_id, self.image_ct),
            ("postId", 0.2, self.post_id, self.post_ct),
            ("modelId", 0.08, self.model_id, self.model_ct),
            ("reviewId", 0.1, self.review_id, self.review_ct),
            ("articleId", 0.04, self.article_id, self.article_base),
            ("bountyId", 0.015, self.bounty_id, self.bounty_ct),
            ("bountyEntryId", 0.03, self.entry_id, self.entry_ct),
            (None, 0.01, None, None),
        ]
        r_kind, r_ent, r_base = [], [], []
        for code, (_, frac, ids, cts) in enumerate(kinds):
            k = max(2, int(round(frac * n_t)))
            if ids is None or cts is None:
                ent, base = np.zeros(k, np.int64), times(rng, k)
            else:
                k = min(k, len(ids))
                ent = rng.choice(len(ids), size=k, replace=False)
                base = cts[ent]
            r_kind.append(np.full(k, code))
            r_ent.append(ent)
            r_base.append(base)
        kind_a, ent_a, base_a = (np.concatenate(x) for x in (r_kind, r_ent, r_base))
        order = np.argsort(base_a, kind="stable")
        kind_a, ent_a, base_a = kind_a[order], ent_a[order], base_a[order]
        R = len(kind_a)
        n_child = max(4, n_t - R)
        n1 = max(2, int(n_child * 0.85))
        n2 = max(1, n_child - n1)

        # level-0 comments on root threads; one on each kind so every kind is exercised
        c0n = int(n_c * 0.75)
        c0_thread = pick(rng, R, c0n, zipf_weights(rng, R, 1.0))
        reps = np.unique(kind_a, return_index=True)[1]
        c0_thread[: len(reps)] = reps
        c0_ct = after(rng, base_a[c0_thread], 8)
        # child threads on level-0 comments; their own entity columns stay NULL
        ch1_comment = rng.choice(c0n, size=min(n1, c0n), replace=False)
        n1 = len(ch1_comment)
        ch1_parent = c0_thread[ch1_comment]
        c1n = max(n1, int(n_c * 0.2))
        c1_thread = pick(rng, n1, c1n, zipf_weights(rng, n1, 0.8))
        c1_thread[: min(5, n1)] = np.arange(min(5, n1))
        c1_ct = after(rng, c0_ct[ch1_comment][c1_thread], 10)
        # grandchild threads on level-1 comments
        ch2_comment = rng.choice(c1n, size=min(n2, c1n), replace=False)
        n2 = len(ch2_comment)
        ch2_parent = c1_thread[ch2_comment]
        c2n = max(n2, n_c - c0n - c1n)
        c2_thread = pick(rng, n2, c2n)
        c2_thread[: min(3, n2)] = np.arange(min(3, n2))
        c2_ct = after(rng, c1_ct[ch2_comment][c2_thread], 10)

        thread_pos = np.concatenate([c0_thread, R + c1_thread, R + n1 + c2_thread])
        ct = np.concatenate([c0_ct, c1_ct, c2_ct])
        nc = len(ct)
        level0 = np.arange(nc) < c0n
        counted = level0 & np.isin(kind_a[np.minimum(thread_pos, R - 1)], [0, 1, 4, 5])
        tos = _bools(rng, nc, 0.01)
        picker = Picker(rng, nc)
        tos[picker.pick(1, counted)] = True
        tos[picker.pick(1, ~counted)] = True
        picker.edges(ct, counted)
        ct[picker.pick(1, ~level0)] = CUTOFF_MS - 1  # a reply in a child thread: never attributed
        hidden = choice(rng, nc, [0.97, 0.01, 0.02])  # false, true, NULL
        usr = pick(rng, U, nc, self.user_act)

        order = np.argsort(ct, kind="stable")
        comment_id = np.empty(nc, np.int64)
        comment_id[order] = gapped_ids(rng, nc)
        T = R + n1 + n2
        thread_id = gapped_ids(rng, T)
        parent = np.concatenate([ch1_parent, R + ch2_parent])
        root = np.concatenate([ch1_parent, ch1_parent[ch2_parent]])
        on_comment = np.concatenate([ch1_comment, c0n + ch2_comment])
        kind_full = np.concatenate([kind_a, np.full(n1 + n2, -1)])
        ent_full = np.concatenate([ent_a, np.zeros(n1 + n2, np.int64)])
        cols = [
            int_series("id", thread_id),
            pl.Series("locked", _bools(rng, T, 0.02)),
            int_series("parentThreadId", np.concatenate([np.zeros(R, np.int64), thread_id[parent]]),
                       np.arange(T) < R),
            int_series("rootThreadId", np.concatenate([np.zeros(R, np.int64), thread_id[root]]),
                       np.arange(T) < R),
            int_series("commentId", np.concatenate([np.zeros(R, np.int64), comment_id[on_comment]]),
                       np.arange(T) < R),
        ]
        for code, (name, _, ids, _) in enumerate(kinds):
            if name is not None and ids is not None:
                mine = kind_full == code
                cols.append(int_series(name, ids[np.where(mine, ent_full, 0)], ~mine))
        self.frames["Thread"] = _frame("Thread", cols)

        thread_pos, ct, tos, hidden, usr = (a[order] for a in (thread_pos, ct, tos, hidden, usr))
        self.frames["CommentV2"] = _frame("CommentV2", [
            int_series("id", comment_id[order]),
            pl.Series("content", ["Nice work, thanks!"] * nc, dtype=pl.String),
            ts_series("createdAt", ct),
            ts_series("updatedAt", ct),
            pl.Series("nsfw", _bools(rng, nc, 0.03)),
            pl.Series("tosViolation", tos),
            int_series("userId", self.user_id[usr]),
            int_series("threadId", thread_id[thread_pos]),
            pl.Series("hidden", np.ma.masked_array(hidden == 1, hidden == 2), dtype=pl.Boolean),
        ])

    def old_comments(self) -> None:
        rng, n = self.rng("Comment"), self.n("Comment")
        U, M = len(self.user_id), len(self.model_id)
        top = int(n * 0.8)
        m_idx = pick(rng, M, top, self.model_pop)
        ct_top = after(rng, self.model_ct[m_idx], 5)
        parent = pick(rng, top, n - top)
        model = np.concatenate([m_idx, m_idx[parent]])
        ct = np.concatenate([ct_top, after(rng, ct_top[parent], 10)])
        parent_pos = np.concatenate([np.full(top, -1), parent])
        is_reply = parent_pos >= 0
        tos = _bools(rng, n, 0.02)
        picker = Picker(rng, n)
        tos[picker.pick(1, ~is_reply)] = True
        tos[picker.pick(1, is_reply)] = True
        picker.edges(ct, ~tos)
        order = np.argsort(ct, kind="stable")
        cid = np.empty(n, np.int64)
        cid[order] = gapped_ids(rng, n)
        usr = pick(rng, U, n, self.user_act)
        parent_pos, model, ct, tos, usr = (a[order] for a in (parent_pos, model, ct, tos, usr))
        self.frames["Comment"] = _frame("Comment", [
            int_series("id", cid[order]),
            pl.Series("content", ["Great model; works with \"hires fix\", too."] * n, dtype=pl.String),
            ts_series("createdAt", ct),
            ts_series("updatedAt", ct),
            pl.Series("tosViolation", tos),
            int_series("parentId", cid[np.maximum(parent_pos, 0)], parent_pos < 0),
            int_series("userId", self.user_id[usr]),
            int_series("modelId", self.model_id[model]),
            pl.Series("hidden", _bools(rng, n, 0.01)),
        ])

    # ---------------------------------------------------------------- engagements, tips
    def _engagements(self, rng: np.random.Generator, n: int, targets: int, weights: Array,
                     self_ok: bool) -> tuple[Array, Array]:
        """(user, target) pairs, unique, the hot user holding a large block of them."""
        U = len(self.user_id)
        h = min(int(0.07 * n), targets - 1)
        hot_t = rng.choice(targets - (0 if self_ok else 1), size=h, replace=False)
        if not self_ok:
            hot_t = hot_t + (hot_t >= self.hot_user)
        r = int((n - h) * 1.3)
        usr = np.concatenate([np.full(h, self.hot_user), pick(rng, U, r, self.user_act)])
        tgt = np.concatenate([hot_t, pick(rng, targets, r, weights)])
        prio = np.concatenate([np.zeros(h, np.int64), np.ones(r, np.int64)])
        ok = np.ones(len(usr), bool) if self_ok else usr != tgt
        rows = np.flatnonzero(ok)
        keep = rows[_take(dedupe([usr[rows], tgt[rows]], prio[rows]), prio[rows], n)]
        return usr[keep], tgt[keep]

    def user_engagements(self) -> None:
        rng, n = self.rng("UserEngagement"), self.n("UserEngagement")
        usr, tgt = self._engagements(rng, n, len(self.user_id), self.user_pop, self_ok=False)
        nn = len(usr)
        typ = choice(rng, nn, [0.85, 0.1, 0.05])  # Follow, Hide, Block
        ct = after(rng, np.maximum(self.user_ct[usr], self.user_ct[tgt]), 3)
        picker = Picker(rng, nn)
        typ[picker.pick(3)] = [0, 1, 2]
        picker.edges(ct, typ != 2)
        order = np.argsort(ct, kind="stable")
        usr, tgt, typ, ct = usr[order], tgt[order], typ[order], ct[order]
        self.frames["UserEngagement"] = _frame("UserEngagement", [
            int_series("userId", self.user_id[usr]),
            int_series("targetUserId", self.user_id[tgt]),
            cat_series("type", typ, ["Follow", "Hide", "Block"]),
            ts_series("createdAt", ct),
        ])

    def tag_engagements(self) -> None:
        rng, n = self.rng("TagEngagement"), self.n("TagEngagement")
        usr, tag = self._engagements(rng, n, len(self.tag_id), self.tag_pop, self_ok=True)
        nn = len(usr)
        typ = choice(rng, nn, [0.55, 0.4, 0.05])  # Follow, Hide, Allow
        ct = times(rng, nn, skew=0.6)
        picker = Picker(rng, nn)
        typ[picker.pick(3)] = [0, 1, 2]
        picker.edges(ct, typ != 2)
        order = np.argsort(ct, kind="stable")
        usr, tag, typ, ct = usr[order], tag[order], typ[order], ct[order]
        self.frames["TagEngagement"] = _frame("TagEngagement", [
            int_series("userId", self.user_id[usr]),
            int_series("tagId", self.tag_id[tag]),
            cat_series("type", typ, ["Follow", "Hide", "Allow"]),
            ts_series("createdAt", ct),
        ])

    def buzz_tips(self) -> None:
        rng, n = self.rng("BuzzTip"), self.n("BuzzTip")
        U = len(self.user_id)
        m = int(n * 1.3)
        kind = choice(rng, m, TIP_KIND_P)
        prio = np.ones(m, np.int64)
        kind[:12], prio[:12] = np.arange(12) % 6, 0
        tables = [  # (ids, createdAt, owner index, popularity)
            (self.image_id, self.image_ct, self.image_owner, self.image_pop),
            (self.model_id, self.model_ct, self.model_owner, self.model_pop),
            (self.post_id, self.post_ct, self.post_owner, self.post_pop),
            (self.article_id, self.article_base, self.article_owner, self.article_pop),
            (self.user_id, self.user_ct, np.arange(U), self.user_pop),
            (self.coll_id, self.coll_ct, self.coll_owner, self.coll_pop),
        ]
        ent = np.select(
            [kind == k for k in range(6)],
            [pick(rng, len(t[0]), m, t[3]) for t in tables],
            default=0,
        )
        frm = pick(rng, U, m, self.user_whale)
        keep = _take(dedupe([kind, ent, frm], prio), prio, n)
        kind, ent, frm = kind[keep], ent[keep], frm[keep]
        nn = len(kind)

        def per_kind(i: int) -> Array:
            return np.select([kind == k for k in range(6)],
                             [t[i][np.where(kind == k, ent, 0)] for k, t in enumerate(tables)])

        entity_id, base, owner = per_kind(0), per_kind(1), per_kind(2)
        amount = rng.choice([10, 20, 25, 50, 100, 200, 500, 1000, 2000, 5000], size=nn,
                            p=[0.1, 0.08, 0.12, 0.15, 0.25, 0.1, 0.1, 0.06, 0.02, 0.02])
        big = _bools(rng, nn, 0.005)
        amount[big] = rng.integers(10_000, 2_000_000, size=int(big.sum()))
        ct = after(rng, base, 6)
        picker = Picker(rng, nn)
        amount[picker.pick(2)] = [50_000_000, 1_000_000_000]
        picker.edges(ct)
        upd = np.where(_bools(rng, nn, 0.2), after(rng, ct, 6), ct)
        order = np.argsort(ct, kind="stable")
        kind, entity_id, owner, frm, amount, ct, upd = (
            a[order] for a in (kind, entity_id, owner, frm, amount, ct, upd)
        )
        self.frames["BuzzTip"] = _frame("BuzzTip", [
            cat_series("entityType", kind, TIP_KINDS),
            int_series("entityId", entity_id),
            int_series("toUserId", self.user_id[owner]),
            int_series("fromUserId", self.user_id[frm]),
            int_series("amount", amount),
            ts_series("createdAt", ct),
            ts_series("updatedAt", np.maximum(upd, ct)),
        ])

    def run(self) -> dict[str, pl.DataFrame]:
        self.users()
        self.tags()
        self.models()
        self.versions()
        self.collections()
        self.posts()
        self.images()
        self.image_reactions()
        self.image_resources()
        self.articles()
        self.article_reactions()
        self.collection_items()
        self.collection_contributors()
        self.collection_frame()
        self.reviews()
        self.bounties()
        self.bounty_entries()
        self.bounty_entry_reactions()
        self.bounty_benefactors()
        self.bounty_engagements()
        self.threads_comments()
        self.old_comments()
        self.user_engagements()
        self.tag_engagements()
        self.buzz_tips()
        return {t: self.frames[t].select(_ddl_order(t, self.frames[t])) for t in TABLES}


def generate_pg(scale: float, seed: int) -> dict[str, pl.DataFrame]:
    """Every Postgres source table as a DataFrame (DB column names; unset columns take defaults)."""
    if scale <= 0:
        raise ValueError("scale must be > 0")
    return _Gen(scale, seed).run()


def model_versions(scale: float, seed: int) -> pl.DataFrame:
    """Just ModelVersion ``id, modelId`` (for the ClickHouse generator, without the other tables)."""
    g = _Gen(scale, seed)
    g.users()
    g.models()
    g.versions()
    return g.frames["ModelVersion"].select("id", "modelId")

