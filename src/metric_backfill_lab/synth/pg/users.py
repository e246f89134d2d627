"""Users and tags, and who follows, hides or blocks whom (UserEngagement, TagEngagement).

Users come first: every later table picks its owners and actors from ``Gen.users`` by position,
with the three popularity weights drawn here (who acts, who gets liked, who tips). The
engagement tables read users and tags only; one "hot" user holds a large block of each, since
the composite primary keys lead with userId and the backfill must cope with such a skewed key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from .._util import Array, Picker, after, choice, dedupe, gapped_ids, pick, times, zipf_weights
from .columns import cat_series, frame, int_series, lists, ts_series
from .core import Gen, Rows, bools, by_time, take


@dataclass(frozen=True)
class Users(Rows):
    """Every later table picks its owners and actors from these, by position."""

    act: Array  # who reacts, follows, comments
    pop: Array  # who creates what others like
    whale: Array  # who tips
    hot: int  # the skewed leading key of composite-PK tables


def users(g: Gen) -> None:
    rng, n = g.rng("User"), g.n("User")
    user_id = gapped_ids(rng, n)
    ct = np.sort(times(rng, n, skew=0.7))
    g.users = Users(
        id=user_id,
        ct=ct,
        act=zipf_weights(rng, n, 0.8),
        pop=zipf_weights(rng, n, 1.1),
        whale=zipf_weights(rng, n, 1.3),
        hot=int(rng.integers(n)),
    )
    deleted, banned = bools(rng, n, 0.01), bools(rng, n, 0.005)
    df = frame("User", [
        int_series("id", user_id),
        ts_series("createdAt", ct),
        ts_series("deletedAt", after(rng, ct, 2), ~deleted),
        ts_series("bannedAt", after(rng, ct, 2), ~banned),
    ])
    g.frames["User"] = df.with_columns(
        username=pl.format("user{}", pl.col("id")),
        email=pl.format("user{}@example.com", pl.col("id")),
    ).select(["id", "username", "email", "createdAt", "deletedAt", "bannedAt"])


@dataclass(frozen=True)
class Tags:
    """What the tag engagements pick from."""

    id: Array
    pop: Array


def tags(g: Gen) -> None:
    rng, n = g.rng("Tag"), g.n("Tag")
    tag_id = gapped_ids(rng, n)
    ct = np.sort(times(rng, n, skew=0.8))
    g.tags = Tags(id=tag_id, pop=zipf_weights(rng, n, 1.0))
    targets = [["Model"], ["Image", "Post"], ["Model", "Image", "Post"], ["Tag"],
               ["Article"], ["Collection"], ["Bounty"], ["Question"]]
    df = frame("Tag", [
        int_series("id", tag_id),
        ts_series("createdAt", ct),
        ts_series("updatedAt", ct),
        lists("target", targets, choice(rng, n, [0.3, 0.35, 0.2, 0.05, 0.04, 0.03, 0.02, 0.01])),
        cat_series("type", choice(rng, n, [0.8, 0.15, 0.03, 0.02]),
                   ["UserGenerated", "Label", "Moderation", "System"]),
    ])
    g.frames["Tag"] = df.with_columns(name=pl.format("tag{}", pl.col("id")))


def _pairs(g: Gen, rng: np.random.Generator, n: int, targets: int, weights: Array,
           self_ok: bool) -> tuple[Array, Array]:
    """(user, target) pairs, unique, the hot user holding a large block of them."""
    u = g.users
    h = min(int(0.07 * n), targets - 1)
    hot_t = rng.choice(targets - (0 if self_ok else 1), size=h, replace=False)
    if not self_ok:
        hot_t = hot_t + (hot_t >= u.hot)
    r = int((n - h) * 1.3)
    usr = np.concatenate([np.full(h, u.hot), pick(rng, len(u.id), r, u.act)])
    tgt = np.concatenate([hot_t, pick(rng, targets, r, weights)])
    prio = np.concatenate([np.zeros(h, np.int64), np.ones(r, np.int64)])
    ok = np.ones(len(usr), bool) if self_ok else usr != tgt
    rows = np.flatnonzero(ok)
    keep = rows[take(dedupe([usr[rows], tgt[rows]], prio[rows]), prio[rows], n)]
    return usr[keep], tgt[keep]


Created = Callable[[np.random.Generator, Array, Array], Array]
"""createdAt of the (user, target) rows, drawn after their engagement types."""


def _engagements(g: Gen, table: str, target: tuple[str, Array, Array], self_ok: bool,
                 types: tuple[list[str], list[float]], created: Created) -> None:
    """One engagement table: ``target`` is (column, ids, popularity), ``types`` the labels and
    their shares; the third type is the one no metric counts, so no edge instant goes to it."""
    rng, n = g.rng(table), g.n(table)
    column, target_ids, weights = target
    labels, shares = types
    usr, tgt = _pairs(g, rng, n, len(target_ids), weights, self_ok)
    nn = len(usr)
    typ = choice(rng, nn, shares)
    ct = created(rng, usr, tgt)
    picker = Picker(rng, nn)
    typ[picker.pick(3)] = [0, 1, 2]
    picker.edges(ct, typ != 2)
    usr, tgt, typ, ct = by_time(ct, usr, tgt, typ, ct)
    g.frames[table] = frame(table, [
        int_series("userId", g.users.id[usr]),
        int_series(column, target_ids[tgt]),
        cat_series("type", typ, labels),
        ts_series("createdAt", ct),
    ])


def user_engagements(g: Gen) -> None:
    u = g.users

    def created(rng: np.random.Generator, usr: Array, tgt: Array) -> Array:
        return after(rng, np.maximum(u.ct[usr], u.ct[tgt]), 3)  # once both users exist

    _engagements(g, "UserEngagement", ("targetUserId", u.id, u.pop), False,
                 (["Follow", "Hide", "Block"], [0.85, 0.1, 0.05]), created)


def tag_engagements(g: Gen) -> None:
    def created(rng: np.random.Generator, usr: Array, tgt: Array) -> Array:
        return times(rng, len(usr), skew=0.6)

    _engagements(g, "TagEngagement", ("tagId", g.tags.id, g.tags.pop), True,
                 (["Follow", "Hide", "Allow"], [0.55, 0.4, 0.05]), created)
