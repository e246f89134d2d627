"""P15 — Article: User.articleCount, one event per published article at its publishedAt.

SPEC §2 #64 and §3.13: only ``status = 'Published'`` articles with a non-NULL ``publishedAt``
inside the window are events (the reference implementation's missing status filter counted
unpublished articles, SPEC §4). entityId = userId = ``Article.userId``; createdAt =
``publishedAt`` (the window applies to it).

Rows that look published but are not events are read and counted in the run report:
an article with a publishedAt but another status (tallied per status: Draft, Unpublished), and
a 'Published' article without a publishedAt (SPEC §2 skips: "not an event"). Such a row has no
event time, so the batch query places it in the window by ``COALESCE(publishedAt, createdAt)``
(for every event row that expression is publishedAt itself, so no event row is read outside its
window); a Published row with neither timestamp is not seen by any window. Ordinary drafts
(no publishedAt, not Published) are not read at all.
"""

from __future__ import annotations

import polars as pl

from metric_backfill.package import Expected, Metric, Package

c = pl.col
published = c("status") == "Published"
has_published_at = c("publishedAt").is_not_null()

PACKAGE = Package(
    name="article",
    source="postgres",
    description="published articles, credited to their author at publishedAt",
    from_sql='"Article" a',
    columns='a.id, a."userId", a.status::text AS status, a."publishedAt"',
    key="a.id",
    key_kind="int",
    time_filter=('COALESCE(a."publishedAt", a."createdAt")',),
    where='a."publishedAt" IS NOT NULL OR a.status = \'Published\'',
    tables={"Article": ("id", "userId", "status", "publishedAt", "createdAt")},
    metrics=(
        Metric("User", "articleCount", entity_id=c("userId"), user_id=c("userId"),
               created_at=c("publishedAt"),
               where=published & has_published_at, skip_null="Article.userId NULL"),
    ),
    skips={
        "Article Published without publishedAt (not an event)": published & ~has_published_at,
    },
    skips_by={
        "Article with publishedAt but not Published (not an event), status":
            pl.when(has_published_at & ~published).then(c("status")),
    },
    expected=(
        Expected(
            ("User.articleCount",),
            """
            SELECT 'User' AS "entityType", "userId" AS "entityId",
                   'articleCount' AS "metricType",
                   date_trunc('month', "publishedAt")::date AS month, count(*) AS value
            FROM "Article"
            WHERE status = 'Published'
              AND "publishedAt" >= {since} AND "publishedAt" < {cutoff}
            GROUP BY "userId", month
            """,
        ),
    ),
)
