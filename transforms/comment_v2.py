"""P3 — CommentV2 ⋈ Thread: commentCount of the Article, Bounty, Image and Post commented on.

Metrics (SPEC §2 #7, #12, #31, #59): one event per comment, value 1, userId = the commenter,
createdAt = the comment's createdAt. Attribution is by the comment's *own* thread's entity
column (t.articleId, t.bountyId, t.imageId, t.postId), never through rootThreadId/parentThreadId:
a reply in a child thread is not attributed upward (SPEC §3.6). No tosViolation/hidden filter
(SPEC §3.5: the old processors applied none). Bounty.commentCount requires the bounty to exist
(SPEC #12; checked with a LEFT JOIN, a dangling id is counted, not emitted).

Skips: a comment whose thread has none of the four entity columns is not an event; it is counted
by thread kind: the thread's other entity column ('model', 'review', 'bountyEntry', 'question',
'answer', 'clubPost'), else 'child thread' (a thread on a comment: commentId, parentThreadId or
rootThreadId set), else 'none'.
"""

from __future__ import annotations

import polars as pl

from metric_backfill.package import INDEX_JOINS, Expected, Metric, Package

c = pl.col

ATTRIBUTED = ("articleId", "bountyId", "imageId", "postId")
OTHER_KINDS = (
    ("modelId", "model"),
    ("reviewId", "review"),
    ("bountyEntryId", "bountyEntry"),
    ("questionId", "question"),
    ("answerId", "answer"),
    ("clubPostId", "clubPost"),
)


def _comment_count(entity: str, column: str, exists: str | None = None) -> Metric:
    entity_id = c(column) if exists is None else pl.when(c(exists)).then(c(column))
    return Metric(entity, "commentCount", entity_id=entity_id, user_id=c("userId"),
                  created_at=c("createdAt"),
                  where=c(column).is_not_null(), skip_null=f"Thread.{column} has no {entity} row")


def _thread_kind() -> pl.Expr:
    """The kind of a thread none of whose attributed columns is set; NULL when one is."""
    expr = pl.when(pl.any_horizontal(*(c(k).is_not_null() for k in ATTRIBUTED))).then(None)
    for column, label in OTHER_KINDS:
        expr = expr.when(c(column).is_not_null()).then(pl.lit(label))
    child = c("commentId").is_not_null() | c("parentThreadId").is_not_null() | c("rootThreadId").is_not_null()
    return expr.when(child).then(pl.lit("child thread")).otherwise(pl.lit("none"))


PACKAGE = Package(
    name="comment_v2",
    source="postgres",
    description="comments (v2) credited to the article, bounty, image or post of their own thread",
    from_sql='"CommentV2" cm JOIN "Thread" t ON t.id = cm."threadId" '
    'LEFT JOIN "Bounty" b ON b.id = t."bountyId"',
    columns='cm.id, cm."userId", cm."createdAt", t."articleId", t."bountyId", t."imageId", '
    't."postId", b.id IS NOT NULL AS "bountyExists", t."modelId", t."reviewId", '
    't."bountyEntryId", t."questionId", t."answerId", t."clubPostId", t."commentId", '
    't."parentThreadId", t."rootThreadId"',
    key="cm.id",
    pg_settings=INDEX_JOINS,
    key_kind="int",
    time_filter=('cm."createdAt"',),
    tables={
        "CommentV2": ("id", "userId", "createdAt", "threadId"),
        "Thread": ("id", "articleId", "bountyId", "imageId", "postId", "modelId", "reviewId",
                   "bountyEntryId", "questionId", "answerId", "clubPostId", "commentId",
                   "parentThreadId", "rootThreadId"),
        "Bounty": ("id",),
    },
    metrics=(
        _comment_count("Article", "articleId"),
        _comment_count("Bounty", "bountyId", exists="bountyExists"),
        _comment_count("Image", "imageId"),
        _comment_count("Post", "postId"),
    ),
    skips_by={"comment in a Thread without post/image/article/bounty, thread kind": _thread_kind()},
    expected=(
        Expected(
            ("Article.commentCount", "Image.commentCount", "Post.commentCount"),
            """
            WITH own AS (
              SELECT th."articleId", th."imageId", th."postId",
                     date_trunc('month', x."createdAt")::date AS month
              FROM "CommentV2" x JOIN "Thread" th ON x."threadId" = th.id
              WHERE x."createdAt" >= {since} AND x."createdAt" < {cutoff}
            )
            SELECT 'Article' AS "entityType", "articleId" AS "entityId",
                   'commentCount' AS "metricType", month, count(*) AS value
            FROM own WHERE "articleId" IS NOT NULL GROUP BY 2, 4
            UNION ALL
            SELECT 'Image', "imageId", 'commentCount', month, count(*) FROM own
            WHERE "imageId" IS NOT NULL GROUP BY 2, 4
            UNION ALL
            SELECT 'Post', "postId", 'commentCount', month, count(*) FROM own
            WHERE "postId" IS NOT NULL GROUP BY 2, 4
            """,
        ),
        Expected(
            ("Bounty.commentCount",),
            """
            SELECT 'Bounty' AS "entityType", bo.id AS "entityId",
                   'commentCount' AS "metricType",
                   date_trunc('month', x."createdAt")::date AS month, count(*) AS value
            FROM "CommentV2" x
            JOIN "Thread" th ON x."threadId" = th.id
            JOIN "Bounty" bo ON bo.id = th."bountyId"
            WHERE x."createdAt" >= {since} AND x."createdAt" < {cutoff}
            GROUP BY bo.id, month
            """,
        ),
    ),
)
