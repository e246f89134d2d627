"""The generation steps in the one order they run in, each with the steps whose output it reads.

``STEPS`` is the only statement of that order. Steps pass data only through ``Gen`` and each
draws from its own random stream, so any order in which every step comes after the steps it
``reads`` gives the same data. ``reads`` therefore names, besides the steps that set a record,
those whose in-place changes a step must see: the collection items and contributors move
collection createdAt values that the Collection frame and the tips read. A caller that needs
one table runs just the steps behind it (``model_versions``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from ..schema import TABLES
from . import articles, bounties, buzz, collections, comments, images, models, users
from .columns import ddl_order
from .core import Gen

Run = Callable[[Gen], None]


@dataclass(frozen=True)
class Step:
    """``run`` adds its tables to ``Gen.frames`` (and its record to ``Gen``); ``reads`` are the
    steps it needs to have run before it."""

    run: Run
    reads: tuple[Run, ...] = ()


STEPS: tuple[Step, ...] = (
    Step(users.users),
    Step(users.tags),
    Step(models.models, (users.users,)),
    Step(models.versions, (models.models,)),
    Step(collections.collections, (users.users,)),
    Step(images.posts, (users.users, models.versions, collections.collections)),
    Step(images.images, (users.users, images.posts)),
    Step(images.image_reactions, (users.users, images.images)),
    Step(models.image_resources, (models.models, models.versions, images.images)),
    Step(articles.articles, (users.users,)),
    Step(articles.article_reactions, (users.users, articles.articles)),
    Step(collections.collection_items, (
        users.users, collections.collections, images.images, models.models, images.posts,
        articles.articles,
    )),
    Step(collections.collection_contributors, (
        users.users, collections.collections, collections.collection_items,
    )),
    Step(collections.collection_frame, (
        users.users, collections.collections, collections.collection_items,
        collections.collection_contributors,
    )),
    Step(models.reviews, (users.users, models.models, models.versions)),
    Step(bounties.bounties, (users.users,)),
    Step(bounties.bounty_entries, (users.users, bounties.bounties)),
    Step(bounties.bounty_entry_reactions, (users.users, bounties.bounty_entries)),
    Step(bounties.bounty_benefactors, (users.users, bounties.bounties, bounties.bounty_entries)),
    Step(bounties.bounty_engagements, (users.users, bounties.bounties)),
    Step(comments.threads_comments, (
        users.users, images.images, images.posts, models.models, models.reviews,
        articles.articles, bounties.bounties, bounties.bounty_entries,
    )),
    Step(comments.old_comments, (users.users, models.models)),
    Step(users.user_engagements, (users.users,)),
    Step(users.tag_engagements, (users.users, users.tags)),
    Step(buzz.buzz_tips, (
        users.users, images.images, models.models, images.posts, articles.articles,
        collections.collections, collections.collection_items,
    )),
)


def steps_for(target: Run) -> list[Step]:
    """``target`` and every step it reads, directly or not, in ``STEPS`` order."""
    wanted = {target}
    for step in reversed(STEPS):
        if step.run in wanted:
            wanted.update(step.reads)
    return [s for s in STEPS if s.run in wanted]


def generate_pg(scale: float, seed: int) -> dict[str, pl.DataFrame]:
    """Every Postgres source table as a DataFrame (DB column names; unset columns take defaults)."""
    if scale <= 0:
        raise ValueError("scale must be > 0")
    g = Gen(scale, seed)
    for step in STEPS:
        step.run(g)
    return {t: g.frames[t].select(ddl_order(t, g.frames[t])) for t in TABLES}


def model_versions(scale: float, seed: int) -> pl.DataFrame:
    """Just ModelVersion ``id, modelId`` (for the ClickHouse generator, without the other tables)."""
    g = Gen(scale, seed)
    for step in steps_for(models.versions):
        step.run(g)
    return g.frames["ModelVersion"].select("id", "modelId")
