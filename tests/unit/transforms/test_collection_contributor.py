"""P9 collection_contributor: VIEW → followerCount, ADD → contributorCount, createdAt fallback."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest

from metric_backfill.events import Window, explode
from metric_backfill.transforms.collection_contributor import PACKAGE
from tests.helpers import CUTOFF, ms

SCHEMA = {"userId": pl.Int32, "collectionId": pl.Int32, "hasView": pl.Boolean, "hasAdd": pl.Boolean,
          "noPermissions": pl.Boolean, "createdAt": pl.Datetime("ms"), "updatedAt": pl.Datetime("ms"),
          "collectionCreatedAt": pl.Datetime("ms")}
T0 = ms("2023-08-09 10:11:12.131")
T1 = ms("2023-09-10 11:12:13.141")
T2 = ms("2021-01-01 00:00:00.001")
EPOCH = datetime(1970, 1, 1)
FROM = "CollectionContributor.createdAt NULL, createdAt taken from"
NO_EVENT = "CollectionContributor with no event"


def cc(userId: int, collectionId: int, perms: set[str], createdAt=T0, updatedAt=None,
       collectionCreatedAt=T2) -> dict:
    """A row as the query returns it: the booleans SQL computes from ``permissions``."""
    return {"userId": userId, "collectionId": collectionId, "hasView": "VIEW" in perms,
            "hasAdd": "ADD" in perms, "noPermissions": not perms, "createdAt": createdAt,
            "updatedAt": updatedAt, "collectionCreatedAt": collectionCreatedAt}


def run(rows: list[dict], cutoff: datetime = CUTOFF, since: datetime | None = None):
    out = explode(PACKAGE, pl.DataFrame(rows, schema=SCHEMA), Window(cutoff=cutoff, since=since))
    return sorted(out.events.iter_rows()), out.skipped


def test_view_add_both_neither_and_empty():
    events, skipped = run([
        cc(1, 10, {"VIEW"}), cc(2, 10, {"ADD"}), cc(3, 10, {"VIEW", "ADD", "MANAGE"}),
        cc(4, 10, {"MANAGE"}), cc(5, 10, {"ADD_REVIEW"}), cc(6, 10, set()),
    ])
    assert events == sorted([
        ("Collection", 10, 1, "followerCount", 1, T0),
        ("Collection", 10, 2, "contributorCount", 1, T0),
        ("Collection", 10, 3, "followerCount", 1, T0),
        ("Collection", 10, 3, "contributorCount", 1, T0),
    ])
    assert skipped == {f"{NO_EVENT}: permissions without VIEW or ADD": 2,
                       f"{NO_EVENT}: empty permissions": 1}


def test_created_at_fallback_tiers_are_applied_and_counted():
    events, skipped = run([
        cc(1, 10, {"VIEW"}, createdAt=None, updatedAt=T1),
        cc(2, 11, {"ADD"}, createdAt=None, updatedAt=None),
        cc(3, 12, {"VIEW"}, createdAt=None, updatedAt=None, collectionCreatedAt=None),
        cc(4, 13, {"VIEW"}, createdAt=T0, updatedAt=T1),
    ])
    assert events == sorted([
        ("Collection", 10, 1, "followerCount", 1, T1),
        ("Collection", 11, 2, "contributorCount", 1, T2),
        ("Collection", 12, 3, "followerCount", 1, EPOCH),
        ("Collection", 13, 4, "followerCount", 1, T0),
    ])
    assert skipped == {f"{FROM}: updatedAt": 1, f"{FROM}: Collection.createdAt": 1,
                       f"{FROM}: 1970-01-01 00:00:00.000": 1}


def test_no_mode_filter_and_no_enum_array_read():
    assert "mode" not in PACKAGE.columns and "mode" not in PACKAGE.from_sql
    assert '"hasView"' in PACKAGE.columns and '"hasAdd"' in PACKAGE.columns
    assert PACKAGE.where is None


@pytest.mark.parametrize("column", ["createdAt", "updatedAt", "collectionCreatedAt"])
def test_window_is_half_open_on_the_fallback_time(column):
    before = ms("2024-08-07 15:44:39.043")
    none = {"createdAt": None, "updatedAt": None, "collectionCreatedAt": None}
    events, skipped = run([cc(1, 10, {"VIEW"}, **{**none, column: before}),
                           cc(1, 11, {"VIEW"}, **{**none, column: CUTOFF})])
    assert events == [("Collection", 10, 1, "followerCount", 1, before)]
    assert skipped["outside [since, cutoff) for that metric"] == 1
    since = ms("2023-06-01 00:00:00.000")
    events, skipped = run([cc(1, 10, {"ADD"}, **{**none, column: since}),
                           cc(1, 11, {"ADD"}, **{**none, column: ms("2023-05-31 23:59:59.999")})],
                          since=since)
    assert events == [("Collection", 10, 1, "contributorCount", 1, since)]
    assert skipped["outside [since, cutoff) for that metric"] == 1
