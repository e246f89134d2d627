"""Comment threads with their comments (Thread, CommentV2) and the old model comments (Comment).

A root thread hangs on one entity (image, post, model, review, article, bounty, bounty entry, or
none), so this step reads all of those tables. Replies form two more levels: a child thread on
a root-level comment and a grandchild thread on a child-level comment, whose own entity columns
stay NULL. Only root-level comments on images, posts, articles and bounties count, so the edge
instants and the ToS cases go to those, and one reply inside the window shows that a reply is
never attributed. The old Comment table reads only users and models.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from .._util import Array, Picker, after, choice, gapped_ids, pick, times, zipf_weights
from ..constants import CUTOFF_MS
from .columns import frame, int_series, ts_series
from .core import Gen, Rows, bools, by_time


@dataclass(frozen=True)
class _Kind:
    column: str | None  # the Thread column naming the entity; None: a thread on no entity
    share: float  # of all threads
    rows: Rows


COUNTED_KINDS = [0, 1, 4, 5]  # positions in _kinds: images, posts, articles, bounties


def _kinds(g: Gen) -> list[_Kind]:
    none = np.zeros(0, np.int64)
    return [
        _Kind("imageId", 0.38, g.images),
        _Kind("postId", 0.2, g.posts),
        _Kind("modelId", 0.08, g.models),
        _Kind("reviewId", 0.1, g.reviews),
        _Kind("articleId", 0.04, g.articles),
        _Kind("bountyId", 0.015, g.bounties),
        _Kind("bountyEntryId", 0.03, g.entries),
        _Kind(None, 0.01, Rows(none, none)),
    ]


@dataclass(frozen=True)
class _Roots:
    """Root threads in order of their entity's creation."""

    kind: Array  # position in _kinds
    ent: Array  # position of the entity in its table
    base: Array  # the entity's creation: the thread's comments come after it


def _roots(rng: np.random.Generator, kinds: list[_Kind], n_threads: int) -> _Roots:
    kind, ent, base = [], [], []
    for code, k in enumerate(kinds):
        count = max(2, int(round(k.share * n_threads)))
        if k.column is None:
            e, b = np.zeros(count, np.int64), times(rng, count)
        else:
            count = min(count, len(k.rows.id))
            e = rng.choice(len(k.rows.id), size=count, replace=False)  # one thread per entity
            b = k.rows.ct[e]
        kind.append(np.full(count, code))
        ent.append(e)
        base.append(b)
    kind_a, ent_a, base_a = (np.concatenate(x) for x in (kind, ent, base))
    kind_a, ent_a, base_a = by_time(base_a, kind_a, ent_a, base_a)
    return _Roots(kind_a, ent_a, base_a)


@dataclass(frozen=True)
class _Level:
    """The comments of one level and, below the root level, the threads they are in."""

    thread: Array  # per comment: its thread, numbered within the level
    ct: Array
    on: Array  # per thread: the comment of the level above it hangs on
    parent: Array  # per thread: that comment's thread (numbered within the level above)


def _root_comments(rng: np.random.Generator, roots: _Roots, count: int) -> _Level:
    """Comments on root threads; the first ones go one to each kind, so every kind is used."""
    R = len(roots.kind)
    thread = pick(rng, R, count, zipf_weights(rng, R, 1.0))
    reps = np.unique(roots.kind, return_index=True)[1]
    thread[: len(reps)] = reps
    none = np.zeros(0, np.int64)
    return _Level(thread, after(rng, roots.base[thread], 8), none, none)


def _child_level(rng: np.random.Generator, up: _Level, threads: int, want: int,
                 skew: float | None, forced: int) -> _Level:
    """Up to ``threads`` threads on distinct comments of ``up``, and at least ``want``
    comments in them; the first ``forced`` threads get one comment each at least."""
    on = rng.choice(len(up.ct), size=min(threads, len(up.ct)), replace=False)
    k = len(on)
    size = max(k, want)
    weights = None if skew is None else zipf_weights(rng, k, skew)
    thread = pick(rng, k, size, weights)
    thread[: min(forced, k)] = np.arange(min(forced, k))
    return _Level(thread, after(rng, up.ct[on][thread], 10), on, up.thread[on])


def _comment_flags(g: Gen, rng: np.random.Generator, roots: _Roots, thread: Array, ct: Array,
                   n_root: int) -> tuple[Array, Array, Array]:
    """(tosViolation, hidden code, user) of every comment; moves some ``ct`` onto the edges."""
    R, nc = len(roots.kind), len(ct)
    level0 = np.arange(nc) < n_root
    counted = level0 & np.isin(roots.kind[np.minimum(thread, R - 1)], COUNTED_KINDS)
    tos = bools(rng, nc, 0.01)
    picker = Picker(rng, nc)
    tos[picker.pick(1, counted)] = True
    tos[picker.pick(1, ~counted)] = True
    picker.edges(ct, counted)
    ct[picker.pick(1, ~level0)] = CUTOFF_MS - 1  # a reply in the window: never attributed
    hidden = choice(rng, nc, [0.97, 0.01, 0.02])  # false, true, NULL
    usr = pick(rng, len(g.users.id), nc, g.users.act)
    return tos, hidden, usr


