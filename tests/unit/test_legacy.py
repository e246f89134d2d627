"""SPEC §6 written out here: the 64 metrics with a legacy column, the nine new ones and the
by-design reasons, so that a change to the mapping that compare reads fails a test."""

from __future__ import annotations

from metric_backfill.legacy import (
    LEGACY_TABLES,
    METRIC_REASONS,
    NEW_METRICS,
    REASONS,
    legacy_column,
    reasons,
)
from metric_backfill.registry import all_metrics
from metric_backfill_lab.synth.schema import METRIC_TABLES

_R = {"Like": "likeCount", "Dislike": "dislikeCount", "Laugh": "laughCount", "Cry": "cryCount",
      "Heart": "heartCount"}

SPEC_6 = {
    **{f"Article.{m}": ("ArticleMetric", c) for m, c in _R.items()},
    "Article.commentCount": ("ArticleMetric", "commentCount"),
    "Article.collectedCount": ("ArticleMetric", "collectedCount"),
    "Article.tippedCount": ("ArticleMetric", "tippedCount"),
    "Article.tippedAmount": ("ArticleMetric", "tippedAmountCount"),
    **{f"Bounty.{m}": ("BountyMetric", m) for m in
       ("benefactorCount", "commentCount", "entryCount", "favoriteCount", "trackCount")},
    "Bounty.unitAmount": ("BountyMetric", "unitAmountCount"),
    **{f"BountyEntry.{m}": ("BountyEntryMetric", c) for m, c in _R.items()},
    "BountyEntry.unitAmount": ("BountyEntryMetric", "unitAmountCount"),
    **{f"Collection.{m}": ("CollectionMetric", m) for m in
       ("contributorCount", "followerCount", "itemCount")},
    **{f"Image.{m}": ("ImageMetric", c) for m, c in _R.items()},
    "Image.Collection": ("ImageMetric", "collectedCount"),
    "Image.commentCount": ("ImageMetric", "commentCount"),
    "Image.tippedCount": ("ImageMetric", "tippedCount"),
    "Image.tippedAmount": ("ImageMetric", "tippedAmountCount"),
    **{f"Model.{m}": ("ModelMetric", m) for m in
       ("collectedCount", "commentCount", "downloadCount", "earnedAmount", "generationCount",
        "imageCount", "ratingCount", "thumbsUpCount", "thumbsDownCount", "tippedCount")},
    "Model.tippedAmount": ("ModelMetric", "tippedAmountCount"),
    **{f"ModelVersion.{m}": ("ModelVersionMetric", m) for m in
       ("downloadCount", "earnedAmount", "generationCount", "imageCount", "ratingCount",
        "thumbsUpCount", "thumbsDownCount")},
    **{f"Post.{m}": ("PostMetric", c) for m, c in _R.items()},
    "Post.collectedCount": ("PostMetric", "collectedCount"),
    "Post.commentCount": ("PostMetric", "commentCount"),
    "Tag.followerCount": ("TagMetric", "followerCount"),
    "Tag.hiddenCount": ("TagMetric", "hiddenCount"),
    **{f"User.{m}": ("UserMetric", m) for m in
       ("followerCount", "followingCount", "hiddenCount", "reactionCount")},
}

SPEC_6_REASONS = {
    "Model.commentCount": 1, "Model.thumbsUpCount": 1, "Model.collectedCount": 2,
    "Model.downloadCount": 1, "ModelVersion.downloadCount": 1, "Model.generationCount": 1,
    "ModelVersion.generationCount": 1, "Model.earnedAmount": 1, "ModelVersion.earnedAmount": 1,
    "Model.imageCount": 1, "ModelVersion.imageCount": 1, "Model.ratingCount": 1,
    "ModelVersion.ratingCount": 1, "Model.tippedCount": 2, "Model.tippedAmount": 1,
    "BountyEntry.unitAmount": 1, "Collection.contributorCount": 1, "Collection.followerCount": 1,
    "Collection.itemCount": 1, "Article.collectedCount": 1, "Image.Collection": 2,
    "Post.collectedCount": 1, "User.reactionCount": 1, "Image.commentCount": 1,
}
"""Metric → how many rows of SPEC §6's reason table name it."""


def test_64_metrics_have_the_legacy_column_spec_6_names_and_9_are_new():
    mapped = {m: (t.name, c) for m in all_metrics() if (found := legacy_column(m))
              for t, c in [found]}
    assert mapped == SPEC_6
    assert len(mapped) == 64
    assert sorted(set(all_metrics()) - set(mapped)) == sorted(NEW_METRICS)
    for t in LEGACY_TABLES:
        assert t.id_column == t.entity_type[0].lower() + t.entity_type[1:] + "Id"


def test_every_by_design_reason_of_spec_6_and_no_other():
    assert {m: len(r) for m, r in METRIC_REASONS.items()} == SPEC_6_REASONS
    assert set(SPEC_6_REASONS) <= set(SPEC_6)
    used = {r for rs in METRIC_REASONS.values() for r in rs}
    assert used == set(REASONS)
    assert reasons("Model.thumbsDownCount") == ()
    assert "distinct users" in reasons("Model.commentCount")


def test_the_synthetic_legacy_tables_have_every_mapped_column_and_generated_reaction_counts():
    for t in LEGACY_TABLES:
        columns = dict(METRIC_TABLES[t.name])
        assert list(columns)[:2] == [t.id_column, "timeframe"]
        assert set(t.columns.values()) <= set(columns), t.name
        assert columns["updatedAt"].endswith("DEFAULT now()")  # nullable, as in the dump
    for table in ("ImageMetric", "PostMetric"):
        assert "GENERATED ALWAYS AS" in dict(METRIC_TABLES[table])["reactionCount"]
