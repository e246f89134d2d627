from __future__ import annotations

import polars as pl

from tests.helpers import CUTOFF, events_of, ms, rows_of

PKG = "bounty_entry"
SCHEMA = {"id": pl.Int32, "bountyId": pl.Int32, "userId": pl.Int32, "createdAt": pl.Datetime("ms")}
NULL_USER = "BountyEntry.userId NULL → userId 0"


rows = rows_of(SCHEMA)


def test_every_entry_counts_and_a_null_user_becomes_zero_and_is_counted():
    t = [ms("2023-01-01 01:01:01.101"), ms("2023-02-02 02:02:02.202"), ms("2023-03-03 03:03:03.303")]
    ev, skipped = events_of(PKG, rows(id=[1, 2, 3], bountyId=[40, 40, 41], userId=[5, 5, None],
                                      createdAt=t))
    assert sorted(ev.iter_rows()) == [
        ("Bounty", 40, 5, "entryCount", 1, t[0]),
        ("Bounty", 40, 5, "entryCount", 1, t[1]),  # a plain row count, not distinct users
        ("Bounty", 41, 0, "entryCount", 1, t[2]),
    ]
    assert skipped == {NULL_USER: 1}


def test_window_is_half_open_to_the_millisecond():
    before = ms("2024-08-07 15:44:39.043")
    ev, skipped = events_of(PKG, rows(id=[1, 2], bountyId=[40, 41], userId=[5, 6],
                                      createdAt=[before, CUTOFF]))
    assert list(ev.iter_rows()) == [("Bounty", 40, 5, "entryCount", 1, before)]
    assert skipped == {"outside [since, cutoff) for that metric": 1}
    since = ms("2023-06-01 00:00:00.000")
    ev, _ = events_of(PKG, rows(id=[1, 2], bountyId=[40, 41], userId=[5, 6],
                                createdAt=[since, ms("2023-05-31 23:59:59.999")]), since=since)
    assert list(ev.iter_rows()) == [("Bounty", 40, 5, "entryCount", 1, since)]
