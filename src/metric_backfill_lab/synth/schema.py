"""The Civitai Postgres source schema (SCHEMA.md §1, §3) as DDL: enums, tables, keys and indexes.

Tables are created without keys or indexes first so that COPY runs into bare heaps; the keys and
indexes are built afterwards (much faster than maintaining them row by row).
"""

from __future__ import annotations

from typing import Any

# Enum values in the *database* order of the 2025-03 dump (ORDER BY on an enum follows it); values
# Prisma has but the dump lacks are appended, as ``ALTER TYPE ... ADD VALUE`` would have done.
ENUMS: dict[str, list[str]] = {
    "ArticleStatus": ["Draft", "Published", "Unpublished"],
    "Availability": ["Public", "Private", "Unsearchable", "EarlyAccess"],
    "BountyEngagementType": ["Favorite", "Track"],
    "BountyEntryMode": ["Open", "BenefactorsOnly"],
    "BountyMode": ["Individual", "Split"],
    "BountyType": ["ModelCreation", "LoraCreation", "EmbedCreation", "DataSetCreation",
                   "DataSetCaption", "ImageCreation", "VideoCreation", "Other"],
    "BuzzAccountType": ["user", "generation", "club"],
    "CheckpointType": ["Trained", "Merge"],
    "CollectionContributorPermission": ["VIEW", "ADD", "MANAGE", "ADD_REVIEW"],
    "CollectionItemStatus": ["ACCEPTED", "REVIEW", "REJECTED"],
    "CollectionMode": ["Contest", "Bookmark"],
    "CollectionReadConfiguration": ["Private", "Public", "Unlisted"],
    "CollectionType": ["Model", "Article", "Post", "Image"],
    "CollectionWriteConfiguration": ["Private", "Public", "Review"],
    "CommercialUse": ["None", "Image", "Rent", "Sell", "RentCivit"],
    "Currency": ["USD", "BUZZ", "USDC"],
    "ImageGenerationProcess": ["txt2img", "img2img", "inpainting", "txt2imgHiRes"],
    "ImageIngestionStatus": ["Pending", "Scanned", "Error", "Blocked", "NotFound",
                             "PendingManualAssignment"],
    "MediaType": ["image", "video", "audio"],
    "MetricTimeframe": ["Day", "Week", "Month", "Year", "AllTime"],
    "ModelModifier": ["Archived", "TakenDown"],
    "ModelStatus": ["Draft", "Published", "Unpublished", "GatherInterest", "Deleted",
                    "UnpublishedViolation", "Scheduled", "Training"],
    "ModelType": ["Checkpoint", "TextualInversion", "Hypernetwork", "AestheticGradient", "LORA",
                  "Controlnet", "Poses", "LoCon", "Wildcards", "Other", "Upscaler", "VAE",
                  "Workflows", "MotionModule", "DoRA", "Detection"],
    "ModelUploadType": ["Created", "Trained"],
    "ModelUsageControl": ["Download", "Generation", "InternalGeneration"],
    "ModelVersionSponsorshipSettingsType": ["FixedPrice", "Bidding"],
    "NsfwLevel": ["None", "Soft", "Mature", "X", "Blocked"],
    "ReviewReactions": ["Like", "Dislike", "Laugh", "Cry", "Heart"],
    "RewardsEligibility": ["Eligible", "Ineligible", "Protected"],
    "TagEngagementType": ["Hide", "Follow", "Allow"],
    "TagTarget": ["Model", "Question", "Image", "Post", "Tag", "Article", "Bounty", "Collection"],
    "TagType": ["UserGenerated", "Label", "Moderation", "System"],
    "TrainingStatus": ["Pending", "Submitted", "Processing", "InReview", "Failed", "Approved",
                       "Paused", "Denied"],
    "UserEngagementType": ["Follow", "Hide", "Block"],
}

TS = "timestamp(3) without time zone"
NOW = "DEFAULT CURRENT_TIMESTAMP"

