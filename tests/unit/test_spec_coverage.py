"""The 73 metrics of SPEC §2, written out here so that a package that stops emitting one fails."""

from __future__ import annotations

from metric_backfill.registry import all_metrics, all_packages

SPEC_METRICS = [
    "Article.Like",
    "Article.Dislike",
    "Article.Laugh",
    "Article.Cry",
    "Article.Heart",
    "Article.collectedCount",
    "Article.commentCount",
    "Article.tippedCount",
    "Article.tippedAmount",
    "Bounty.benefactorCount",
    "Bounty.unitAmount",
    "Bounty.commentCount",
    "Bounty.entryCount",
    "Bounty.favoriteCount",
    "Bounty.trackCount",
    "BountyEntry.Like",
    "BountyEntry.Dislike",
    "BountyEntry.Laugh",
    "BountyEntry.Cry",
    "BountyEntry.Heart",
    "BountyEntry.unitAmount",
    "Collection.contributorCount",
    "Collection.followerCount",
    "Collection.itemCount",
    "Image.Collection",
    "Image.Like",
    "Image.Dislike",
    "Image.Laugh",
    "Image.Cry",
    "Image.Heart",
    "Image.commentCount",
    "Image.tippedCount",
    "Image.tippedAmount",
    "Model.collectedCount",
    "Model.commentCount",
    "Model.downloadCount",
    "Model.earnedAmount",
    "Model.generationCount",
    "Model.imageCount",
    "Model.ratingCount",
    "Model.thumbsUpCount",
    "Model.thumbsDownCount",
    "Model.tippedCount",
    "Model.tippedAmount",
    "ModelVersion.downloadCount",
    "ModelVersion.earnedAmount",
    "ModelVersion.generationCount",
    "ModelVersion.imageCount",
    "ModelVersion.ratingCount",
    "ModelVersion.thumbsUpCount",
    "ModelVersion.thumbsDownCount",
    "Post.Like",
    "Post.Dislike",
    "Post.Laugh",
    "Post.Cry",
    "Post.Heart",
    "Post.reactionCount",
    "Post.collectedCount",
    "Post.commentCount",
    "Post.tippedCount",
    "Post.tippedAmount",
    "Tag.followerCount",
    "Tag.hiddenCount",
    "User.articleCount",
    "User.bountyCount",
    "User.followerCount",
    "User.followingCount",
    "User.hiddenCount",
    "User.reactionCount",
    "User.tippedCount",
    "User.tippedAmount",
    "User.tipsGivenCount",
    "User.tipsGivenAmount",
]


def test_every_spec_metric_is_emitted_by_some_package():
    assert len(SPEC_METRICS) == len(set(SPEC_METRICS)) == 73
    assert set(all_metrics()) == set(SPEC_METRICS)


def test_twenty_packages_and_user_reaction_count_from_three():
    assert len(all_packages()) == 20
    feeding = sorted(n for n, p in all_packages().items() if "User.reactionCount" in p.metric_names)
    assert feeding == ["article_reaction", "bounty_entry_reaction", "image_reaction"]
