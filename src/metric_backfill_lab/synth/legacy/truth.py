"""The events of the 64 metrics that have a legacy column, computed from the synthetic frames.

A third statement of those metrics (after the transforms and verify's SQL), written on the
generated frames so that the legacy tables can hold, per entity, exactly the sum of events
before the row's ``updatedAt``: ``compare`` must then find them equal wherever no drift was
injected, and any disagreement here or in the backfill shows as an unexpected entity.

An event is a row ``entityType, entityId, metricType, at, value`` (``at`` in epoch ms); only
events before the cutoff exist, as in the backfill. ``legacy_way`` restates a few metrics as
the old processors computed them (distinct users, no review filters, no recent
self-reactions): the generator writes those into the legacy tables instead.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pyarrow as pa

from ..constants import CUTOFF_MS, to_ms
from ..pg import EXCLUDED_VERSIONS

Frames = dict[str, pl.DataFrame]
c = pl.col

EVENT_SCHEMA = {"entityType": pl.String, "entityId": pl.Int64, "metricType": pl.String,
                "at": pl.Int64, "value": pl.Int64}
COUNTED_JOBS = ("TextToImageV2", "TextToImage", "Comfy", "comfyVideoGen")
SELF_REACTIONS_FROM = to_ms(datetime(2024, 4, 27))
"""The legacy User.reactionCount left out self-reactions from this day on (SPEC §6)."""


def ev(rows: pl.DataFrame, entity_type: str, metric: str | pl.Expr, entity_id: str,
       at: pl.Expr, value: pl.Expr | int = 1, where: pl.Expr | None = None) -> pl.DataFrame:
    """The events of one metric family: rows where ``where`` holds and the entity id is set."""
    if where is not None:
        rows = rows.filter(where)
    out = rows.select(
        pl.lit(entity_type).alias("entityType"),
        c(entity_id).cast(pl.Int64).alias("entityId"),
        (pl.lit(metric) if isinstance(metric, str) else metric).cast(pl.String).alias("metricType"),
        at.cast(pl.Int64).alias("at"),
        (pl.lit(value) if isinstance(value, int) else value).cast(pl.Int64).alias("value"),
    )
    return out.filter(c("entityId").is_not_null() & (c("at") < CUTOFF_MS))


def ms(column: str) -> pl.Expr:
    return c(column).cast(pl.Datetime("ms")).cast(pl.Int64)


def _ids(f: Frames, table: str) -> pl.Series:
    return f[table]["id"].cast(pl.Int64)


def _existing(column: str, ids: pl.Series) -> pl.Expr:
    """``column`` where it names an existing row, else NULL (a dangling id is no event)."""
    return pl.when(c(column).cast(pl.Int64).is_in(ids.implode())).then(c(column))


def reactions(f: Frames) -> list[pl.DataFrame]:
    image = f["Image"].select(c("id").alias("imageId"), c("userId").alias("ownerId"), "postId")
    ir = f["ImageReaction"].join(image, on="imageId")
    article = f["Article"].select(c("id").alias("articleId"), c("userId").alias("ownerId"))
    ar = f["ArticleReaction"].join(article, on="articleId")
    entry = f["BountyEntry"].select(c("id").alias("bountyEntryId"), c("userId").alias("ownerId"))
    ber = f["BountyEntryReaction"].join(entry, on="bountyEntryId")
    at = ms("createdAt")
    return [
        ev(ir, "Image", c("reaction"), "imageId", at), ev(ir, "Post", c("reaction"), "postId", at),
        ev(ar, "Article", c("reaction"), "articleId", at),
        ev(ber, "BountyEntry", c("reaction"), "bountyEntryId", at),
        *(ev(x, "User", "reactionCount", "ownerId", at) for x in (ir, ar, ber)),
    ]


def _collection_time(f: Frames, table: str) -> pl.DataFrame:
    """``table`` with ``at``: its createdAt, else updatedAt, else the collection's, else 1970."""
    col = f["Collection"].select(c("id").alias("collectionId"),
                                 c("createdAt").alias("collectionCreatedAt"))
    rows = f[table].join(col, on="collectionId", how="left")
    return rows.with_columns(pl.coalesce(ms("createdAt"), ms("updatedAt"),
                                         ms("collectionCreatedAt"), pl.lit(0)).alias("at"))


def collections(f: Frames) -> list[pl.DataFrame]:
    ci = _collection_time(f, "CollectionItem").with_columns(
        _existing("articleId", _ids(f, "Article")), _existing("modelId", _ids(f, "Model")))
    cc = _collection_time(f, "CollectionContributor")
    at = c("at")
    return [
        ev(ci, "Collection", "itemCount", "collectionId", at),
        ev(ci, "Article", "collectedCount", "articleId", at),
        ev(ci, "Image", "Collection", "imageId", at),
        ev(ci, "Model", "collectedCount", "modelId", at),
        ev(ci, "Post", "collectedCount", "postId", at),
        ev(cc, "Collection", "contributorCount", "collectionId", at,
           where=c("permissions").list.contains("ADD")),
        ev(cc, "Collection", "followerCount", "collectionId", at,
           where=c("permissions").list.contains("VIEW")),
    ]