# (column, type + constraints). "CITEXT" is replaced by citext or text depending on availability.
TABLES: dict[str, list[tuple[str, str]]] = {
    "User": [
        ("id", "serial"),
        ("username", "text"),
        ("email", "text"),
        ("createdAt", f"{TS} NOT NULL {NOW}"),
        ("deletedAt", TS),
        ("bannedAt", TS),
    ],
    "Tag": [
        ("id", "serial"),
        ("name", "CITEXT NOT NULL"),
        ("color", "text"),
        ("createdAt", f"{TS} NOT NULL {NOW}"),
        ("updatedAt", f"{TS} NOT NULL"),
        ("target", '"TagTarget"[] NOT NULL'),
        ("type", "\"TagType\" NOT NULL DEFAULT 'UserGenerated'"),
        ("nsfw", "\"NsfwLevel\" NOT NULL DEFAULT 'None'"),
        ("nsfwLevel", "integer NOT NULL DEFAULT 1"),
        ("unlisted", "boolean NOT NULL DEFAULT false"),
        ("unfeatured", "boolean NOT NULL DEFAULT false"),
        ("isCategory", "boolean NOT NULL DEFAULT false"),
        ("adminOnly", "boolean NOT NULL DEFAULT false"),
    ],
    "Model": [
        ("id", "serial"),
        ("name", "CITEXT NOT NULL"),
        ("description", "text"),
        ("type", '"ModelType" NOT NULL'),
        ("createdAt", f"{TS} NOT NULL {NOW}"),
        ("updatedAt", f"{TS} NOT NULL"),
        ("lastVersionAt", TS),
        ("nsfw", "boolean NOT NULL DEFAULT false"),
        ("tosViolation", "boolean NOT NULL DEFAULT false"),
        ("poi", "boolean NOT NULL DEFAULT false"),
        ("minor", "boolean NOT NULL DEFAULT false"),
        ("userId", "integer NOT NULL"),
        ("status", "\"ModelStatus\" NOT NULL DEFAULT 'Draft'"),
        ("publishedAt", TS),
        ("fromImportId", "integer"),
        ("meta", "jsonb NOT NULL DEFAULT '{}'"),
        ("deletedAt", TS),
        ("deletedBy", "integer"),
        ("checkpointType", '"CheckpointType"'),
        ("uploadType", "\"ModelUploadType\" NOT NULL DEFAULT 'Created'"),
        ("locked", "boolean NOT NULL DEFAULT false"),
        ("underAttack", "boolean NOT NULL DEFAULT false"),
        ("earlyAccessDeadline", TS),
        ("mode", '"ModelModifier"'),
        ("unlisted", "boolean NOT NULL DEFAULT false"),
        ("gallerySettings",
         "jsonb NOT NULL DEFAULT '{\"users\": [], \"tags\": [], \"images\": []}'"),
        ("availability", "\"Availability\" NOT NULL DEFAULT 'Public'"),
        ("nsfwLevel", "integer NOT NULL DEFAULT 0"),
        ("lockedProperties", "text[] NOT NULL DEFAULT ARRAY[]::text[]"),
        ("scannedAt", TS),
        ("sfwOnly", "boolean NOT NULL DEFAULT false"),
        ("allowNoCredit", "boolean NOT NULL DEFAULT true"),
        ("allowCommercialUse",
         "\"CommercialUse\"[] NOT NULL DEFAULT ARRAY['Sell']::\"CommercialUse\"[]"),
        ("allowDerivatives", "boolean NOT NULL DEFAULT true"),
        ("allowDifferentLicense", "boolean NOT NULL DEFAULT true"),
    ],
    "ModelVersion": [
        ("id", "serial"),
        ("index", "integer"),
        ("name", "text NOT NULL"),
        ("description", "text"),
        ("modelId", "integer NOT NULL"),
        ("trainedWords", "text[] NOT NULL"),
        ("steps", "integer"),
        ("epochs", "integer"),
        ("clipSkip", "integer"),
        ("vaeId", "integer"),
        ("createdAt", f"{TS} NOT NULL {NOW}"),
        ("updatedAt", f"{TS} NOT NULL"),
        ("publishedAt", TS),
        ("status", "\"ModelStatus\" NOT NULL DEFAULT 'Draft'"),
        ("trainingStatus", '"TrainingStatus"'),
        ("trainingDetails", "jsonb"),
        ("fromImportId", "integer"),
        ("inaccurate", "boolean NOT NULL DEFAULT false"),
        ("baseModel", "text NOT NULL"),
        ("baseModelType", "text NOT NULL DEFAULT 'Standard'"),
        ("meta", "jsonb NOT NULL DEFAULT '{}'"),
        ("requireAuth", "boolean NOT NULL DEFAULT false"),
        ("settings", "jsonb"),
        ("availability", "\"Availability\" NOT NULL DEFAULT 'Public'"),
        ("nsfwLevel", "integer NOT NULL DEFAULT 0"),
        ("earlyAccessEndsAt", TS),
        ("earlyAccessConfig", "jsonb"),
        ("uploadType", "\"ModelUploadType\" NOT NULL DEFAULT 'Created'"),
        ("usageControl", "\"ModelUsageControl\" NOT NULL DEFAULT 'Download'"),
        ("earlyAccessTimeFrame", "integer NOT NULL DEFAULT 0"),
    ],
    "Post": [
        ("id", "serial"),
        ("nsfw", "boolean NOT NULL DEFAULT false"),
        ("title", "text"),
        ("detail", "text"),
        ("userId", "integer NOT NULL"),
        ("modelVersionId", "integer"),
        ("createdAt", f"{TS} NOT NULL {NOW}"),
        ("updatedAt", f"{TS} NOT NULL"),
        ("publishedAt", TS),
        ("metadata", "jsonb"),
        ("tosViolation", "boolean NOT NULL DEFAULT false"),
        ("collectionId", "integer"),
        ("unlisted", "boolean NOT NULL DEFAULT false"),
        ("availability", "\"Availability\" NOT NULL DEFAULT 'Public'"),
        ("nsfwLevel", "integer NOT NULL DEFAULT 0"),
    ],
    "Image": [
        ("id", "serial"),
        ("pHash", "bigint"),
        ("name", "text"),
        ("url", "text NOT NULL"),
        ("userId", "integer NOT NULL"),
        ("createdAt", f"{TS} NOT NULL {NOW}"),
        ("updatedAt", f"{TS} NOT NULL"),
        ("meta", "jsonb"),
        ("hash", "text"),
        ("height", "integer"),
        ("width", "integer"),
        ("type", "\"MediaType\" NOT NULL DEFAULT 'image'"),
        ("metadata", "jsonb NOT NULL DEFAULT '{}'"),
        ("nsfw", "\"NsfwLevel\" NOT NULL DEFAULT 'None'"),
        ("nsfwLevel", "integer NOT NULL DEFAULT 0"),
        ("nsfwLevelLocked", "boolean NOT NULL DEFAULT false"),
        ("tosViolation", "boolean NOT NULL DEFAULT false"),
        ("analysis", "jsonb"),
        ("generationProcess", '"ImageGenerationProcess"'),
        ("featuredAt", TS),
        ("postId", "integer"),
        ("needsReview", "text"),
        ("hideMeta", "boolean NOT NULL DEFAULT false"),
        ("index", "integer"),
        ("scannedAt", TS),
        ("scanRequestedAt", TS),
        ("mimeType", "text"),
        ("sizeKB", "integer"),
        ("ingestion", "\"ImageIngestionStatus\" NOT NULL DEFAULT 'Pending'"),
        ("blockedFor", "text"),
        ("scanJobs", "jsonb"),
        ("sortAt", f"{TS} NOT NULL {NOW}"),
        ("minor", "boolean NOT NULL DEFAULT false"),
        ("poi", "boolean NOT NULL DEFAULT false"),
        ("acceptableMinor", "boolean NOT NULL DEFAULT false"),
    ],
    "ImageReaction": [
        ("id", "serial"),
        ("imageId", "integer NOT NULL"),
        ("userId", "integer NOT NULL"),
        ("reaction", '"ReviewReactions" NOT NULL'),
        ("createdAt", f"{TS} NOT NULL {NOW}"),
        ("updatedAt", f"{TS} NOT NULL"),
    ],
    "ImageResourceNew": [
        ("imageId", "integer NOT NULL"),
        ("modelVersionId", "integer NOT NULL"),
        ("strength", "integer"),
        ("detected", "boolean NOT NULL DEFAULT false"),
    ],
    "Article": [
        ("id", "serial"),
        ("createdAt", f"{TS} {NOW}"),
        ("updatedAt", TS),
        ("nsfw", "boolean NOT NULL DEFAULT false"),
        ("tosViolation", "boolean NOT NULL DEFAULT false"),
        ("metadata", "jsonb"),
        ("title", "text NOT NULL"),
        ("content", "text NOT NULL"),
        ("cover", "text"),
        ("coverId", "integer"),
        ("publishedAt", TS),
        ("userId", "integer NOT NULL"),
        ("availability", "\"Availability\" NOT NULL DEFAULT 'Public'"),
        ("unlisted", "boolean NOT NULL DEFAULT false"),
        ("nsfwLevel", "integer NOT NULL DEFAULT 0"),
        ("userNsfwLevel", "integer NOT NULL DEFAULT 0"),
        ("lockedProperties", "text[] NOT NULL DEFAULT ARRAY[]::text[]"),
        ("status", "\"ArticleStatus\" NOT NULL DEFAULT 'Draft'"),
    ],
    "ArticleReaction": [
        ("id", "serial"),
        ("articleId", "integer NOT NULL"),
        ("userId", "integer NOT NULL"),
        ("reaction", '"ReviewReactions" NOT NULL'),
        ("createdAt", f"{TS} NOT NULL {NOW}"),
        ("updatedAt", f"{TS} NOT NULL"),
    ],
    "Collection": [
        ("id", "serial"),
        ("createdAt", f"{TS} {NOW}"),
        ("updatedAt", TS),
        ("name", "text NOT NULL"),
        ("description", "text"),
        ("nsfw", "boolean DEFAULT false"),
        ("userId", "integer NOT NULL"),
        ("imageId", "integer"),
        ("write", "\"CollectionWriteConfiguration\" NOT NULL DEFAULT 'Private'"),
        ("read", "\"CollectionReadConfiguration\" NOT NULL DEFAULT 'Private'"),
        ("type", '"CollectionType"'),
        ("mode", '"CollectionMode"'),
        ("metadata", "jsonb NOT NULL DEFAULT '{}'"),
        ("availability", "\"Availability\" NOT NULL DEFAULT 'Public'"),
        ("nsfwLevel", "integer NOT NULL DEFAULT 0"),
    ],
    "CollectionItem": [
        ("id", "serial"),
        ("createdAt", f"{TS} {NOW}"),
        ("updatedAt", TS),
        ("collectionId", "integer NOT NULL"),
        ("articleId", "integer"),
        ("postId", "integer"),
        ("imageId", "integer"),
        ("modelId", "integer"),
        ("addedById", "integer"),
        ("reviewedById", "integer"),
        ("reviewedAt", TS),
        ("note", "text"),
        ("status", "\"CollectionItemStatus\" NOT NULL DEFAULT 'ACCEPTED'"),
        ("randomId", "integer"),
        ("tagId", "integer"),
    ],
    "CollectionContributor": [
        ("createdAt", f"{TS} {NOW}"),
        ("updatedAt", TS),
        ("userId", "integer NOT NULL"),
        ("collectionId", "integer NOT NULL"),
        ("permissions", '"CollectionContributorPermission"[] NOT NULL'),
    ],
    "Thread": [
        ("id", "serial"),
        ("locked", "boolean NOT NULL DEFAULT false"),
        ("parentThreadId", "integer"),
        ("rootThreadId", "integer"),
        ("questionId", "integer"),
        ("answerId", "integer"),
        ("imageId", "integer"),
        ("postId", "integer"),
        ("reviewId", "integer"),
        ("commentId", "integer"),
        ("modelId", "integer"),
        ("articleId", "integer"),
        ("bountyId", "integer"),
        ("bountyEntryId", "integer"),
        ("clubPostId", "integer"),
        ("metadata", "jsonb NOT NULL DEFAULT '{}'"),
    ],
    "CommentV2": [
        ("id", "serial"),
        ("content", "text NOT NULL"),
        ("createdAt", f"{TS} NOT NULL {NOW}"),
        ("updatedAt", f"{TS} NOT NULL"),
        ("nsfw", "boolean NOT NULL DEFAULT false"),
        ("tosViolation", "boolean NOT NULL DEFAULT false"),
        ("userId", "integer NOT NULL"),
        ("threadId", "integer NOT NULL"),
        ("metadata", "jsonb"),
        ("hidden", "boolean DEFAULT false"),
        ("pinnedAt", TS),
    ],
    "Comment": [
        ("id", "serial"),
        ("content", "text NOT NULL"),
        ("createdAt", f"{TS} NOT NULL {NOW}"),
        ("updatedAt", f"{TS} NOT NULL"),
        ("nsfw", "boolean NOT NULL DEFAULT false"),
        ("tosViolation", "boolean NOT NULL DEFAULT false"),
        ("parentId", "integer"),
        ("userId", "integer NOT NULL"),
        ("modelId", "integer NOT NULL"),
        ("locked", "boolean DEFAULT false"),
        ("hidden", "boolean DEFAULT false"),
    ],
    "ResourceReview": [
        ("id", "serial"),
        ("modelId", "integer NOT NULL"),
        ("modelVersionId", "integer NOT NULL"),
        ("rating", "integer NOT NULL"),
        ("recommended", "boolean NOT NULL DEFAULT true"),
        ("details", "text"),
        ("userId", "integer NOT NULL"),
        ("createdAt", f"{TS} NOT NULL {NOW}"),
        ("updatedAt", f"{TS} NOT NULL"),
        ("exclude", "boolean NOT NULL DEFAULT false"),
        ("nsfw", "boolean NOT NULL DEFAULT false"),
        ("tosViolation", "boolean NOT NULL DEFAULT false"),
        ("metadata", "jsonb"),
    ],
    "UserEngagement": [
        ("userId", "integer NOT NULL"),
        ("targetUserId", "integer NOT NULL"),
        ("type", '"UserEngagementType" NOT NULL'),
        ("createdAt", f"{TS} NOT NULL {NOW}"),
    ],
    "TagEngagement": [
        ("userId", "integer NOT NULL"),
        ("tagId", "integer NOT NULL"),
        ("type", '"TagEngagementType" NOT NULL'),
        ("createdAt", f"{TS} NOT NULL {NOW}"),
    ],
    "Bounty": [
        ("id", "serial"),
        ("userId", "integer"),
        ("name", "text NOT NULL"),
        ("description", "text NOT NULL"),
        ("startsAt", "date NOT NULL"),
        ("expiresAt", "date NOT NULL"),
        ("createdAt", f"{TS} NOT NULL {NOW}"),
        ("updatedAt", f"{TS} NOT NULL"),
        ("details", "jsonb"),
        ("mode", "\"BountyMode\" NOT NULL DEFAULT 'Individual'"),
        ("entryMode", "\"BountyEntryMode\" NOT NULL DEFAULT 'Open'"),
        ("type", '"BountyType" NOT NULL'),
        ("minBenefactorUnitAmount", "integer NOT NULL"),
        ("maxBenefactorUnitAmount", "integer"),
        ("entryLimit", "integer NOT NULL DEFAULT 1"),
        ("nsfw", "boolean NOT NULL DEFAULT false"),
        ("poi", "boolean NOT NULL DEFAULT false"),
        ("complete", "boolean NOT NULL DEFAULT false"),
        ("refunded", "boolean NOT NULL DEFAULT false"),
        ("availability", "\"Availability\" NOT NULL DEFAULT 'Public'"),
        ("nsfwLevel", "integer NOT NULL DEFAULT 0"),
        ("lockedProperties", "text[] NOT NULL DEFAULT ARRAY[]::text[]"),
    ],
    "BountyEntry": [
        ("id", "serial"),
        ("userId", "integer"),
        ("bountyId", "integer NOT NULL"),
        ("createdAt", f"{TS} NOT NULL {NOW}"),
        ("updatedAt", f"{TS} NOT NULL"),
        ("locked", "boolean NOT NULL DEFAULT false"),
        ("description", "text"),
        ("nsfwLevel", "integer NOT NULL DEFAULT 0"),
    ],
    "BountyEntryReaction": [
        ("bountyEntryId", "integer NOT NULL"),
        ("userId", "integer NOT NULL"),
        ("reaction", '"ReviewReactions" NOT NULL'),
        ("createdAt", f"{TS} NOT NULL {NOW}"),
    ],
    "BountyBenefactor": [
        ("userId", "integer NOT NULL"),
        ("bountyId", "integer NOT NULL"),
        ("unitAmount", "integer NOT NULL"),
        ("createdAt", f"{TS} NOT NULL {NOW}"),
        ("updatedAt", f"{TS} NOT NULL"),
        ("awardedAt", TS),
        ("awardedToId", "integer"),
        ("currency", "\"Currency\" NOT NULL DEFAULT 'BUZZ'"),
    ],
    "BountyEngagement": [
        ("userId", "integer NOT NULL"),
        ("bountyId", "integer NOT NULL"),
        ("type", '"BountyEngagementType" NOT NULL'),
        ("createdAt", f"{TS} NOT NULL {NOW}"),
    ],
    "BuzzTip": [
        ("entityType", "text NOT NULL"),
        ("entityId", "integer NOT NULL"),
        ("toUserId", "integer NOT NULL"),
        ("fromUserId", "integer NOT NULL"),
        ("amount", "integer NOT NULL"),
        ("createdAt", f"{TS} NOT NULL {NOW}"),
        ("updatedAt", f"{TS} NOT NULL"),
    ],
}

