"""P7 tag_engagement: followerCount only for 'Follow', hiddenCount for 'Hide', 'Allow' no event."""

from __future__ import annotations

from datetime import datetime

import polars as pl

from metric_backfill.events import Window, explode
from metric_backfill.transforms.tag_engagement import PACKAGE
from tests.helpers import CUTOFF, ms

SCHEMA = {"userId": pl.Int32, "tagId": pl.Int32, "type": pl.String, "createdAt": pl.Datetime("ms")}
T0 = ms("2022-01-02 03:04:05.006")


def run(rows: list[tuple], cutoff: datetime = CUTOFF, since: datetime | None = None):
    df = pl.DataFrame(rows, schema=SCHEMA, orient="row")
    out = explode(PACKAGE, df, Window(cutoff=cutoff, since=since))
    return sorted(out.events.iter_rows()), out.skipped


def test_follow_and_hide_and_allow_is_not_a_follower():
    events, skipped = run([(1, 10, "Follow", T0), (2, 10, "Follow", T0), (1, 11, "Hide", T0),
                           (3, 10, "Allow", T0)])
    assert events == sorted([
        ("Tag", 10, 1, "followerCount", 1, T0),
        ("Tag", 10, 2, "followerCount", 1, T0),
        ("Tag", 11, 1, "hiddenCount", 1, T0),
    ])
    assert skipped == {"TagEngagement type with no metric: Allow": 1}


def test_window_is_half_open_to_the_millisecond():
    before = ms("2024-08-07 15:44:39.043")
    events, skipped = run([(1, 10, "Follow", before), (1, 11, "Hide", CUTOFF)])
    assert events == [("Tag", 10, 1, "followerCount", 1, before)]
    assert skipped == {"outside [since, cutoff) for that metric": 1}
    since = ms("2023-06-01 00:00:00.000")
    events, skipped = run([(1, 10, "Hide", since), (1, 11, "Hide", ms("2023-05-31 23:59:59.999"))],
                          since=since)
    assert events == [("Tag", 10, 1, "hiddenCount", 1, since)]
    assert skipped == {"outside [since, cutoff) for that metric": 1}
