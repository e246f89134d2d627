from __future__ import annotations

import polars as pl

from tests.helpers import CUTOFF, events_of, ms, rows_of

PKG = "bounty"
SCHEMA = {"id": pl.Int32, "userId": pl.Int32, "createdAt": pl.Datetime("ms")}
NULL_USER = "User.bountyCount not emitted: Bounty.userId NULL"


rows = rows_of(SCHEMA)


def test_one_event_per_bounty_and_null_creator_is_skipped_and_counted():
    t = [ms("2023-01-01 01:01:01.101"), ms("2023-02-02 02:02:02.202"), ms("2023-03-03 03:03:03.303")]
    ev, skipped = events_of(PKG, rows(id=[1, 2, 3], userId=[5, 5, None], createdAt=t))
    assert sorted(ev.iter_rows()) == [
        ("User", 5, 5, "bountyCount", 1, t[0]),
        ("User", 5, 5, "bountyCount", 1, t[1]),
    ]
    assert skipped == {NULL_USER: 1}


def test_window_is_half_open_to_the_millisecond():
    before = ms("2024-08-07 15:44:39.043")
    ev, skipped = events_of(PKG, rows(id=[1, 2], userId=[5, 6], createdAt=[before, CUTOFF]))
    assert list(ev.iter_rows()) == [("User", 5, 5, "bountyCount", 1, before)]
    assert skipped == {"outside [since, cutoff) for that metric": 1}
    since = ms("2023-06-01 00:00:00.000")
    ev, _ = events_of(PKG, rows(id=[1, 2], userId=[5, 6],
                                createdAt=[since, ms("2023-05-31 23:59:59.999")]), since=since)
    assert list(ev.iter_rows()) == [("User", 5, 5, "bountyCount", 1, since)]