def comments(f: Frames) -> list[pl.DataFrame]:
    thread = f["Thread"].select(c("id").alias("threadId"), "articleId", "bountyId", "imageId",
                                "postId")
    cm = f["CommentV2"].join(thread, on="threadId").with_columns(
        _existing("bountyId", _ids(f, "Bounty")))
    at = ms("createdAt")
    out = [ev(cm, e, "commentCount", f"{e[0].lower()}{e[1:]}Id", at)
           for e in ("Article", "Bounty", "Image", "Post")]
    out.append(ev(f["Comment"], "Model", "commentCount", "modelId", at,
                  where=~c("tosViolation")))
    return out


def tips(f: Frames) -> list[pl.DataFrame]:
    bt, at = f["BuzzTip"], ms("createdAt")
    return [x for e in ("Article", "Image", "Model") for x in (
        ev(bt, e, "tippedCount", "entityId", at, where=c("entityType") == e),
        ev(bt, e, "tippedAmount", "entityId", at, c("amount"), where=c("entityType") == e))]


def bounties(f: Frames) -> list[pl.DataFrame]:
    bb, at = f["BountyBenefactor"], ms("createdAt")
    awarded = bb.filter(c("awardedAt").is_not_null()).with_columns(
        _existing("awardedToId", _ids(f, "BountyEntry")))
    eng = f["BountyEngagement"].with_columns(_existing("bountyId", _ids(f, "Bounty")))
    return [
        ev(bb, "Bounty", "benefactorCount", "bountyId", at),
        ev(bb, "Bounty", "unitAmount", "bountyId", at, c("unitAmount")),
        ev(awarded, "BountyEntry", "unitAmount", "awardedToId", ms("awardedAt"), c("unitAmount")),
        ev(f["BountyEntry"], "Bounty", "entryCount", "bountyId", at),
        ev(eng, "Bounty", "favoriteCount", "bountyId", at, where=c("type") == "Favorite"),
        ev(f["BountyEngagement"], "Bounty", "trackCount", "bountyId", at,
           where=c("type") == "Track"),
    ]


def reviews(f: Frames) -> list[pl.DataFrame]:
    rr, at = f["ResourceReview"], ms("createdAt")
    counted = ~c("exclude") & ~c("tosViolation")
    return [ev(rr, e, m, col, at, where=counted & w)
            for e, col in (("Model", "modelId"), ("ModelVersion", "modelVersionId"))
            for m, w in (("ratingCount", pl.lit(True)), ("thumbsUpCount", c("recommended")),
                         ("thumbsDownCount", ~c("recommended")))]


def engagements(f: Frames) -> list[pl.DataFrame]:
    te, ue, at = f["TagEngagement"], f["UserEngagement"], ms("createdAt")
    return [
        ev(te, "Tag", "followerCount", "tagId", at, where=c("type") == "Follow"),
        ev(te, "Tag", "hiddenCount", "tagId", at, where=c("type") == "Hide"),
        ev(ue, "User", "followerCount", "targetUserId", at, where=c("type") == "Follow"),
        ev(ue, "User", "followingCount", "userId", at, where=c("type") == "Follow"),
        ev(ue, "User", "hiddenCount", "targetUserId", at, where=c("type") == "Hide"),
    ]


def _with_model(rows: pl.DataFrame, f: Frames) -> pl.DataFrame:
    """``modelId`` of each row's version from the Postgres ModelVersion (NULL when missing)."""
    mv = f["ModelVersion"].select(c("id").cast(pl.Int64).alias("modelVersionId"),
                                  c("modelId").alias("pgModelId"))
    return rows.with_columns(c("modelVersionId").cast(pl.Int64)).join(
        mv, on="modelVersionId", how="left")


def image_resources(f: Frames) -> list[pl.DataFrame]:
    image = f["Image"].select(c("id").alias("imageId"), "createdAt")
    irn = _with_model(f["ImageResourceNew"].join(image, on="imageId"), f)
    at = ms("createdAt")
    return [ev(irn, "ModelVersion", "imageCount", "modelVersionId", at),
            ev(irn, "Model", "imageCount", "pgModelId", at)]


