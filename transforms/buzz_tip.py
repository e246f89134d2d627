"""P1 — BuzzTip: entity-level tips (Article, Image, Model, Post) and user-level tips.

One BuzzTip row per (entity, tipper) with a cumulative amount: tippedCount counts rows,
tippedAmount sums amount. A tip on any other entityType (User included) credits only the
four user-level metrics, never twice (SPEC §3.9).
"""

from __future__ import annotations

import polars as pl

from metric_backfill.package import Expected, Metric, Package

c = pl.col
TIPPABLE = ("Article", "Image", "Model", "Post")


def _entity_metrics() -> tuple[Metric, ...]:
    out = []
    for entity in TIPPABLE:
        on = c("entityType") == entity
        out.append(Metric(entity, "tippedCount", entity_id=c("entityId"), user_id=c("fromUserId"),
                          created_at=c("createdAt"), where=on))
        out.append(Metric(entity, "tippedAmount", entity_id=c("entityId"), user_id=c("fromUserId"),
                          created_at=c("createdAt"),
                          value=c("amount"), where=on))
    return tuple(out)


PACKAGE = Package(
    name="buzz_tip",
    source="postgres",
    description="Buzz tips: tipped entity, receiving user and giving user",
    from_sql='"BuzzTip" bt',
    columns='bt."entityType", bt."entityId", bt."toUserId", bt."fromUserId", bt.amount, bt."createdAt"',
    key='bt."createdAt"',
    key_kind="time",
    time_filter=('bt."createdAt"',),
    row_key=("entityType", "entityId", "fromUserId"),
    tables={"BuzzTip": ("entityType", "entityId", "toUserId", "fromUserId", "amount", "createdAt")},
    metrics=_entity_metrics()
    + (
        Metric("User", "tippedCount", entity_id=c("toUserId"), user_id=c("fromUserId"),
               created_at=c("createdAt")),
        Metric("User", "tippedAmount", entity_id=c("toUserId"), user_id=c("fromUserId"),
               created_at=c("createdAt"), value=c("amount")),
        Metric("User", "tipsGivenCount", entity_id=c("fromUserId"), user_id=c("fromUserId"),
               created_at=c("createdAt")),
        Metric("User", "tipsGivenAmount", entity_id=c("fromUserId"), user_id=c("fromUserId"),
               created_at=c("createdAt"),
               value=c("amount")),
    ),
    skips_by={
        "BuzzTip.entityType with user-level events only": pl.when(~c("entityType").is_in(TIPPABLE))
        .then(c("entityType"))
    },
    expected=(
        Expected(
            tuple(f"{e}.{m}" for e in TIPPABLE for m in ("tippedCount", "tippedAmount"))
            + ("User.tippedCount", "User.tippedAmount", "User.tipsGivenCount", "User.tipsGivenAmount"),
            """
            WITH t AS (
              SELECT *, date_trunc('month', "createdAt")::date AS month FROM "BuzzTip"
              WHERE "createdAt" >= {since} AND "createdAt" < {cutoff}
            )
            SELECT "entityType", "entityId", 'tippedCount' AS "metricType", month, count(*) AS value
            FROM t WHERE "entityType" IN ('Article', 'Image', 'Model', 'Post') GROUP BY 1, 2, 4
            UNION ALL
            SELECT "entityType", "entityId", 'tippedAmount', month, sum(amount) FROM t
            WHERE "entityType" IN ('Article', 'Image', 'Model', 'Post') GROUP BY 1, 2, 4
            UNION ALL
            SELECT 'User', "toUserId", 'tippedCount', month, count(*) FROM t GROUP BY 2, 4
            UNION ALL
            SELECT 'User', "toUserId", 'tippedAmount', month, sum(amount) FROM t GROUP BY 2, 4
            UNION ALL
            SELECT 'User', "fromUserId", 'tipsGivenCount', month, count(*) FROM t GROUP BY 2, 4
            UNION ALL
            SELECT 'User', "fromUserId", 'tipsGivenAmount', month, sum(amount) FROM t GROUP BY 2, 4
            """,
        ),
    ),
)
