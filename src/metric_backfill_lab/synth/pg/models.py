"""Models, their versions, the reviews of versions and the versions each image was made with.

Models read users (owners); versions read models, and every model gets its first version at its
own creation time, so no model is without one. The excluded version ids always exist and are
among the most used, as in production, so that excluding them visibly changes the results.
ResourceReview and ImageResourceNew read versions (and images for the latter), which is why
they run after the tables they point at.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from .._util import Array, Picker, after, choice, dedupe, gapped_ids, pick, zipf_weights
from .columns import cat_series, frame, int_series, ts_series
from .core import Gen, Rows, bools, by_time, take, user_made

EXCLUDED_VERSIONS = (106916, 250708, 250712)
"""Version ids the generation backfill excludes by default; they exist in PG and in CH jobs."""


def models(g: Gen) -> None:
    rng, n = g.rng("Model"), g.n("Model")
    g.models = user_made(g, rng, n, 0.7, g.users.pop, 1.0)
    mo = g.models
    status = choice(rng, n, [0.8, 0.07, 0.05, 0.04, 0.015, 0.01, 0.01, 0.005])
    status_labels = ["Published", "Draft", "Unpublished", "Deleted", "Training",
                     "UnpublishedViolation", "Scheduled", "GatherInterest"]
    published = np.isin(status, [0, 2, 3, 5])
    pub = after(rng, mo.ct, 12)
    types = ["LORA", "Checkpoint", "TextualInversion", "LoCon", "Controlnet", "VAE",
             "Upscaler", "DoRA", "Workflows", "Other"]
    g.frames["Model"] = frame("Model", [
        int_series("id", mo.id),
        pl.Series("name", [f"Model {i}" for i in mo.id.tolist()], dtype=pl.String),
        cat_series("type", choice(rng, n, [0.55, 0.18, 0.07, 0.06, 0.03, 0.02, 0.02, 0.03,
                                           0.02, 0.02]), types),
        ts_series("createdAt", mo.ct),
        ts_series("updatedAt", np.maximum(pub, mo.ct)),
        ts_series("lastVersionAt", pub, ~published),
        pl.Series("nsfw", bools(rng, n, 0.15)),
        int_series("userId", g.users.id[mo.owner]),
        cat_series("status", status, status_labels),
        ts_series("publishedAt", pub, ~published),
        ts_series("deletedAt", after(rng, pub, 3), status != 3),
        int_series("nsfwLevel", rng.choice([1, 2, 4, 8, 16], size=n)),
    ])


@dataclass(frozen=True)
class Versions(Rows):
    """What posts, reviews and image resources pick from; ``model`` is the version's model."""

    model: Array  # position in Models
    pop: Array


def _version_rows(g: Gen, rng: np.random.Generator, n: int) -> tuple[Array, Array, Array]:
    """(ids, model positions, createdAt) of ``n`` versions in creation order, with the excluded
    version ids put on random rows where the drawn ids lack them."""
    M = len(g.models.id)
    midx = np.concatenate([np.arange(M), pick(rng, M, n - M, zipf_weights(rng, M, 0.9))])
    ct = after(rng, g.models.ct[midx], 6)
    ct[:M] = g.models.ct
    midx, ct = by_time(ct, midx, ct)
    ids = gapped_ids(rng, n)
    picker = Picker(rng, n)
    for special in EXCLUDED_VERSIONS:
        if special not in ids:
            ids[picker.pick(1)] = special
    return ids, midx, ct


def versions(g: Gen) -> None:
    rng = g.rng("ModelVersion")
    n = max(g.n("ModelVersion"), len(g.models.id))
    ids, midx, ct = _version_rows(g, rng, n)
    pop = zipf_weights(rng, n, 1.05)
    pop[np.isin(ids, EXCLUDED_VERSIONS)] = pop.max()
    pop /= pop.sum()
    g.versions = Versions(id=ids, model=midx, ct=ct, pop=pop)
    published = bools(rng, n, 0.88)
    pub = after(rng, ct, 14)
    base = ["SD 1.5", "SDXL 1.0", "Pony", "Flux.1 D", "Illustrious", "SD 3.5"]
    df = frame("ModelVersion", [
        int_series("id", ids),
        int_series("modelId", g.models.id[midx]),
        ts_series("createdAt", ct),
        ts_series("updatedAt", np.maximum(ct, pub)),
        ts_series("publishedAt", pub, ~published),
        cat_series("status", np.where(published, 1, 0), ["Draft", "Published"]),
        cat_series("baseModel", choice(rng, n, [0.35, 0.3, 0.15, 0.12, 0.05, 0.03]), base),
        pl.Series("words", bools(rng, n, 0.6)),
    ])
    g.frames["ModelVersion"] = df.with_columns(
        name=pl.format("v{}", pl.col("id")),
        trainedWords=pl.format("trigger{}", pl.col("id"))
        .str.split(",")
        .list.head(pl.col("words").cast(pl.Int64)),
    ).drop("words")


