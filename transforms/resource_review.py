"""P4 — ResourceReview: ratingCount, thumbsUpCount, thumbsDownCount of Model and ModelVersion.

Metrics (SPEC §2 #40-42, #49-51): one event per review row (row counts, not distinct users:
SPEC §3.3), value 1, userId = the reviewer, createdAt = the review's createdAt. Only reviews
with ``exclude = false AND tosViolation = false`` count, for ratingCount too (SPEC §3.2);
the others are read and counted by reason, never dropped silently. thumbsUp is
``recommended = true``, thumbsDown ``recommended = false``.
"""

from __future__ import annotations

import polars as pl

from metric_backfill.package import Expected, Metric, Package

c = pl.col

counted = ~c("exclude") & ~c("tosViolation")
ENTITIES = (("Model", "modelId"), ("ModelVersion", "modelVersionId"))


def _metrics() -> tuple[Metric, ...]:
    out = []
    for entity, column in ENTITIES:
        for metric, where in (
            ("ratingCount", counted),
            ("thumbsUpCount", counted & c("recommended")),
            ("thumbsDownCount", counted & ~c("recommended")),
        ):
            out.append(Metric(entity, metric, entity_id=c(column), user_id=c("userId"),
                              created_at=c("createdAt"), where=where))
    return tuple(out)


not_counted = (
    pl.when(c("exclude") & c("tosViolation")).then(pl.lit("exclude and tosViolation"))
    .when(c("exclude")).then(pl.lit("exclude"))
    .when(c("tosViolation")).then(pl.lit("tosViolation"))
)

PACKAGE = Package(
    name="resource_review",
    source="postgres",
    description="reviews of models and versions: rating count and thumbs up/down",
    from_sql='"ResourceReview" rr',
    columns='rr.id, rr."modelId", rr."modelVersionId", rr."userId", rr.recommended, rr.exclude, '
    'rr."tosViolation", rr."createdAt"',
    key="rr.id",
    key_kind="int",
    time_filter=('rr."createdAt"',),
    tables={"ResourceReview": ("id", "modelId", "modelVersionId", "userId", "recommended",
                               "exclude", "tosViolation", "createdAt")},
    metrics=_metrics(),
    skips_by={"ResourceReview not counted (no event)": not_counted},
    expected=(
        Expected(
            tuple(f"{e}.{m}" for e in ("Model", "ModelVersion")
                  for m in ("ratingCount", "thumbsUpCount", "thumbsDownCount")),
            """
            WITH ok AS (
              SELECT "modelId", "modelVersionId", recommended,
                     date_trunc('month', "createdAt")::date AS month
              FROM "ResourceReview"
              WHERE "createdAt" >= {since} AND "createdAt" < {cutoff}
                AND exclude IS FALSE AND "tosViolation" IS FALSE
            )
            SELECT 'Model' AS "entityType", "modelId" AS "entityId", 'ratingCount' AS "metricType",
                   month, count(*) AS value FROM ok GROUP BY 2, 4
            UNION ALL
            SELECT 'Model', "modelId", 'thumbsUpCount', month, count(*) FROM ok
            WHERE recommended GROUP BY 2, 4
            UNION ALL
            SELECT 'Model', "modelId", 'thumbsDownCount', month, count(*) FROM ok
            WHERE NOT recommended GROUP BY 2, 4
            UNION ALL
            SELECT 'ModelVersion', "modelVersionId", 'ratingCount', month, count(*) FROM ok
            GROUP BY 2, 4
            UNION ALL
            SELECT 'ModelVersion', "modelVersionId", 'thumbsUpCount', month, count(*) FROM ok
            WHERE recommended GROUP BY 2, 4
            UNION ALL
            SELECT 'ModelVersion', "modelVersionId", 'thumbsDownCount', month, count(*) FROM ok
            WHERE NOT recommended GROUP BY 2, 4
            """,
        ),
    ),
)