PRIMARY_KEYS: dict[str, list[str]] = {
    "UserEngagement": ["userId", "targetUserId"],
    "TagEngagement": ["userId", "tagId"],
    "BountyEngagement": ["type", "bountyId", "userId"],
    "BuzzTip": ["entityType", "entityId", "fromUserId"],
    "CollectionContributor": ["userId", "collectionId"],
    "BountyEntryReaction": ["bountyEntryId", "userId", "reaction"],
    "BountyBenefactor": ["bountyId", "userId"],
    "ImageResourceNew": ["imageId", "modelVersionId"],
}
"""Composite keys; every other table's key is ``id``."""

# Index statements of the 2025-03 dump (or schema.prisma where the dump has none), minus exact
# duplicates, split into the main ones (always built) and the rest (``all_indexes=True``): the
# rest serve the web app, not the backfill, and would double the time a load spends on indexes.
INDEXES: list[str] = [
    'CREATE UNIQUE INDEX "User_username_key" ON "User" USING btree (username)',
    'CREATE UNIQUE INDEX "User_email_key" ON "User" USING btree (email)',
    'CREATE INDEX "user_createdat" ON "User" USING btree ("createdAt")',
    'CREATE UNIQUE INDEX "Tag_name_key" ON "Tag" USING btree (name)',
    'CREATE UNIQUE INDEX "Model_fromImportId_key" ON "Model" USING btree ("fromImportId")',
    'CREATE INDEX "Model_userId" ON "Model" USING btree ("userId")',
    'CREATE INDEX "ModelVersion_modelId_idx" ON "ModelVersion" USING hash ("modelId")',
    'CREATE INDEX "Post_publishedAt_idx" ON "Post" USING btree ("publishedAt")',
    'CREATE INDEX "Post_userId_idx" ON "Post" USING btree ("userId")',
    'CREATE INDEX "Image_createdAt" ON "Image" USING btree ("createdAt") INCLUDE ("userId", nsfw)',
    'CREATE INDEX "Image_postId_idx" ON "Image" USING hash ("postId")',
    'CREATE INDEX "ImageReaction_createdAt_idx" ON "ImageReaction" USING btree ("createdAt")',
    'CREATE UNIQUE INDEX "ImageReaction_imageId_userId_reaction_key" ON "ImageReaction" USING btree ("imageId", "userId", reaction)',
    'CREATE INDEX "ImageResourceNew_modelVersionId_idx" ON "ImageResourceNew" USING btree ("modelVersionId")',
    'CREATE UNIQUE INDEX "Article_coverId_key" ON "Article" USING btree ("coverId")',
    'CREATE INDEX "Article_userId" ON "Article" USING btree ("userId")',
    'CREATE UNIQUE INDEX "ArticleReaction_articleId_userId_reaction_key" ON "ArticleReaction" USING btree ("articleId", "userId", reaction)',
    'CREATE INDEX "Collection_userId_idx" ON "Collection" USING btree ("userId")',
    'CREATE UNIQUE INDEX "User_bookmark_collection" ON "Collection" USING btree ("userId", type, mode) WHERE (mode = \'Bookmark\'::"CollectionMode")',
    'CREATE UNIQUE INDEX "CollectionItem_article_idx" ON "CollectionItem" USING btree ("collectionId", "articleId") WHERE ("articleId" IS NOT NULL)',
    'CREATE UNIQUE INDEX "CollectionItem_image_idx" ON "CollectionItem" USING btree ("collectionId", "imageId") WHERE ("imageId" IS NOT NULL)',
    'CREATE UNIQUE INDEX "CollectionItem_model_idx" ON "CollectionItem" USING btree ("collectionId", "modelId") WHERE ("modelId" IS NOT NULL)',
    'CREATE UNIQUE INDEX "CollectionItem_post_idx" ON "CollectionItem" USING btree ("collectionId", "postId") WHERE ("postId" IS NOT NULL)',
    'CREATE INDEX "Collection_createdAt" ON "CollectionItem" USING btree ("createdAt")',
    'CREATE INDEX "CommentV2_threadId_idx" ON "CommentV2" USING hash ("threadId")',
    *[
        f'CREATE UNIQUE INDEX "Thread_{c}_key" ON "Thread" USING btree ("{c}")'
        for c in ("questionId", "answerId", "imageId", "postId", "reviewId", "commentId",
                  "modelId", "articleId", "bountyId", "bountyEntryId", "clubPostId")
    ],
    'CREATE INDEX "Thread_parentThreadId_idx" ON "Thread" USING hash ("parentThreadId")',
    'CREATE INDEX "Thread_rootThreadId_idx" ON "Thread" USING hash ("rootThreadId")',
    'CREATE INDEX "Comment_modelId_idx" ON "Comment" USING hash ("modelId")',
    'CREATE INDEX "Comment_parentId_idx" ON "Comment" USING hash ("parentId")',
    'CREATE INDEX "ResourceReview_createdAt_idx" ON "ResourceReview" USING btree ("createdAt")',
    'CREATE UNIQUE INDEX "ResourceReview_modelVersionId_userId_key" ON "ResourceReview" USING btree ("modelVersionId", "userId")',
    'CREATE INDEX "BountyEngagement_bountyId_idx" ON "BountyEngagement" USING btree ("bountyId")',
    'CREATE INDEX "BountyEntry_bountyId_idx" ON "BountyEntry" USING hash ("bountyId")',
    'CREATE INDEX "BountyEntryReaction_bountyEntryId_idx" ON "BountyEntryReaction" USING hash ("bountyEntryId")',
    'CREATE INDEX "BountyBenefactor_bountyId_idx" ON "BountyBenefactor" USING hash ("bountyId")',
    'CREATE INDEX "BuzzTip_toUserId_idx" ON "BuzzTip" USING btree ("toUserId")',
]
"""The main indexes: unique constraints, time-range indexes and parent-lookup indexes."""