def reviews(g: Gen) -> None:
    rng, n = g.rng("ResourceReview"), g.n("ResourceReview")
    v = g.versions
    m = int(n * 1.2)
    ver = pick(rng, len(v.id), m, v.pop)
    usr = pick(rng, len(g.users.id), m, g.users.act)
    keep = dedupe([ver, usr])[:n]
    ver, usr = ver[keep], usr[keep]
    nn = len(ver)
    rating = choice(rng, nn, [0.05, 0.04, 0.08, 0.18, 0.65]) + 1
    rec = (rating >= 3) ^ bools(rng, nn, 0.05)
    exclude, tos = bools(rng, nn, 0.04), bools(rng, nn, 0.015)
    ct = after(rng, v.ct[ver], 6)
    picker = Picker(rng, nn)
    exclude[picker.pick(2)] = True
    tos[picker.pick(2)] = True
    clean = ~exclude & ~tos
    rec[picker.pick(2, clean)] = False
    rec[picker.pick(2, clean)] = True
    picker.edges(ct, clean)
    ver, usr, rating, rec, exclude, tos, ct = by_time(ct, ver, usr, rating, rec, exclude, tos, ct)
    g.reviews = Rows(id=gapped_ids(rng, nn), ct=ct)
    g.frames["ResourceReview"] = frame("ResourceReview", [
        int_series("id", g.reviews.id),
        int_series("modelId", g.models.id[v.model[ver]]),
        int_series("modelVersionId", v.id[ver]),
        int_series("rating", rating),
        pl.Series("recommended", rec),
        int_series("userId", g.users.id[usr]),
        ts_series("createdAt", ct),
        ts_series("updatedAt", ct),
        pl.Series("exclude", exclude),
        pl.Series("nsfw", bools(rng, nn, 0.1)),
        pl.Series("tosViolation", tos),
    ])


def _two_version_images(g: Gen, rng: np.random.Generator) -> tuple[Array, Array]:
    """(image, version) rows for three published images that each use two versions of one
    model: Model.imageCount counts such an image twice, once per version."""
    counts = np.bincount(g.versions.model, minlength=len(g.models.id))
    multi = rng.choice(np.flatnonzero(counts >= 2), size=3, replace=False)
    order = np.argsort(g.versions.model, kind="stable")
    starts = np.cumsum(counts) - counts
    pairs = np.stack([order[starts[multi]], order[starts[multi] + 1]], axis=1).ravel()
    two = np.repeat(rng.choice(np.flatnonzero(g.images.has_post), size=3, replace=False), 2)
    return two, pairs


def image_resources(g: Gen) -> None:
    rng, n = g.rng("ImageResourceNew"), g.n("ImageResourceNew")
    n_img = len(g.images.id)
    m = int(n * 1.1)
    img = pick(rng, n_img, m, zipf_weights(rng, n_img, 0.3))
    ver = pick(rng, len(g.versions.id), m, g.versions.pop)
    prio = np.ones(m, dtype=np.int64)
    # images at the window edges use a resource, so their edge instant reaches the metrics
    k = len(g.images.edge)
    img[:k], prio[:k] = g.images.edge, 0
    img[k:k + 6], ver[k:k + 6] = _two_version_images(g, rng)
    prio[k:k + 6] = 0
    keep = take(dedupe([img, ver], prio), prio, n)
    img, ver = img[keep], ver[keep]
    order = np.lexsort([ver, img])
    img, ver = img[order], ver[order]
    nn = len(img)
    g.frames["ImageResourceNew"] = frame("ImageResourceNew", [
        int_series("imageId", g.images.id[img]),
        int_series("modelVersionId", g.versions.id[ver]),
        int_series("strength", rng.integers(30, 101, size=nn), bools(rng, nn, 0.3)),
        pl.Series("detected", bools(rng, nn, 0.15)),
    ])
