from __future__ import annotations

import polars as pl

from metric_backfill.transforms._clickhouse import MODEL_VERSIONS
from tests.helpers import CUTOFF, ms
from tests.helpers import events_of as _events_of

PKG = "image_resource"
SCHEMA = {"imageId": pl.Int32, "modelVersionId": pl.Int32, "userId": pl.Int32,
          "createdAt": pl.Datetime("ms")}
VERSIONS = {100: 9, 101: 9, 200: 8}
"""The run's ModelVersion → modelId lookup in these tests."""


def rows(**cols) -> pl.DataFrame:
    cols.pop("modelId", None)  # the model comes from the lookup, not the batch query
    return pl.DataFrame(cols, schema=SCHEMA)


def events_of(pkg: str, batch: pl.DataFrame, **kw):
    lookup = pl.DataFrame({"id": list(VERSIONS), "modelId": list(VERSIONS.values())})
    return _events_of(pkg, batch, lookups={MODEL_VERSIONS: lookup}, **kw)


def test_one_event_per_image_and_version_for_the_version_and_its_model():
    t1, t2 = ms("2024-04-04 04:04:04.404"), ms("2022-01-01 00:00:00.000")
    # image 1 uses two versions (100, 101) of model 9 and one version of model 8
    ev, skipped = events_of(PKG, rows(
        imageId=[1, 1, 1, 2], modelVersionId=[100, 101, 200, 100], modelId=[9, 9, 8, 9],
        userId=[50, 50, 50, 60], createdAt=[t1, t1, t1, t2]))
    assert sorted(ev.iter_rows()) == sorted([
        ("ModelVersion", 100, 50, "imageCount", 1, t1),
        ("ModelVersion", 101, 50, "imageCount", 1, t1),
        ("ModelVersion", 200, 50, "imageCount", 1, t1),
        ("ModelVersion", 100, 60, "imageCount", 1, t2),
        ("Model", 9, 50, "imageCount", 1, t1),
        ("Model", 9, 50, "imageCount", 1, t1),  # two versions of one model: counts twice
        ("Model", 8, 50, "imageCount", 1, t1),
        ("Model", 9, 60, "imageCount", 1, t2),
    ])
    assert skipped == {}


def test_window_is_half_open_to_the_millisecond():
    before = ms("2024-08-07 15:44:39.043")
    ev, skipped = events_of(PKG, rows(
        imageId=[1, 2], modelVersionId=[100, 100], modelId=[9, 9], userId=[5, 6],
        createdAt=[before, CUTOFF]))
    assert sorted(ev.iter_rows()) == [("Model", 9, 5, "imageCount", 1, before),
                                      ("ModelVersion", 100, 5, "imageCount", 1, before)]
    assert skipped == {"outside [since, cutoff) for that metric": 2}
    since = ms("2023-06-01 00:00:00.000")
    ev, _ = events_of(PKG, rows(
        imageId=[1, 2], modelVersionId=[100, 100], modelId=[9, 9], userId=[5, 6],
        createdAt=[since, ms("2023-05-31 23:59:59.999")]), since=since)
    assert sorted(ev.iter_rows()) == [("Model", 9, 5, "imageCount", 1, since),
                                      ("ModelVersion", 100, 5, "imageCount", 1, since)]


def test_a_version_missing_from_the_lookup_credits_only_the_version():
    t = ms("2024-04-04 04:04:04.404")
    ev, skipped = events_of(PKG, rows(imageId=[1], modelVersionId=[300], userId=[5], createdAt=[t]))
    assert sorted(ev.iter_rows()) == [("ModelVersion", 300, 5, "imageCount", 1, t)]
    assert skipped == {"Model.imageCount not emitted: ModelVersion missing in Postgres": 1}