EXTRA_INDEXES: list[str] = [
    'CREATE INDEX "User_deletedAt_idx" ON "User" USING btree ("deletedAt")',
    'CREATE INDEX "Tag_type_idx" ON "Tag" USING btree (type)',
    'CREATE INDEX "Model_status_nsfw_idx" ON "Model" USING btree (status, nsfw)',
    'CREATE INDEX "ModelVersion_modelId_baseModel_idx" ON "ModelVersion" USING btree ("modelId", "baseModel")',
    'CREATE INDEX "Post_modelVersionId_idx" ON "Post" USING btree ("modelVersionId")',
    'CREATE INDEX "Image_userId_createdAt" ON "Image" USING btree ("userId", "createdAt")',
    'CREATE INDEX "ImageReaction_userId" ON "ImageReaction" USING btree ("userId")',
    'CREATE INDEX "Collection_mode_idx" ON "Collection" USING hash (mode)',
    'CREATE INDEX "CollectionItem_addedById_idx" ON "CollectionItem" USING hash ("addedById")',
    'CREATE INDEX "CollectionItem_collectionId_idx" ON "CollectionItem" USING hash ("collectionId")',
    'CREATE INDEX "CollectionItem_imageId_idx" ON "CollectionItem" USING hash ("imageId")',
    'CREATE INDEX "CollectionItem_modelId_idx" ON "CollectionItem" USING hash ("modelId")',
    'CREATE INDEX "CollectionItem_postId_idx" ON "CollectionItem" USING btree ("postId")',
    'CREATE INDEX "CollectionItem_status_idx" ON "CollectionItem" USING btree (status)',
    'CREATE INDEX "CollectionContributor_userId_idx" ON "CollectionContributor" USING hash ("userId")',
    'CREATE INDEX "ResourceReview_modelId_idx" ON "ResourceReview" USING btree ("modelId") INCLUDE (exclude, "userId", rating)',
    'CREATE INDEX "ResourceReview_modelVersionId_createdAt_idx" ON "ResourceReview" USING btree ("modelVersionId", "createdAt") INCLUDE (rating, recommended)',
    'CREATE INDEX "ResourceReview_userId_idx" ON "ResourceReview" USING hash ("userId")',
    'CREATE INDEX "UserEngagement_type_idx" ON "UserEngagement" USING btree (type)',
    'CREATE INDEX "BountyEngagement_userId_idx" ON "BountyEngagement" USING hash ("userId")',
    'CREATE INDEX "Bounty_mode_idx" ON "Bounty" USING btree (mode)',
    'CREATE INDEX "Bounty_type_idx" ON "Bounty" USING btree (type)',
    'CREATE INDEX "Bounty_userId_idx" ON "Bounty" USING hash ("userId")',
    'CREATE INDEX "BountyEntry_userId" ON "BountyEntry" USING btree ("userId")',
    'CREATE INDEX "BountyBenefactor_userId_idx" ON "BountyBenefactor" USING hash ("userId")',
]


