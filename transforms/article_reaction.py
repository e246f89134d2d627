"""P11 — ArticleReaction ⋈ Article: Article.<reaction> and the article owner's User.reactionCount.

SPEC §2 #1–5 and #69. One event per reaction row (plain row count, self-reactions included),
metricType = the ``ReviewReactions`` value, userId = the reactor, createdAt = the reaction's
own createdAt. "Article exists" is an inner JOIN on Article (the FK cascades, so a consistent
database has no orphans). User.reactionCount is credited to ``Article.userId`` (the owner);
a NULL owner (impossible under the schema, guarded anyway) skips only that event and is counted.
"""

from __future__ import annotations

import polars as pl

from metric_backfill.package import INDEX_JOINS, Expected, Metric, Package
from metric_backfill.transforms._common import REACTIONS

c = pl.col

PACKAGE = Package(
    name="article_reaction",
    source="postgres",
    description="reactions on articles, credited to the article and its owner",
    from_sql='"ArticleReaction" ar JOIN "Article" a ON a.id = ar."articleId"',
    columns='ar.id, ar."articleId", ar."userId", ar.reaction::text AS reaction, ar."createdAt", '
    'a."userId" AS "ownerId"',
    key="ar.id",
    pg_settings=INDEX_JOINS,
    key_kind="int",
    time_filter=('ar."createdAt"',),
    tables={
        "ArticleReaction": ("id", "articleId", "userId", "reaction", "createdAt"),
        "Article": ("id", "userId"),
    },
    metrics=(
        Metric("Article", c("reaction"), entity_id=c("articleId"), user_id=c("userId"),
               created_at=c("createdAt"), names=REACTIONS),
        Metric("User", "reactionCount", entity_id=c("ownerId"), user_id=c("userId"),
               created_at=c("createdAt"),
               skip_null="article owner (Article.userId) NULL"),
    ),
    expected=(
        Expected(
            tuple(f"Article.{r}" for r in REACTIONS),
            """
            SELECT 'Article' AS "entityType", ar."articleId" AS "entityId",
                   ar.reaction::text AS "metricType",
                   date_trunc('month', ar."createdAt")::date AS month, count(*) AS value
            FROM "ArticleReaction" ar
            WHERE EXISTS (SELECT 1 FROM "Article" a WHERE a.id = ar."articleId")
              AND ar."createdAt" >= {since} AND ar."createdAt" < {cutoff}
            GROUP BY ar."articleId", ar.reaction, month
            """,
        ),
        Expected(
            ("User.reactionCount",),
            """
            SELECT 'User' AS "entityType", a."userId" AS "entityId",
                   'reactionCount' AS "metricType",
                   date_trunc('month', ar."createdAt")::date AS month, count(*) AS value
            FROM "ArticleReaction" ar JOIN "Article" a ON a.id = ar."articleId"
            WHERE a."userId" IS NOT NULL
              AND ar."createdAt" >= {since} AND ar."createdAt" < {cutoff}
            GROUP BY a."userId", month
            """,
        ),
    ),
)