def _thread_frame(rng: np.random.Generator, kinds: list[_Kind], roots: _Roots,
                  levels: tuple[_Level, _Level, _Level], thread_id: Array,
                  comment_id: Array) -> pl.DataFrame:
    """Root threads first, then the child and grandchild threads, which name the comment they
    hang on, its thread and the root thread instead of an entity."""
    c0, c1, c2 = levels
    R, n_child = len(roots.kind), len(c1.on) + len(c2.on)
    T = R + n_child
    parent = np.concatenate([c1.parent, R + c2.parent])
    root = np.concatenate([c1.parent, c1.parent[c2.parent]])
    on_comment = np.concatenate([c1.on, len(c0.ct) + c2.on])
    is_root = np.arange(T) < R
    zeros = np.zeros(R, np.int64)
    cols = [
        int_series("id", thread_id),
        pl.Series("locked", bools(rng, T, 0.02)),
        int_series("parentThreadId", np.concatenate([zeros, thread_id[parent]]), is_root),
        int_series("rootThreadId", np.concatenate([zeros, thread_id[root]]), is_root),
        int_series("commentId", np.concatenate([zeros, comment_id[on_comment]]), is_root),
    ]
    kind = np.concatenate([roots.kind, np.full(n_child, -1)])
    ent = np.concatenate([roots.ent, np.zeros(n_child, np.int64)])
    for code, k in enumerate(kinds):
        if k.column is not None:
            mine = kind == code
            cols.append(int_series(k.column, k.rows.id[np.where(mine, ent, 0)], ~mine))
    return frame("Thread", cols)


def _comment_columns(ids: Array, text: str, ct: Array, tos: Array, user_ids: Array
                     ) -> list[pl.Series]:
    """The columns both comment tables have; a comment is never edited (updatedAt = createdAt)."""
    return [
        int_series("id", ids),
        pl.Series("content", [text] * len(ids), dtype=pl.String),
        ts_series("createdAt", ct),
        ts_series("updatedAt", ct),
        pl.Series("tosViolation", tos),
        int_series("userId", user_ids),
    ]


def threads_comments(g: Gen) -> None:
    """Root threads per entity kind, child threads on comments (two levels), and comments."""
    rng = g.rng("Thread")
    n_t, n_c = g.n("Thread"), g.n("CommentV2")
    kinds = _kinds(g)
    roots = _roots(rng, kinds, n_t)
    R = len(roots.kind)
    n_child = max(4, n_t - R)
    n1 = max(2, int(n_child * 0.85))
    c0 = _root_comments(rng, roots, int(n_c * 0.75))
    c1 = _child_level(rng, c0, n1, int(n_c * 0.2), skew=0.8, forced=5)
    c2 = _child_level(rng, c1, max(1, n_child - n1), n_c - len(c0.ct) - len(c1.ct),
                      skew=None, forced=3)
    thread = np.concatenate([c0.thread, R + c1.thread, R + len(c1.on) + c2.thread])
    ct = np.concatenate([c0.ct, c1.ct, c2.ct])
    nc = len(ct)
    tos, hidden, usr = _comment_flags(g, rng, roots, thread, ct, len(c0.ct))

    order = np.argsort(ct, kind="stable")
    comment_id = np.empty(nc, np.int64)
    comment_id[order] = gapped_ids(rng, nc)
    thread_id = gapped_ids(rng, R + len(c1.on) + len(c2.on))
    g.frames["Thread"] = _thread_frame(rng, kinds, roots, (c0, c1, c2), thread_id, comment_id)

    thread, ct, tos, hidden, usr = (a[order] for a in (thread, ct, tos, hidden, usr))
    g.frames["CommentV2"] = frame("CommentV2", [
        *_comment_columns(comment_id[order], "Nice work, thanks!", ct, tos, g.users.id[usr]),
        pl.Series("nsfw", bools(rng, nc, 0.03)),
        int_series("threadId", thread_id[thread]),
        pl.Series("hidden", np.ma.masked_array(hidden == 1, hidden == 2), dtype=pl.Boolean),
    ])


def old_comments(g: Gen) -> None:
    rng, n = g.rng("Comment"), g.n("Comment")
    mo = g.models
    top = int(n * 0.8)
    m_idx = pick(rng, len(mo.id), top, mo.pop)
    ct_top = after(rng, mo.ct[m_idx], 5)
    parent = pick(rng, top, n - top)
    model = np.concatenate([m_idx, m_idx[parent]])
    ct = np.concatenate([ct_top, after(rng, ct_top[parent], 10)])
    parent_pos = np.concatenate([np.full(top, -1), parent])
    is_reply = parent_pos >= 0
    tos = bools(rng, n, 0.02)
    picker = Picker(rng, n)
    tos[picker.pick(1, ~is_reply)] = True
    tos[picker.pick(1, is_reply)] = True
    picker.edges(ct, ~tos)
    order = np.argsort(ct, kind="stable")
    cid = np.empty(n, np.int64)
    cid[order] = gapped_ids(rng, n)
    usr = pick(rng, len(g.users.id), n, g.users.act)
    parent_pos, model, ct, tos, usr = (a[order] for a in (parent_pos, model, ct, tos, usr))
    g.frames["Comment"] = frame("Comment", [
        *_comment_columns(cid[order], "Great model; works with \"hires fix\", too.", ct, tos,
                          g.users.id[usr]),
        int_series("parentId", cid[np.maximum(parent_pos, 0)], parent_pos < 0),
        int_series("modelId", mo.id[model]),
        pl.Series("hidden", bools(rng, n, 0.01)),
    ])
