from __future__ import annotations

import polars as pl

from tests.helpers import CUTOFF, events_of, ms, rows_of

PKG = "bounty_entry_reaction"
SCHEMA = {"bountyEntryId": pl.Int32, "userId": pl.Int32, "reaction": pl.String,
          "createdAt": pl.Datetime("ms"), "ownerId": pl.Int32}
NULL_OWNER = "User.reactionCount not emitted: entry owner (BountyEntry.userId) NULL"


rows = rows_of(SCHEMA)


def test_reactions_credit_the_entry_and_its_owner():
    t = [ms(f"2024-02-0{d} 12:00:00.00{d}") for d in range(1, 6)]
    # one reactor may leave several reactions on one entry (PK bountyEntryId, userId, reaction)
    ev, skipped = events_of(PKG, rows(
        bountyEntryId=[3, 3, 3, 4, 4], userId=[5, 5, 6, 5, 9],
        reaction=["Like", "Heart", "Dislike", "Laugh", "Cry"], createdAt=t,
        ownerId=[30, 30, 30, 40, 40]))
    assert sorted(ev.iter_rows()) == sorted([
        ("BountyEntry", 3, 5, "Like", 1, t[0]),
        ("BountyEntry", 3, 5, "Heart", 1, t[1]),
        ("BountyEntry", 3, 6, "Dislike", 1, t[2]),
        ("BountyEntry", 4, 5, "Laugh", 1, t[3]),
        ("BountyEntry", 4, 9, "Cry", 1, t[4]),
        ("User", 30, 5, "reactionCount", 1, t[0]),
        ("User", 30, 5, "reactionCount", 1, t[1]),
        ("User", 30, 6, "reactionCount", 1, t[2]),
        ("User", 40, 5, "reactionCount", 1, t[3]),
        ("User", 40, 9, "reactionCount", 1, t[4]),
    ])
    assert skipped == {}


def test_null_entry_owner_skips_only_the_user_event_and_is_counted():
    t = ms("2023-01-01 00:00:00.999")
    ev, skipped = events_of(PKG, rows(
        bountyEntryId=[3, 4, 4], userId=[5, 6, 7], reaction=["Like", "Like", "Heart"],
        createdAt=[t, t, t], ownerId=[5, None, None]))
    assert sorted(ev.iter_rows()) == sorted([
        ("BountyEntry", 3, 5, "Like", 1, t),
        ("User", 5, 5, "reactionCount", 1, t),  # self-reaction included
        ("BountyEntry", 4, 6, "Like", 1, t),
        ("BountyEntry", 4, 7, "Heart", 1, t),
    ])
    assert skipped == {NULL_OWNER: 2}


def test_window_is_half_open_to_the_millisecond():
    before = ms("2024-08-07 15:44:39.043")
    ev, skipped = events_of(PKG, rows(
        bountyEntryId=[3, 4], userId=[5, 6], reaction=["Like", "Like"],
        createdAt=[before, CUTOFF], ownerId=[7, 8]))
    assert sorted(ev.iter_rows()) == [("BountyEntry", 3, 5, "Like", 1, before),
                                      ("User", 7, 5, "reactionCount", 1, before)]
    assert skipped == {"outside [since, cutoff) for that metric": 2}
    since = ms("2023-06-01 00:00:00.000")
    ev, _ = events_of(PKG, rows(
        bountyEntryId=[3, 4], userId=[5, 6], reaction=["Heart", "Heart"],
        createdAt=[since, ms("2023-05-31 23:59:59.999")], ownerId=[7, 8]), since=since)
    assert sorted(ev.iter_rows()) == [("BountyEntry", 3, 5, "Heart", 1, since),
                                      ("User", 7, 5, "reactionCount", 1, since)]
