"""Posts, their images, and the reactions to images.

Posts read users (owners), versions (the version a post is about) and the collection arrays (a
few posts enter contest collections). Images belong to a post and its owner, created within the
hour after it, except a few without a post. The images without a post and those on the window
edges are kept in ``Gen.images``, because the image reactions must reach them: a reaction to an
image without a post counts for the image and not for any post.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from .._util import Array, Picker, after, choice, dedupe, gapped_ids, pick, times, zipf_weights
from ..constants import END_MS
from . import reactions
from .columns import cat_series, frame, int_series, ts_series
from .core import Entity, Gen, bools, edged_after, user_made


def posts(g: Gen) -> None:
    rng, n = g.rng("Post"), g.n("Post")
    g.posts = user_made(g, rng, n, 0.6, g.users.pop, 0.9)
    p = g.posts
    has_mv = bools(rng, n, 0.4)
    mv = pick(rng, len(g.versions.id), n, g.versions.pop)
    published = bools(rng, n, 0.85)
    pub = after(rng, p.ct, 14)
    contests = np.flatnonzero(g.colls.mode == 2)
    in_contest = bools(rng, n, 0.015) & (len(contests) > 0)
    coll = (contests[rng.integers(0, max(len(contests), 1), size=n)] if len(contests)
            else np.zeros(n, np.int64))
    g.frames["Post"] = frame("Post", [
        int_series("id", p.id),
        pl.Series("nsfw", bools(rng, n, 0.12)),
        int_series("userId", g.users.id[p.owner]),
        int_series("modelVersionId", g.versions.id[mv], ~has_mv),
        ts_series("createdAt", p.ct),
        ts_series("updatedAt", np.maximum(p.ct, pub)),
        ts_series("publishedAt", pub, ~published),
        int_series("collectionId", g.colls.id[coll], ~in_contest),
        int_series("nsfwLevel", rng.choice([1, 2, 4, 8, 16], size=n)),
    ])


@dataclass(frozen=True)
class Images(Entity):
    """Besides the entity arrays, the rows the reactions and resources must reach."""

    has_post: Array
    null_post: Array  # rows whose postId was forced to NULL
    edge: Array  # rows whose createdAt is a window edge


def _image_rows(g: Gen, rng: np.random.Generator, n: int) -> tuple[Array, Array, Array, Array]:
    """(has post, post position, createdAt, owner) of ``n`` images in creation order."""
    P = len(g.posts.id)
    with_post = ~bools(rng, n, 0.08)
    pidx = pick(rng, P, n, zipf_weights(rng, P, 0.5))
    ct = np.where(with_post, g.posts.ct[pidx] + rng.integers(0, 3_600_000, size=n),
                  times(rng, n))
    ct = np.minimum(ct, END_MS - 1)
    owner = np.where(with_post, g.posts.owner[pidx], pick(rng, len(g.users.id), n, g.users.pop))
    order = np.argsort(ct, kind="stable")
    return with_post[order], pidx[order], ct[order], owner[order]


def images(g: Gen) -> None:
    rng, n = g.rng("Image"), g.n("Image")
    with_post, pidx, ct, owner = _image_rows(g, rng, n)
    picker = Picker(rng, n)
    null_post = picker.pick(4, with_post)
    with_post[null_post] = False
    edge = picker.edges(ct, with_post)
    image_id = gapped_ids(rng, n)
    g.images = Images(id=image_id, ct=ct, owner=owner, pop=zipf_weights(rng, n, 0.95),
                      has_post=with_post, null_post=null_post, edge=edge)
    video = bools(rng, n, 0.04)
    df = frame("Image", [
        int_series("id", image_id),
        int_series("userId", g.users.id[owner]),
        ts_series("createdAt", ct),
        ts_series("updatedAt", ct),
        int_series("height", rng.choice([512, 768, 1024, 1216], size=n)),
        int_series("width", rng.choice([512, 768, 832, 1024], size=n)),
        cat_series("type", video.astype(np.int64), ["image", "video"]),
        int_series("nsfwLevel", rng.choice([1, 2, 4, 8, 16], size=n, p=[0.5, 0.2, 0.15, 0.1, 0.05])),
        int_series("postId", g.posts.id[pidx], ~with_post),
        int_series("index", rng.integers(0, 10, size=n)),
        cat_series("ingestion", choice(rng, n, [0.96, 0.02, 0.01, 0.01]),
                   ["Scanned", "Pending", "Error", "Blocked"]),
        ts_series("sortAt", ct),
    ])
    g.frames["Image"] = df.with_columns(url=pl.format("img/{}.jpeg", pl.col("id")))


def image_reactions(g: Gen) -> None:
    rng, n = g.rng("ImageReaction"), g.n("ImageReaction")
    im = g.images
    forced = np.concatenate([im.null_post, im.edge])
    img, usr, rx = reactions.draw(g, rng, n, len(im.id), im.pop, forced)
    picker = Picker(rng, len(img))
    rows = picker.pick(3)
    usr[rows] = im.owner[img[rows]]  # self-reactions count too
    keep = dedupe([img, usr, rx], 1 - picker.taken.astype(np.int64))
    img, usr, rx = img[keep], usr[keep], rx[keep]
    ct = edged_after(rng, im.ct[img], 8, im.has_post[img])
    reactions.write(g, rng, "ImageReaction", ("imageId", im.id), (img, usr, rx), ct)