def clickhouse(f: Frames, ch: dict[str, list[pa.Table]]) -> list[pl.DataFrame]:
    """Downloads, generations and earned amounts from the ClickHouse tables as inserted."""
    mve = pl.from_arrow(pa.concat_tables(ch["default.modelVersionEvents"]))
    downloads = mve.filter(c("type") == "Download")
    jobs = pl.from_arrow(pa.concat_tables(ch["orchestration.jobs"])).filter(
        c("jobType").is_in(COUNTED_JOBS)).explode("resourcesUsed").rename(
        {"resourcesUsed": "modelVersionId"}).filter(
        c("modelVersionId").is_not_null() & (c("modelVersionId") != 0)
        & ~c("modelVersionId").is_in(EXCLUDED_VERSIONS))
    jobs = _with_model(jobs.with_columns(
        pl.when(c("blobsCount") == 0).then(1).otherwise(c("blobsCount")).alias("blobs")), f)
    # FINAL of a ReplacingMergeTree without a version column: the last inserted row per key
    brc = pl.concat([pl.from_arrow(t) for t in ch["default.buzz_resource_compensation"]]).unique(
        ["date", "modelVersionId"], keep="last", maintain_order=True).filter(
        c("modelVersionId") != 0)
    brc = _with_model(brc, f)
    nonzero = {name: pl.when(c(name) != 0).then(c(name)) for name in ("modelId", "modelVersionId")}
    return [
        ev(downloads.with_columns(**nonzero), "Model", "downloadCount", "modelId", ms("time")),
        ev(downloads.with_columns(**nonzero), "ModelVersion", "downloadCount", "modelVersionId",
           ms("time")),
        ev(jobs, "ModelVersion", "generationCount", "modelVersionId", ms("createdAt"), c("blobs")),
        ev(jobs, "Model", "generationCount", "pgModelId", ms("createdAt"), c("blobs")),
        ev(brc, "ModelVersion", "earnedAmount", "modelVersionId", ms("date"), c("total")),
        ev(brc, "Model", "earnedAmount", "pgModelId", ms("date"), c("total")),
    ]


def events(f: Frames, ch: dict[str, list[pa.Table]]) -> pl.DataFrame:
    """Every event of the mapped metrics before the cutoff, as the backfill emits them."""
    parts = [*reactions(f), *collections(f), *comments(f), *tips(f), *bounties(f), *reviews(f),
             *engagements(f), *image_resources(f), *clickhouse(f, ch)]
    return pl.concat([p.cast(EVENT_SCHEMA) for p in parts])  # type: ignore[arg-type]


def _first_per_user(rows: pl.DataFrame, entity_id: str, user: str) -> pl.DataFrame:
    """One event per (entity, user) at its first time: a distinct-user count, dated."""
    return rows.group_by("entityType", "metricType", entity_id, user).agg(
        c("at").min()).select("entityType", c(entity_id).alias("entityId"), "metricType", "at",
                              pl.lit(1, pl.Int64).alias("value"))


def legacy_way(f: Frames) -> dict[str, pl.DataFrame]:
    """A few metrics as the old processors computed them (SPEC §3 and §6), by metric name."""
    cm = f["Comment"].filter(~c("tosViolation"))
    rr = f["ResourceReview"]
    items = _collection_time(f, "CollectionItem").with_columns(_existing("modelId", _ids(f, "Model")))
    at = ms("createdAt")

    def distinct(rows: pl.DataFrame, metric: str, entity_id: str, user: str, when: pl.Expr) -> pl.DataFrame:
        rows = rows.filter(c(entity_id).is_not_null() & c(user).is_not_null()).with_columns(
            pl.lit("Model").alias("entityType"), pl.lit(metric).alias("metricType"),
            when.cast(pl.Int64).alias("at"))
        return _first_per_user(rows.filter(c("at") < CUTOFF_MS), entity_id, user)

    out = {
        "Model.commentCount": distinct(cm, "commentCount", "modelId", "userId", at),
        "Model.thumbsUpCount": distinct(
            rr.filter(c("recommended") & ~c("exclude") & ~c("tosViolation")), "thumbsUpCount",
            "modelId", "userId", at),
        "Model.collectedCount": distinct(items, "collectedCount", "modelId", "addedById", c("at")),
        "Model.ratingCount": ev(rr, "Model", "ratingCount", "modelId", at),
        "ModelVersion.ratingCount": ev(rr, "ModelVersion", "ratingCount", "modelVersionId", at),
    }
    out["User.reactionCount"] = pl.concat(_reactions_but_recent_self(f))
    return {k: v.cast(EVENT_SCHEMA) for k, v in out.items()}  # type: ignore[arg-type]


def _reactions_but_recent_self(f: Frames) -> list[pl.DataFrame]:
    """User.reactionCount without the self-reactions made from 2024-04-27 on."""
    owners = {"ImageReaction": ("Image", "imageId"), "ArticleReaction": ("Article", "articleId"),
              "BountyEntryReaction": ("BountyEntry", "bountyEntryId")}
    out = []
    for table, (parent, key) in owners.items():
        p = f[parent].select(c("id").alias(key), c("userId").alias("ownerId"))
        rows = f[table].join(p, on=key)
        recent_self = (c("ownerId") == c("userId")) & (ms("createdAt") >= SELF_REACTIONS_FROM)
        out.append(ev(rows, "User", "reactionCount", "ownerId", ms("createdAt"),
                      where=~recent_self.fill_null(False)))
    return out
