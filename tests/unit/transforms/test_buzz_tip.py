from __future__ import annotations

import polars as pl
import pytest

from metric_backfill.events import BatchValueError
from tests.helpers import events_of, ms

SCHEMA = {"entityType": pl.String, "entityId": pl.Int32, "toUserId": pl.Int32,
          "fromUserId": pl.Int32, "amount": pl.Int64, "createdAt": pl.Datetime("ms")}


def test_entity_tip_gives_two_entity_and_four_user_events():
    t = ms("2024-03-03 03:03:03.333")
    rows = pl.DataFrame({"entityType": ["Image"], "entityId": [50], "toUserId": [2], "fromUserId": [3],
                         "amount": [500], "createdAt": [t]}, schema=SCHEMA)
    ev, skipped = events_of("buzz_tip", rows)
    assert sorted(ev.iter_rows()) == sorted([
        ("Image", 50, 3, "tippedCount", 1, t),
        ("Image", 50, 3, "tippedAmount", 500, t),
        ("User", 2, 3, "tippedCount", 1, t),
        ("User", 2, 3, "tippedAmount", 500, t),
        ("User", 3, 3, "tipsGivenCount", 1, t),
        ("User", 3, 3, "tipsGivenAmount", 500, t),
    ])
    assert skipped == {}


@pytest.mark.parametrize("entity_type", ["User", "Collection"])
def test_user_and_unknown_tips_credit_only_user_metrics_once(entity_type):
    t = ms("2024-03-03 03:03:03.333")
    rows = pl.DataFrame({"entityType": [entity_type], "entityId": [2], "toUserId": [2],
                         "fromUserId": [3], "amount": [7], "createdAt": [t]}, schema=SCHEMA)
    ev, skipped = events_of("buzz_tip", rows)
    assert ev["entityType"].to_list() == ["User"] * 4
    assert sorted(ev["metricType"].to_list()) == sorted(
        ["tippedCount", "tippedAmount", "tipsGivenCount", "tipsGivenAmount"])
    assert skipped == {f"BuzzTip.entityType with user-level events only: {entity_type}": 1}


def test_amount_outside_int32_rejects_the_batch_naming_the_row():
    t = ms("2024-03-03 03:03:03.333")
    rows = pl.DataFrame({"entityType": ["Post"], "entityId": [9], "toUserId": [2], "fromUserId": [3],
                         "amount": [2**31], "createdAt": [t]}, schema=SCHEMA)
    with pytest.raises(BatchValueError, match=r"entityType=Post, entityId=9, fromUserId=3"):
        events_of("buzz_tip", rows)
