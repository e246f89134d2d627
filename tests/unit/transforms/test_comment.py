from __future__ import annotations

import polars as pl

from tests.helpers import CUTOFF, events_of, ms, rows_of

PKG = "comment"
SCHEMA = {"id": pl.Int32, "modelId": pl.Int32, "userId": pl.Int32,
          "createdAt": pl.Datetime("ms"), "tosViolation": pl.Boolean}
TOS = "Comment tosViolation=true (not an event)"


rows = rows_of(SCHEMA)


def test_rows_not_distinct_users_and_tos_violations_are_counted_not_emitted():
    t = [ms("2021-03-03 03:03:03.003"), ms("2021-03-03 03:03:03.004"), ms("2022-01-01 00:00:00.000"),
         ms("2023-01-01 00:00:00.000")]
    ev, skipped = events_of(PKG, rows(
        id=[1, 2, 3, 4], modelId=[9, 9, 9, 8], userId=[5, 5, 6, 7], createdAt=t,
        tosViolation=[False, False, True, False]))
    assert sorted(ev.iter_rows()) == sorted([
        ("Model", 9, 5, "commentCount", 1, t[0]),
        ("Model", 9, 5, "commentCount", 1, t[1]),  # same user twice (e.g. a reply): 2 events
        ("Model", 8, 7, "commentCount", 1, t[3]),
    ])
    assert skipped == {TOS: 1}


def test_window_is_half_open_to_the_millisecond():
    before = ms("2024-08-07 15:44:39.043")
    ev, skipped = events_of(PKG, rows(
        id=[1, 2], modelId=[9, 8], userId=[5, 6], createdAt=[before, CUTOFF],
        tosViolation=[False, False]))
    assert list(ev.iter_rows()) == [("Model", 9, 5, "commentCount", 1, before)]
    assert skipped == {"outside [since, cutoff) for that metric": 1}
    since = ms("2023-06-01 00:00:00.000")
    ev, _ = events_of(PKG, rows(
        id=[1, 2], modelId=[9, 8], userId=[5, 6],
        createdAt=[since, ms("2023-05-31 23:59:59.999")], tosViolation=[False, False]), since=since)
    assert list(ev.iter_rows()) == [("Model", 9, 5, "commentCount", 1, since)]
