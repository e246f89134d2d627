"""P8 bounty_engagement: favoriteCount ('Favorite', bounty exists), trackCount ('Track')."""

from __future__ import annotations

from datetime import datetime

import polars as pl

from metric_backfill.events import Window, explode
from metric_backfill.transforms.bounty_engagement import PACKAGE
from tests.helpers import CUTOFF, ms

SCHEMA = {"type": pl.String, "bountyId": pl.Int32, "userId": pl.Int32,
          "createdAt": pl.Datetime("ms"), "bountyExists": pl.Boolean}
T0 = ms("2023-07-08 09:10:11.121")


def run(rows: list[tuple], cutoff: datetime = CUTOFF, since: datetime | None = None):
    df = pl.DataFrame(rows, schema=SCHEMA, orient="row")
    out = explode(PACKAGE, df, Window(cutoff=cutoff, since=since))
    return sorted(out.events.iter_rows()), out.skipped


def test_favorite_and_track_by_the_same_user_are_separate_rows():
    events, skipped = run([("Favorite", 5, 1, T0, True), ("Track", 5, 1, T0, True),
                           ("Track", 6, 2, T0, True)])
    assert events == sorted([
        ("Bounty", 5, 1, "favoriteCount", 1, T0),
        ("Bounty", 5, 1, "trackCount", 1, T0),
        ("Bounty", 6, 2, "trackCount", 1, T0),
    ])
    assert skipped == {}


def test_track_is_selected_explicitly_not_as_the_else_branch():
    events, skipped = run([("SomethingNew", 5, 1, T0, True)])
    assert events == []
    assert skipped == {"BountyEngagement type with no metric: SomethingNew": 1}


def test_favorite_of_a_missing_bounty_is_counted():
    events, skipped = run([("Favorite", 5, 1, T0, False), ("Track", 5, 1, T0, False)])
    assert events == [("Bounty", 5, 1, "trackCount", 1, T0)]
    assert skipped == {
        "Bounty.favoriteCount not emitted: BountyEngagement.bountyId has no Bounty row": 1}


def test_window_is_half_open_to_the_millisecond():
    before = ms("2024-08-07 15:44:39.043")
    events, skipped = run([("Favorite", 5, 1, before, True), ("Favorite", 6, 1, CUTOFF, True)])
    assert events == [("Bounty", 5, 1, "favoriteCount", 1, before)]
    assert skipped == {"outside [since, cutoff) for that metric": 1}
    since = ms("2023-06-01 00:00:00.000")
    events, skipped = run([("Track", 5, 1, since, True),
                           ("Track", 6, 1, ms("2023-05-31 23:59:59.999"), True)], since=since)
    assert events == [("Bounty", 5, 1, "trackCount", 1, since)]
    assert skipped == {"outside [since, cutoff) for that metric": 1}
