"""P10 — BountyBenefactor: Bounty.benefactorCount, Bounty.unitAmount, BountyEntry.unitAmount.

Metrics (SPEC §2 #10, #11, #21; §3.10): per benefactor row, Bounty.benefactorCount (value 1) and
Bounty.unitAmount (value unitAmount, whatever the currency, as the old processor) at the row's
createdAt; and BountyEntry.unitAmount (value unitAmount) credited to ``awardedToId`` — an
*entry* id, not a user id (the plan seed's ``be.userId = awardedToId`` join is wrong) — at
``awardedAt``, userId = the benefactor. The TS never emitted BountyEntry.unitAmount (SPEC §4).

Skips: BountyEntry.unitAmount needs awardedToId and awardedAt NOT NULL (otherwise counted by
which is missing) and the entry to exist (SPEC #21: LEFT JOIN BountyEntry, a dangling id is
counted, not emitted). The window applies to both event times (createdAt OR awardedAt in the
batch query); the engine drops each event whose own time is outside and counts it.
"""

from __future__ import annotations

import polars as pl

from metric_backfill.package import INDEX_JOINS, Expected, Metric, Package

c = pl.col

awarded = c("awardedToId").is_not_null() & c("awardedAt").is_not_null()
not_awarded = (
    pl.when(awarded).then(None)
    .when(c("awardedToId").is_null() & c("awardedAt").is_null())
    .then(pl.lit("not awarded (awardedToId and awardedAt NULL)"))
    .when(c("awardedToId").is_null()).then(pl.lit("awardedToId NULL"))
    .otherwise(pl.lit("awardedAt NULL"))
)

PACKAGE = Package(
    name="bounty_benefactor",
    source="postgres",
    description="bounty benefactors: count and amount per bounty, awarded amount per entry",
    from_sql='"BountyBenefactor" bb LEFT JOIN "BountyEntry" be ON be.id = bb."awardedToId"',
    columns='bb."bountyId", bb."userId", bb."unitAmount", bb."createdAt", bb."awardedToId", '
    'bb."awardedAt", be.id IS NOT NULL AS "entryExists"',
    key='bb."bountyId"',
    pg_settings=INDEX_JOINS,
    key_kind="int",
    time_filter=('bb."createdAt"', 'bb."awardedAt"'),
    row_key=("bountyId", "userId"),
    tables={
        "BountyBenefactor": ("bountyId", "userId", "unitAmount", "createdAt", "awardedToId",
                             "awardedAt"),
        "BountyEntry": ("id",),
    },
    metrics=(
        Metric("Bounty", "benefactorCount", entity_id=c("bountyId"), user_id=c("userId"),
               created_at=c("createdAt")),
        Metric("Bounty", "unitAmount", entity_id=c("bountyId"), user_id=c("userId"),
               created_at=c("createdAt"),
               value=c("unitAmount")),
        Metric("BountyEntry", "unitAmount",
               entity_id=pl.when(c("entryExists")).then(c("awardedToId")),
               user_id=c("userId"), created_at=c("awardedAt"), value=c("unitAmount"), where=awarded,
               skip_null="BountyBenefactor.awardedToId has no BountyEntry row"),
    ),
    skips_by={"BountyEntry.unitAmount not emitted": not_awarded},
    expected=(
        Expected(
            ("Bounty.benefactorCount", "Bounty.unitAmount"),
            """
            SELECT 'Bounty' AS "entityType", "bountyId" AS "entityId",
                   'benefactorCount' AS "metricType",
                   date_trunc('month', "createdAt")::date AS month, count(*) AS value
            FROM "BountyBenefactor"
            WHERE "createdAt" >= {since} AND "createdAt" < {cutoff}
            GROUP BY "bountyId", month
            UNION ALL
            SELECT 'Bounty', "bountyId", 'unitAmount',
                   date_trunc('month', "createdAt")::date AS month, sum("unitAmount")
            FROM "BountyBenefactor"
            WHERE "createdAt" >= {since} AND "createdAt" < {cutoff}
            GROUP BY "bountyId", month
            """,
        ),
        Expected(
            ("BountyEntry.unitAmount",),
            """
            SELECT 'BountyEntry' AS "entityType", e.id AS "entityId",
                   'unitAmount' AS "metricType",
                   date_trunc('month', x."awardedAt")::date AS month, sum(x."unitAmount") AS value
            FROM "BountyBenefactor" x JOIN "BountyEntry" e ON e.id = x."awardedToId"
            WHERE x."awardedAt" IS NOT NULL
              AND x."awardedAt" >= {since} AND x."awardedAt" < {cutoff}
            GROUP BY e.id, month
            """,
        ),
    ),
)
