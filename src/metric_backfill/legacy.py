"""The legacy ``*Metric`` tables (SPEC §6): where each metric's old value lives, and why the old
value and the sum of events may differ by design.

Until the switch-over the old processors kept one row per (entity, timeframe) in ten Postgres
tables; the ``AllTime`` row is the value comparable with the sum of all events, ``updatedAt``
the moment it was computed. 64 of the 73 metrics have a column there; the other nine are new.
This module is data, stated once: ``compare`` builds its queries and its report from it, and
the synthetic generator lays out the tables it fills with it.
"""

from __future__ import annotations

from dataclasses import dataclass

_REACTIONS = {"Like": "likeCount", "Dislike": "dislikeCount", "Laugh": "laughCount",
              "Cry": "cryCount", "Heart": "heartCount"}


@dataclass(frozen=True)
class LegacyTable:
    """One legacy table: its entity type, the column holding the entity id, and per metric
    (metricType) the column holding its value."""

    name: str
    entity_type: str
    id_column: str
    columns: dict[str, str]

    def metric_names(self) -> list[str]:
        return [f"{self.entity_type}.{m}" for m in self.columns]


LEGACY_TABLES: tuple[LegacyTable, ...] = (
    LegacyTable("ArticleMetric", "Article", "articleId", {
        **_REACTIONS, "commentCount": "commentCount", "collectedCount": "collectedCount",
        "tippedCount": "tippedCount", "tippedAmount": "tippedAmountCount"}),
    LegacyTable("BountyMetric", "Bounty", "bountyId", {
        "benefactorCount": "benefactorCount", "commentCount": "commentCount",
        "entryCount": "entryCount", "favoriteCount": "favoriteCount", "trackCount": "trackCount",
        "unitAmount": "unitAmountCount"}),
    LegacyTable("BountyEntryMetric", "BountyEntry", "bountyEntryId", {
        **_REACTIONS, "unitAmount": "unitAmountCount"}),
    LegacyTable("CollectionMetric", "Collection", "collectionId", {
        "contributorCount": "contributorCount", "followerCount": "followerCount",
        "itemCount": "itemCount"}),
    LegacyTable("ImageMetric", "Image", "imageId", {
        **_REACTIONS, "Collection": "collectedCount", "commentCount": "commentCount",
        "tippedCount": "tippedCount", "tippedAmount": "tippedAmountCount"}),
    LegacyTable("ModelMetric", "Model", "modelId", {
        m: m for m in ("collectedCount", "commentCount", "downloadCount", "earnedAmount",
                       "generationCount", "imageCount", "ratingCount", "thumbsUpCount",
                       "thumbsDownCount", "tippedCount")} | {"tippedAmount": "tippedAmountCount"}),
    LegacyTable("ModelVersionMetric", "ModelVersion", "modelVersionId", {
        m: m for m in ("downloadCount", "earnedAmount", "generationCount", "imageCount",
                       "ratingCount", "thumbsUpCount", "thumbsDownCount")}),
    LegacyTable("PostMetric", "Post", "postId", {
        **_REACTIONS, "collectedCount": "collectedCount", "commentCount": "commentCount"}),
    LegacyTable("TagMetric", "Tag", "tagId", {
        "followerCount": "followerCount", "hiddenCount": "hiddenCount"}),
    LegacyTable("UserMetric", "User", "userId", {
        m: m for m in ("followerCount", "followingCount", "hiddenCount", "reactionCount")}),
)

TIMEFRAME = "AllTime"
"""The timeframe whose value is comparable with the sum of all events."""

NEW_METRICS = ("Post.reactionCount", "Post.tippedCount", "Post.tippedAmount", "User.articleCount",
               "User.bountyCount", "User.tippedCount", "User.tippedAmount", "User.tipsGivenCount",
               "User.tipsGivenAmount")
"""Metrics without a legacy column: reported as new, not compared."""

REASONS: dict[str, str] = {
    "distinct users": "legacy counted distinct users per model; events count rows (§3.3)",
    "unique downloaders": "legacy counted unique downloaders (user or IP); events count "
                          "downloads (§3.4)",
    "job weighting": "legacy counted jobs of three job types; events weight by blobsCount and "
                     "include comfyVideoGen (§3.11)",
    "no FINAL": "legacy summed without FINAL (double-counted unmerged rows) and dropped versions "
                "missing from Postgres (§3.12)",
    "published images": "legacy counted images of published posts only, by publishedAt, "
                        "excluding the owner's (#48)",
    "review filters": "reviews with exclude or tosViolation are not events (§3.2)",
    "distinct amounts": "the legacy SQL computed COUNT(DISTINCT amount)",
    "version tips": "legacy also added Donation tips on versions, and skipped models without a "
                    "ModelVersionMetric row",
    "award date": "events need awardedAt and are dated by it (§3.10)",
    "undated rows": "legacy counted undated rows; events date them by the fallback and drop "
                    "those after the cutoff (§2)",
    "self-reactions": "legacy excluded self-reactions from 2024-04-27 and also counted reactions "
                      "on comments, reviews, questions and answers",
    "frozen values": "legacy values frozen between 2024-07-20 and 2024-08-16 by a query bug",
}
"""The by-design reasons of SPEC §6, by a short name the report's table can hold."""

_COLLECTED = ("Collection.contributorCount", "Collection.followerCount", "Collection.itemCount",
              "Article.collectedCount", "Image.Collection", "Model.collectedCount",
              "Post.collectedCount")

METRIC_REASONS: dict[str, tuple[str, ...]] = {
    "Model.commentCount": ("distinct users",),
    "Model.thumbsUpCount": ("distinct users",),
    "Model.collectedCount": ("distinct users", "undated rows"),
    **{f"{e}.downloadCount": ("unique downloaders",) for e in ("Model", "ModelVersion")},
    **{f"{e}.generationCount": ("job weighting",) for e in ("Model", "ModelVersion")},
    **{f"{e}.earnedAmount": ("no FINAL",) for e in ("Model", "ModelVersion")},
    **{f"{e}.imageCount": ("published images",) for e in ("Model", "ModelVersion")},
    **{f"{e}.ratingCount": ("review filters",) for e in ("Model", "ModelVersion")},
    "Model.tippedCount": ("distinct amounts", "version tips"),
    "Model.tippedAmount": ("version tips",),
    "BountyEntry.unitAmount": ("award date",),
    **{m: ("undated rows",) for m in _COLLECTED if m != "Model.collectedCount"},
    "User.reactionCount": ("self-reactions",),
    "Image.commentCount": ("frozen values",),
    "Image.Collection": ("undated rows", "frozen values"),
}
"""Metric → the by-design reasons (SPEC §6) its legacy value and its events may differ by.
Entities deleted with their legacy rows (ON DELETE CASCADE) are context, not a reason."""


def legacy_column(metric: str) -> tuple[LegacyTable, str] | None:
    """The legacy table and column holding ``Entity.metric``, None for a new metric."""
    entity_type, metric_type = metric.split(".", 1)
    for table in LEGACY_TABLES:
        if table.entity_type == entity_type and metric_type in table.columns:
            return table, table.columns[metric_type]
    return None


def reasons(metric: str) -> tuple[str, ...]:
    """The short names of the by-design reasons for ``metric`` (empty: none)."""
    return METRIC_REASONS.get(metric, ())
