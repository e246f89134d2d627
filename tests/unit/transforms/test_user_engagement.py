from __future__ import annotations

import polars as pl

from tests.helpers import events_of, ms


def test_follow_hide_block():
    t = ms("2022-02-02 02:02:02.002")
    rows = pl.DataFrame(
        {"userId": [1, 1, 2], "targetUserId": [2, 3, 1], "type": ["Follow", "Hide", "Block"],
         "createdAt": [t, t, t]},
        schema={"userId": pl.Int32, "targetUserId": pl.Int32, "type": pl.String,
                "createdAt": pl.Datetime("ms")},
    )
    ev, skipped = events_of("user_engagement", rows)
    assert sorted(ev.iter_rows()) == sorted([
        ("User", 2, 1, "followerCount", 1, t),
        ("User", 1, 1, "followingCount", 1, t),
        ("User", 3, 1, "hiddenCount", 1, t),
    ])
    assert skipped == {"UserEngagement type Block (no metric)": 1}
