from __future__ import annotations

import polars as pl

from tests.helpers import CUTOFF, events_of, ms, rows_of

PKG = "article_reaction"
SCHEMA = {"id": pl.Int32, "articleId": pl.Int32, "userId": pl.Int32, "reaction": pl.String,
          "createdAt": pl.Datetime("ms"), "ownerId": pl.Int32}
NULL_OWNER = "User.reactionCount not emitted: article owner (Article.userId) NULL"


rows = rows_of(SCHEMA)


def test_every_reaction_credits_the_article_and_its_owner():
    t = [ms(f"2024-01-0{d} 03:04:05.67{d}") for d in range(1, 6)]
    ev, skipped = events_of(PKG, rows(
        id=[1, 2, 3, 4, 5], articleId=[10, 10, 10, 11, 11], userId=[5, 5, 6, 7, 8],
        reaction=["Like", "Heart", "Dislike", "Laugh", "Cry"], createdAt=t,
        ownerId=[70, 70, 70, 71, 71]))
    assert sorted(ev.iter_rows()) == sorted([
        ("Article", 10, 5, "Like", 1, t[0]),
        ("Article", 10, 5, "Heart", 1, t[1]),
        ("Article", 10, 6, "Dislike", 1, t[2]),
        ("Article", 11, 7, "Laugh", 1, t[3]),
        ("Article", 11, 8, "Cry", 1, t[4]),
        ("User", 70, 5, "reactionCount", 1, t[0]),
        ("User", 70, 5, "reactionCount", 1, t[1]),
        ("User", 70, 6, "reactionCount", 1, t[2]),  # Dislike counts in reactionCount too
        ("User", 71, 7, "reactionCount", 1, t[3]),
        ("User", 71, 8, "reactionCount", 1, t[4]),
    ])
    assert skipped == {}


def test_self_reaction_counts_and_null_owner_skips_only_the_user_event():
    t = ms("2023-05-05 00:00:00.001")
    ev, skipped = events_of(PKG, rows(
        id=[1, 2], articleId=[10, 12], userId=[70, 9], reaction=["Like", "Heart"],
        createdAt=[t, t], ownerId=[70, None]))
    assert sorted(ev.iter_rows()) == sorted([
        ("Article", 10, 70, "Like", 1, t),
        ("User", 70, 70, "reactionCount", 1, t),  # self-reaction included
        ("Article", 12, 9, "Heart", 1, t),
    ])
    assert skipped == {NULL_OWNER: 1}


def test_window_is_half_open_to_the_millisecond():
    before = ms("2024-08-07 15:44:39.043")
    ev, skipped = events_of(PKG, rows(
        id=[1, 2], articleId=[10, 11], userId=[5, 6], reaction=["Like", "Like"],
        createdAt=[before, CUTOFF], ownerId=[7, 8]))
    assert sorted(ev.iter_rows()) == [("Article", 10, 5, "Like", 1, before),
                                      ("User", 7, 5, "reactionCount", 1, before)]
    assert skipped == {"outside [since, cutoff) for that metric": 2}
    since = ms("2023-06-01 00:00:00.000")
    ev, _ = events_of(PKG, rows(
        id=[1, 2], articleId=[10, 11], userId=[5, 6], reaction=["Cry", "Cry"],
        createdAt=[since, ms("2023-05-31 23:59:59.999")], ownerId=[7, 8]), since=since)
    assert sorted(ev.iter_rows()) == [("Article", 10, 5, "Cry", 1, since),
                                      ("User", 7, 5, "reactionCount", 1, since)]
