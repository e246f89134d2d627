"""P2 collection_item: itemCount + collected counts, addedById → 0, the createdAt fallback tiers."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest

from metric_backfill.events import Window, explode
from metric_backfill.transforms.collection_item import PACKAGE
from tests.helpers import CUTOFF, ms

SCHEMA = {
    "id": pl.Int32, "collectionId": pl.Int32, "articleId": pl.Int32, "imageId": pl.Int32,
    "modelId": pl.Int32, "postId": pl.Int32, "addedById": pl.Int32,
    "createdAt": pl.Datetime("ms"), "updatedAt": pl.Datetime("ms"),
    "collectionCreatedAt": pl.Datetime("ms"), "articleExists": pl.Boolean, "modelExists": pl.Boolean,
}
T0 = ms("2023-01-02 03:04:05.678")
T1 = ms("2023-02-03 04:05:06.789")
T2 = ms("2022-12-31 23:59:59.999")
EPOCH = datetime(1970, 1, 1)


def item(id: int, collectionId: int = 100, *, articleId=None, imageId=None, modelId=None, postId=None,
         addedById: int | None = 5, createdAt=T0, updatedAt=None, collectionCreatedAt=T2,
         articleExists: bool | None = None, modelExists: bool | None = None) -> dict:
    return {
        "id": id, "collectionId": collectionId, "articleId": articleId, "imageId": imageId,
        "modelId": modelId, "postId": postId, "addedById": addedById, "createdAt": createdAt,
        "updatedAt": updatedAt, "collectionCreatedAt": collectionCreatedAt,
        "articleExists": articleId is not None if articleExists is None else articleExists,
        "modelExists": modelId is not None if modelExists is None else modelExists,
    }


def run(items: list[dict], cutoff: datetime = CUTOFF, since: datetime | None = None):
    out = explode(PACKAGE, pl.DataFrame(items, schema=SCHEMA), Window(cutoff=cutoff, since=since))
    return sorted(out.events.iter_rows()), out.skipped


def test_events_of_every_entity_kind_and_every_substitution():
    events, skipped = run([
        item(1, imageId=10),
        item(2, articleId=20, addedById=None, createdAt=None, updatedAt=T1),
        item(3, 101, modelId=30, createdAt=None, updatedAt=None),
        item(4, 102, postId=40, createdAt=None, updatedAt=None, collectionCreatedAt=None),
        item(5, 103),  # no entity id: itemCount only
    ])
    assert events == sorted([
        ("Collection", 100, 5, "itemCount", 1, T0),
        ("Image", 10, 5, "Collection", 1, T0),
        ("Collection", 100, 0, "itemCount", 1, T1),
        ("Article", 20, 0, "collectedCount", 1, T1),
        ("Collection", 101, 5, "itemCount", 1, T2),
        ("Model", 30, 5, "collectedCount", 1, T2),
        ("Collection", 102, 5, "itemCount", 1, EPOCH),
        ("Post", 40, 5, "collectedCount", 1, EPOCH),
        ("Collection", 103, 5, "itemCount", 1, T0),
    ])
    assert skipped == {
        "CollectionItem.addedById NULL (userId 0)": 1,
        "CollectionItem with no model/post/article/image id (itemCount only)": 1,
        "CollectionItem.createdAt NULL, createdAt taken from: updatedAt": 1,
        "CollectionItem.createdAt NULL, createdAt taken from: Collection.createdAt": 1,
        "CollectionItem.createdAt NULL, createdAt taken from: 1970-01-01 00:00:00.000": 1,
    }


def test_rows_count_not_distinct_users_and_no_status_filter():
    # same adder twice on one model (two collections): two events (SPEC §3.3)
    events, skipped = run([item(1, 100, modelId=30), item(2, 101, modelId=30)])
    assert [e for e in events if e[0] == "Model"] == [("Model", 30, 5, "collectedCount", 1, T0)] * 2
    assert skipped == {}


def test_missing_article_or_model_is_counted_not_emitted():
    events, skipped = run([
        item(1, articleId=20, articleExists=False),
        item(2, modelId=30, modelExists=False),
        item(3, postId=40),  # SPEC states no existence condition for posts/images
    ])
    assert events == sorted([
        ("Collection", 100, 5, "itemCount", 1, T0),
        ("Collection", 100, 5, "itemCount", 1, T0),
        ("Collection", 100, 5, "itemCount", 1, T0),
        ("Post", 40, 5, "collectedCount", 1, T0),
    ])
    assert skipped == {
        "Article.collectedCount not emitted: CollectionItem.articleId has no Article row": 1,
        "Model.collectedCount not emitted: CollectionItem.modelId has no Model row": 1,
    }


def test_item_with_several_entity_ids_credits_each():
    events, skipped = run([item(1, imageId=10, postId=40)])
    assert events == sorted([
        ("Collection", 100, 5, "itemCount", 1, T0),
        ("Image", 10, 5, "Collection", 1, T0),
        ("Post", 40, 5, "collectedCount", 1, T0),
    ])
    assert skipped == {"CollectionItem with several entity ids (each credited)": 1}


def test_fallback_applies_to_every_metric_of_the_row():
    events, _ = run([item(1, imageId=10, createdAt=None, updatedAt=T1)])
    assert {e[5] for e in events} == {T1}


def test_updated_at_is_ignored_when_created_at_is_set():
    events, skipped = run([item(1, imageId=10, createdAt=T0, updatedAt=T1)])
    assert {e[5] for e in events} == {T0}
    assert skipped == {}


@pytest.mark.parametrize("column", ["createdAt", "updatedAt", "collectionCreatedAt"])
def test_cutoff_is_exclusive_on_the_fallback_time(column):
    before = ms("2024-08-07 15:44:39.043")
    fields = {"createdAt": None, "updatedAt": None, "collectionCreatedAt": None}
    rows = [item(1, 100, imageId=10, **{**fields, column: before}),
            item(2, 200, imageId=20, **{**fields, column: CUTOFF})]
    events, skipped = run(rows)
    assert events == sorted([("Collection", 100, 5, "itemCount", 1, before),
                             ("Image", 10, 5, "Collection", 1, before)])
    assert skipped["outside [since, cutoff) for that metric"] == 2


def test_since_is_inclusive():
    since = ms("2023-06-01 00:00:00.000")
    rows = [item(1, 100, imageId=10, createdAt=since),
            item(2, 200, imageId=20, createdAt=ms("2023-05-31 23:59:59.999")),
            item(3, 300, imageId=30, createdAt=None, updatedAt=None, collectionCreatedAt=None)]
    events, skipped = run(rows, since=since)
    assert events == sorted([("Collection", 100, 5, "itemCount", 1, since),
                             ("Image", 10, 5, "Collection", 1, since)])
    assert skipped["outside [since, cutoff) for that metric"] == 4


def test_window_sql_uses_the_same_fallback():
    (expr,) = PACKAGE.time_filter
    assert expr.startswith('COALESCE(ci."createdAt", ci."updatedAt", col."createdAt"')
    assert "1970-01-01 00:00:00.000" in expr