def quote(name: str) -> str:
    """A case-sensitive SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def key_statements(all_indexes: bool = False) -> dict[str, list[str]]:
    """Per table, the primary key first, then the index statements to run once the data is in."""
    out: dict[str, list[str]] = {t: [] for t in TABLES}
    for table in TABLES:
        cols = PRIMARY_KEYS.get(table, ["id"])
        out[table].append(
            f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(table + '_pkey')} "
            f"PRIMARY KEY ({', '.join(quote(c) for c in cols)})"
        )
    for stmt in INDEXES + (EXTRA_INDEXES if all_indexes else []):
        table = stmt.split(" ON ", 1)[1].split('"')[1]
        out[table].append(stmt)
    return out


def _has_citext(conn: Any) -> bool:
    row = conn.execute(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'citext'"
    ).fetchone()
    return row is not None


def create_pg_schema(conn: Any, *, keys: bool = True, replace: bool = False,
                     all_indexes: bool = False) -> None:
    """Create every enum type and source table (optionally with keys and indexes) in ``conn``.

    ``replace`` drops the tables and types first (only for synthetic databases). Without it an
    existing table is an error, so a real database is never touched by accident.
    """
    citext = "text"
    if _has_citext(conn):
        conn.execute("CREATE EXTENSION IF NOT EXISTS citext")
        citext = "citext"
    if replace:
        for table in TABLES:
            conn.execute(f"DROP TABLE IF EXISTS {quote(table)} CASCADE")
        for enum in ENUMS:
            conn.execute(f"DROP TYPE IF EXISTS {quote(enum)} CASCADE")
    for enum, values in ENUMS.items():
        conn.execute(
            f"CREATE TYPE {quote(enum)} AS ENUM ({', '.join(_literal(v) for v in values)})"
        )
    for table, columns in TABLES.items():
        cols = ", ".join(f"{quote(c)} {t.replace('CITEXT', citext)}" for c, t in columns)
        conn.execute(f"CREATE TABLE {quote(table)} ({cols})")
    if keys:
        create_pg_keys(conn, all_indexes=all_indexes)


def create_pg_keys(conn: Any, tables: list[str] | None = None, all_indexes: bool = False) -> None:
    """Add primary keys and indexes (after loading: bulk builds beat row-by-row maintenance)."""
    stmts = key_statements(all_indexes)
    for table in tables or list(TABLES):
        for stmt in stmts[table]:
            conn.execute(stmt)


def table_columns(table: str) -> list[str]:
    """Column names of a source table, in DDL order."""
    return [c for c, _ in TABLES[table]]


# The ten legacy metric tables (SCHEMA.md §2), as the 2025-03 dump has them: ``updatedAt``
# nullable with a default, ``createdAt``/``ageGroup`` where the dump adds them, and the two
# ``reactionCount`` columns GENERATED (they cannot be written). Kept apart from ``TABLES``: they
# are not backfill sources, and ``compare`` must meet a database that lacks them.
_COUNT = "integer NOT NULL DEFAULT 0"
_UPDATED = ("updatedAt", f"{TS} DEFAULT now()")
_TIMEFRAME = ("timeframe", '"MetricTimeframe" NOT NULL')
_REACTION_COUNTS = ["likeCount", "dislikeCount", "laughCount", "cryCount", "heartCount"]
_MODEL_COUNTS = ["ratingCount", "downloadCount", "favoriteCount", "commentCount", "collectedCount",
                 "imageCount", "tippedCount", "tippedAmountCount", "generationCount",
                 "thumbsUpCount", "thumbsDownCount", "earnedAmount"]


def _counts(names: list[str]) -> list[tuple[str, str]]:
    return [(n, _COUNT) for n in names]


def _generated(*columns: str) -> str:
    total = f'"{columns[0]}"'
    for c in columns[1:]:
        total = f'({total} + "{c}")'
    return f"integer GENERATED ALWAYS AS ({total}) STORED"


METRIC_TABLES: dict[str, list[tuple[str, str]]] = {
    "ModelMetric": [("modelId", "integer NOT NULL"), _TIMEFRAME,
                    ("rating", "double precision NOT NULL DEFAULT 0"), *_counts(_MODEL_COUNTS),
                    _UPDATED],
    "ModelVersionMetric": [("modelVersionId", "integer NOT NULL"), _TIMEFRAME,
                           ("rating", "double precision NOT NULL DEFAULT 0"),
                           *_counts(_MODEL_COUNTS), _UPDATED],
    "PostMetric": [("postId", "integer NOT NULL"), _TIMEFRAME, *_counts(_REACTION_COUNTS),
                   *_counts(["commentCount", "collectedCount"]), _UPDATED,
                   ("ageGroup", "\"MetricTimeframe\" DEFAULT 'Day'"),
                   ("createdAt", f"{TS} DEFAULT now() NOT NULL"),
                   ("reactionCount", _generated("likeCount", "heartCount", "laughCount", "cryCount"))],
    "ImageMetric": [("imageId", "integer NOT NULL"), _TIMEFRAME, *_counts(_REACTION_COUNTS),
                    *_counts(["commentCount", "collectedCount", "tippedCount", "tippedAmountCount",
                              "viewCount"]),
                    ("reactionCount", _generated("heartCount", "likeCount", "laughCount", "cryCount")),
                    _UPDATED, ("ageGroup", "\"MetricTimeframe\" NOT NULL DEFAULT 'Day'"),
                    ("createdAt", f"{TS} NOT NULL {NOW}")],
    "ArticleMetric": [("articleId", "integer NOT NULL"), _TIMEFRAME, *_counts(_REACTION_COUNTS),
                      *_counts(["commentCount", "viewCount", "favoriteCount", "hideCount",
                                "collectedCount", "tippedCount", "tippedAmountCount"]), _UPDATED],
    "UserMetric": [("userId", "integer NOT NULL"), _TIMEFRAME,
                   *_counts(["followingCount", "followerCount", "reactionCount", "hiddenCount",
                             "uploadCount", "reviewCount", "answerCount", "answerAcceptCount"]),
                   _UPDATED],
    "CollectionMetric": [("collectionId", "integer NOT NULL"), _TIMEFRAME,
                         *_counts(["followerCount", "itemCount", "contributorCount"]), _UPDATED,
                         ("createdAt", f"{TS} DEFAULT now() NOT NULL")],
    "TagMetric": [("tagId", "integer NOT NULL"), _TIMEFRAME,
                  *_counts(["modelCount", "imageCount", "postCount", "articleCount", "hiddenCount",
                            "followerCount"]), _UPDATED,
                  ("createdAt", f"{TS} DEFAULT now() NOT NULL")],
    "BountyMetric": [("bountyId", "integer NOT NULL"), _TIMEFRAME,
                     *_counts(["favoriteCount", "trackCount", "entryCount", "benefactorCount",
                               "unitAmountCount", "commentCount"]), _UPDATED],
    "BountyEntryMetric": [("bountyEntryId", "integer NOT NULL"), _TIMEFRAME,
                          *_counts([*_REACTION_COUNTS, "unitAmountCount", "tippedCount",
                                    "tippedAmountCount"]), _UPDATED],
}
"""Legacy table → (column, type) in the dump's order; the key is (first column, timeframe)."""


def create_metric_tables(conn: Any, replace: bool = True) -> None:
    """Create the legacy metric tables, without keys (``metric_table_keys`` after loading).
    ``replace`` drops them first (synthetic databases only). ``MetricTimeframe`` must exist."""
    for table, columns in METRIC_TABLES.items():
        if replace:
            conn.execute(f"DROP TABLE IF EXISTS {quote(table)}")
        cols = ", ".join(f"{quote(c)} {t}" for c, t in columns)
        conn.execute(f"CREATE TABLE {quote(table)} ({cols})")


def metric_table_key(table: str) -> str:
    first = METRIC_TABLES[table][0][0]
    return (f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(table + '_pkey')} "
            f"PRIMARY KEY ({quote(first)}, timeframe)")
