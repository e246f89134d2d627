"""P4 resource_review: rating/thumbs of Model and ModelVersion, exclude/tosViolation filtered."""

from __future__ import annotations

from datetime import datetime

import polars as pl

from metric_backfill.events import Window, explode
from metric_backfill.transforms.resource_review import PACKAGE
from tests.helpers import CUTOFF, ms

SCHEMA = {"id": pl.Int32, "modelId": pl.Int32, "modelVersionId": pl.Int32, "userId": pl.Int32,
          "recommended": pl.Boolean, "exclude": pl.Boolean, "tosViolation": pl.Boolean,
          "createdAt": pl.Datetime("ms")}
T0 = ms("2023-04-05 06:07:08.912")
NOT_COUNTED = "ResourceReview not counted (no event)"


def review(id: int, modelId: int = 1, modelVersionId: int = 10, userId: int = 5, *,
           recommended: bool = True, exclude: bool = False, tosViolation: bool = False,
           createdAt: datetime = T0) -> dict:
    return {"id": id, "modelId": modelId, "modelVersionId": modelVersionId, "userId": userId,
            "recommended": recommended, "exclude": exclude, "tosViolation": tosViolation,
            "createdAt": createdAt}


def run(rows: list[dict], cutoff: datetime = CUTOFF, since: datetime | None = None):
    out = explode(PACKAGE, pl.DataFrame(rows, schema=SCHEMA), Window(cutoff=cutoff, since=since))
    return sorted(out.events.iter_rows()), out.skipped


def test_thumbs_up_and_down_with_rating_on_model_and_version():
    events, skipped = run([review(1), review(2, 1, 11, 6, recommended=False)])
    assert events == sorted([
        ("Model", 1, 5, "ratingCount", 1, T0),
        ("Model", 1, 5, "thumbsUpCount", 1, T0),
        ("ModelVersion", 10, 5, "ratingCount", 1, T0),
        ("ModelVersion", 10, 5, "thumbsUpCount", 1, T0),
        ("Model", 1, 6, "ratingCount", 1, T0),
        ("Model", 1, 6, "thumbsDownCount", 1, T0),
        ("ModelVersion", 11, 6, "ratingCount", 1, T0),
        ("ModelVersion", 11, 6, "thumbsDownCount", 1, T0),
    ])
    assert skipped == {}


def test_same_user_on_two_versions_counts_twice_on_the_model():
    events, _ = run([review(1, 1, 10, 5), review(2, 1, 11, 5)])
    assert [e for e in events if e[:2] == ("Model", 1) and e[3] == "thumbsUpCount"] == [
        ("Model", 1, 5, "thumbsUpCount", 1, T0)] * 2


def test_excluded_and_tos_violating_reviews_count_nowhere():
    events, skipped = run([
        review(1, exclude=True), review(2, tosViolation=True, recommended=False),
        review(3, exclude=True, tosViolation=True), review(4, 2, 20, 9),
    ])
    assert {e[:2] for e in events} == {("Model", 2), ("ModelVersion", 20)}
    assert len(events) == 4
    assert skipped == {f"{NOT_COUNTED}: exclude": 1, f"{NOT_COUNTED}: tosViolation": 1,
                       f"{NOT_COUNTED}: exclude and tosViolation": 1}


def test_window_is_half_open_to_the_millisecond():
    before = ms("2024-08-07 15:44:39.043")
    events, skipped = run([review(1, 1, 10, createdAt=before), review(2, 2, 20, createdAt=CUTOFF)])
    assert {e[1] for e in events} == {1, 10} and {e[5] for e in events} == {before}
    assert skipped == {"outside [since, cutoff) for that metric": 4}
    since = ms("2023-06-01 00:00:00.000")
    events, skipped = run([review(1, 1, 10, createdAt=since),
                           review(2, 2, 20, createdAt=ms("2023-05-31 23:59:59.999"))], since=since)
    assert {e[1] for e in events} == {1, 10} and {e[5] for e in events} == {since}
    assert skipped == {"outside [since, cutoff) for that metric": 4}
