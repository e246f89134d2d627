from __future__ import annotations

import polars as pl

from tests.helpers import CUTOFF, events_of, ms, rows_of

PKG = "article"
SCHEMA = {"id": pl.Int32, "userId": pl.Int32, "status": pl.String, "publishedAt": pl.Datetime("ms")}
NO_PUBLISHED_AT = "Article Published without publishedAt (not an event)"
NOT_PUBLISHED = "Article with publishedAt but not Published (not an event), status"


rows = rows_of(SCHEMA)


def test_only_published_articles_with_published_at_count_at_published_at():
    p = [ms("2023-03-03 03:03:03.333"), ms("2023-04-04 04:04:04.444"), ms("2023-05-05 05:05:05.555")]
    ev, skipped = events_of(PKG, rows(
        id=[1, 2, 3, 4, 5, 6], userId=[5, 5, 6, 7, 8, 9],
        status=["Published", "Published", "Unpublished", "Draft", "Published", "Unpublished"],
        publishedAt=[p[0], p[1], p[2], p[2], None, p[0]]))
    assert sorted(ev.iter_rows()) == sorted([
        ("User", 5, 5, "articleCount", 1, p[0]),
        ("User", 5, 5, "articleCount", 1, p[1]),
    ])
    assert skipped == {
        NO_PUBLISHED_AT: 1,
        f"{NOT_PUBLISHED}: Unpublished": 2,
        f"{NOT_PUBLISHED}: Draft": 1,
    }


def test_window_applies_to_published_at_half_open_to_the_millisecond():
    before = ms("2024-08-07 15:44:39.043")
    ev, skipped = events_of(PKG, rows(
        id=[1, 2], userId=[5, 6], status=["Published", "Published"], publishedAt=[before, CUTOFF]))
    assert list(ev.iter_rows()) == [("User", 5, 5, "articleCount", 1, before)]
    assert skipped == {"outside [since, cutoff) for that metric": 1}
    since = ms("2023-06-01 00:00:00.000")
    ev, _ = events_of(PKG, rows(
        id=[1, 2], userId=[5, 6], status=["Published", "Published"],
        publishedAt=[since, ms("2023-05-31 23:59:59.999")]), since=since)
    assert list(ev.iter_rows()) == [("User", 5, 5, "articleCount", 1, since)]


def test_batch_query_reads_events_and_anomalies_not_drafts():
    from metric_backfill.registry import all_packages

    pkg = all_packages()[PKG]
    assert pkg.time_filter == ('COALESCE(a."publishedAt", a."createdAt")',)
    assert pkg.where is not None and '"publishedAt" IS NOT NULL' in pkg.where
    assert "'Published'" in pkg.where
