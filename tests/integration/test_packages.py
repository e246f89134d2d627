"""Each package alone on the seeded data: complete, verified exact per entity and per month,
every metric it declares present, and its skips counted as an independent SQL count over the
source says (SPEC §2). The packages' transforms on hand-made rows are in tests/unit/transforms."""

from __future__ import annotations

import psycopg
import pytest

from metric_backfill.registry import all_packages
from tests.helpers import CUTOFF, backfill_and_verify

ALONE = ["article", "article_reaction", "bounty", "bounty_benefactor", "bounty_engagement",
         "bounty_entry", "bounty_entry_reaction", "collection_contributor", "collection_item",
         "comment", "comment_v2", "image_resource", "resource_review", "tag_engagement"]
BATCH_SIZE = {"bounty_entry_reaction": 7}  # many batches over a parent joined by its own key

SKIPS = {  # package → (the skip reasons' common start, the rows the source says it skips)
    "article": ("Article with publishedAt but not Published (not an event), status",
                'SELECT count(*) FROM "Article" WHERE status <> \'Published\' AND "publishedAt" < %s'),
    "bounty": ("User.bountyCount not emitted: Bounty.userId NULL",
               'SELECT count(*) FROM "Bounty" WHERE "userId" IS NULL AND "createdAt" < %s'),
    "bounty_entry": ("BountyEntry.userId NULL → userId 0",
                     'SELECT count(*) FROM "BountyEntry" WHERE "userId" IS NULL AND "createdAt" < %s'),
    "bounty_entry_reaction": (
        "User.reactionCount not emitted: entry owner (BountyEntry.userId) NULL",
        'SELECT count(*) FROM "BountyEntryReaction" ber JOIN "BountyEntry" be '
        'ON be.id = ber."bountyEntryId" WHERE be."userId" IS NULL AND ber."createdAt" < %s'),
    "comment": ("Comment tosViolation=true (not an event)",
                'SELECT count(*) FROM "Comment" WHERE "tosViolation" AND "createdAt" < %s'),
}


@pytest.fixture(scope="module")
def alone(env, tmp_path_factory):
    """Each package's run and verify, once per module (the skip tests reuse them)."""
    runs: dict[str, tuple] = {}

    def get(pkg: str) -> tuple:
        if pkg not in runs:
            runs[pkg] = backfill_and_verify(env, [pkg], tmp_path_factory.mktemp(pkg),
                                            batch_size=BATCH_SIZE.get(pkg))
        return runs[pkg]
    return get


@pytest.mark.parametrize("pkg", ALONE)
def test_a_package_alone_verifies_exactly_with_every_metric(alone, pkg):
    report, result = alone(pkg)
    assert report.complete
    assert result.mismatches == 0, [m.to_json() for m in result.metrics if m.mismatches]
    assert {m.name for m in result.metrics} == set(all_packages()[pkg].metric_names)
    assert all(m.actual_total > 0 for m in result.metrics), \
        [m.name for m in result.metrics if not m.actual_total]


@pytest.mark.parametrize("pkg", sorted(SKIPS))
def test_skips_are_counted_as_the_source_says(env, alone, pkg):
    report, _ = alone(pkg)
    reason, sql = SKIPS[pkg]
    with psycopg.connect(env.pg) as conn:
        (expected,) = conn.execute(sql, (CUTOFF,)).fetchone()
    counted = sum(n for r, n in report.stats[pkg].skipped.items() if r.startswith(reason))
    assert counted == expected > 0  # SPEC §5: the synthetic data holds every skip case


def test_image_resource_counts_models_and_versions_alike_and_skips_nothing(alone):
    report, result = alone("image_resource")
    totals = {m.name: m.actual_total for m in result.metrics}
    assert totals["Model.imageCount"] == totals["ModelVersion.imageCount"] > 0
    assert report.stats["image_resource"].skipped == {}
