"""The synthetic data, loaded: every table with its columns and types, the rows equal to the
frames, and every edge case of SPEC §5 present (the generator alone: tests/unit/test_synth.py).

Postgres tests load their own databases into the session's server. The ClickHouse test runs chdb in
a subprocess: chdb allows one data path per process, and the session's path belongs to conftest.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import date, datetime
from pathlib import Path

import polars as pl
import psycopg
import pytest

from metric_backfill_lab.synth import (
    EXCLUDED_VERSIONS,
    _pgbinary,
    create_pg_schema,
    generate_pg,
    load_pg,
)
from metric_backfill_lab.synth.schema import ENUMS, INDEXES, TABLES
from tests.helpers import REPO, Env

SEED = 5

# -------------------------------------------------------------------------------------------
# SQL checks of SPEC §5: name -> a query returning one boolean.

_EDGES = (
    "ARRAY['2023-05-31 23:59:59.999', '2023-06-01 00:00:00', '2023-06-01 00:00:00.001', "
    "'2024-08-07 15:44:39.043', '2024-08-07 15:44:39.044', '2024-08-07 15:44:39.045']"
    "::timestamp(3)[]"
)
_PERM = '"CollectionContributorPermission"[]'


def _exists(sql: str) -> str:
    return f"SELECT EXISTS ({sql})"


def _all_positive(select: str, n: int) -> str:
    """``select`` yields one row of n counts; true when all are > 0."""
    cols = ", ".join(f"c{i}" for i in range(n))
    vals = ", ".join(f"(c{i})" for i in range(n))
    return f"SELECT bool_and(v > 0) FROM ({select}) s({cols}), LATERAL (VALUES {vals}) x(v)"


CHECKS: dict[str, str] = {
    # CollectionItem / Collection / CollectionContributor
    "item addedById NULL": _exists('SELECT 1 FROM "CollectionItem" WHERE "addedById" IS NULL'),
    "item createdAt NULL, updatedAt set": _exists(
        'SELECT 1 FROM "CollectionItem" WHERE "createdAt" IS NULL AND "updatedAt" IS NOT NULL'),
    "item createdAt+updatedAt NULL": _exists(
        'SELECT 1 FROM "CollectionItem" i JOIN "Collection" c ON c.id = i."collectionId" '
        'WHERE i."createdAt" IS NULL AND i."updatedAt" IS NULL AND c."createdAt" IS NOT NULL'),
    "item and collection createdAt all NULL": _exists(
        'SELECT 1 FROM "CollectionItem" i JOIN "Collection" c ON c.id = i."collectionId" '
        'WHERE i."createdAt" IS NULL AND i."updatedAt" IS NULL AND c."createdAt" IS NULL'),
    "item with no entity": _exists(
        'SELECT 1 FROM "CollectionItem" WHERE COALESCE("modelId", "postId", "articleId", "imageId") IS NULL'),
    "item of each entity kind": _all_positive(
        'SELECT count("modelId"), count("postId"), count("articleId"), count("imageId") '
        'FROM "CollectionItem"', 4),
    "every item status": 'SELECT count(DISTINCT status) = 3 FROM "CollectionItem"',
    "collection mode NULL/Contest/Bookmark": 'SELECT count(*) = 3 FROM (SELECT DISTINCT mode FROM "Collection") s',
    "contributor createdAt NULL, updatedAt set": _exists(
        'SELECT 1 FROM "CollectionContributor" WHERE "createdAt" IS NULL AND "updatedAt" IS NOT NULL'),
    "contributor createdAt+updatedAt NULL": _exists(
        'SELECT 1 FROM "CollectionContributor" WHERE "createdAt" IS NULL AND "updatedAt" IS NULL'),
    "contributor and collection createdAt all NULL": _exists(
        'SELECT 1 FROM "CollectionContributor" cc JOIN "Collection" c ON c.id = cc."collectionId" '
        'WHERE cc."createdAt" IS NULL AND cc."updatedAt" IS NULL AND c."createdAt" IS NULL'),
    "permission arrays": (
        f'SELECT count(DISTINCT permissions) = 6 FROM "CollectionContributor" WHERE permissions IN ('
        f"ARRAY['VIEW']::{_PERM}, ARRAY['ADD']::{_PERM}, ARRAY['VIEW','ADD']::{_PERM}, "
        f"ARRAY['MANAGE']::{_PERM}, ARRAY['ADD_REVIEW']::{_PERM}, ARRAY[]::{_PERM})"),
    # images, bounties, articles
    "reactions on images without post": _exists(
        'SELECT 1 FROM "ImageReaction" r JOIN "Image" i ON i.id = r."imageId" WHERE i."postId" IS NULL'),
    "self reactions": _exists(
        'SELECT 1 FROM "ImageReaction" r JOIN "Image" i ON i.id = r."imageId" WHERE i."userId" = r."userId"'),
    "bounty userId NULL": _exists('SELECT 1 FROM "Bounty" WHERE "userId" IS NULL'),
    "reactions on entries without user": _exists(
        'SELECT 1 FROM "BountyEntryReaction" r JOIN "BountyEntry" e ON e.id = r."bountyEntryId" '
        'WHERE e."userId" IS NULL'),
    "benefactor awarded": _exists(
        'SELECT 1 FROM "BountyBenefactor" b JOIN "BountyEntry" e ON e.id = b."awardedToId" '
        'WHERE b."awardedAt" IS NOT NULL'),
    "benefactor unawarded": _exists(
        'SELECT 1 FROM "BountyBenefactor" WHERE "awardedToId" IS NULL AND "awardedAt" IS NULL'),
    "benefactor awardedTo without awardedAt": _exists(
        'SELECT 1 FROM "BountyBenefactor" WHERE "awardedToId" IS NOT NULL AND "awardedAt" IS NULL'),
    "award goes to an entry of the same bounty": (
        'SELECT bool_and(e."bountyId" = b."bountyId") FROM "BountyBenefactor" b '
        'JOIN "BountyEntry" e ON e.id = b."awardedToId"'),
    "article Draft with publishedAt": _exists(
        "SELECT 1 FROM \"Article\" WHERE status = 'Draft' AND \"publishedAt\" IS NOT NULL"),
    "article Unpublished with publishedAt": _exists(
        "SELECT 1 FROM \"Article\" WHERE status = 'Unpublished' AND \"publishedAt\" IS NOT NULL"),
    "article Published without publishedAt": _exists(
        "SELECT 1 FROM \"Article\" WHERE status = 'Published' AND \"publishedAt\" IS NULL"),
    "article Published with publishedAt": _exists(
        "SELECT 1 FROM \"Article\" WHERE status = 'Published' AND \"publishedAt\" IS NOT NULL"),
    # enums and flags
    "image reactions: every value": 'SELECT count(DISTINCT reaction) = 5 FROM "ImageReaction"',
    "article reactions: every value": 'SELECT count(DISTINCT reaction) = 5 FROM "ArticleReaction"',
    "entry reactions: every value": 'SELECT count(DISTINCT reaction) = 5 FROM "BountyEntryReaction"',
    "user engagement: Follow/Hide/Block": 'SELECT count(DISTINCT type) = 3 FROM "UserEngagement"',
    "tag engagement: Follow/Hide/Allow": 'SELECT count(DISTINCT type) = 3 FROM "TagEngagement"',
    "bounty engagement: Favorite/Track": 'SELECT count(DISTINCT type) = 2 FROM "BountyEngagement"',
    "review flags": (
        'SELECT bool_or(exclude) AND bool_or("tosViolation") '
        'AND bool_or(recommended AND NOT exclude AND NOT "tosViolation") '
        'AND bool_or(NOT recommended AND NOT exclude AND NOT "tosViolation") FROM "ResourceReview"'),
    "model comments: tosViolation and replies": (
        'SELECT bool_or("tosViolation") AND bool_or("parentId" IS NOT NULL) FROM "Comment"'),
    "replies on the parent's model": (
        'SELECT bool_and(p."modelId" = c."modelId") FROM "Comment" c JOIN "Comment" p ON p.id = c."parentId"'),
    # threads
    "thread of every entity kind": _all_positive(
        'SELECT count("postId"), count("imageId"), count("articleId"), count("bountyId"), '
        'count("modelId"), count("reviewId"), count("bountyEntryId") FROM "Thread"', 7),
    "thread with no entity at all": _exists(
        'SELECT 1 FROM "Thread" WHERE COALESCE("postId", "imageId", "articleId", "bountyId", '
        '"modelId", "reviewId", "bountyEntryId", "questionId", "answerId", "commentId", '
        '"clubPostId", "parentThreadId") IS NULL'),
    "child thread of another entity's thread": _exists(
        'SELECT 1 FROM "Thread" t JOIN "Thread" r ON r.id = t."rootThreadId" '
        'WHERE t."parentThreadId" IS NOT NULL '
        'AND COALESCE(t."postId", t."imageId", t."articleId", t."bountyId") IS NULL '
        'AND COALESCE(r."postId", r."imageId", r."articleId", r."bountyId") IS NOT NULL'),
    "grandchild thread": _exists('SELECT 1 FROM "Thread" WHERE "parentThreadId" <> "rootThreadId"'),
    "comments in every thread kind": _all_positive(
        'SELECT count(t."postId"), count(t."imageId"), count(t."articleId"), count(t."bountyId"), '
        'count(t."parentThreadId"), count(*) FILTER (WHERE COALESCE(t."postId", t."imageId", '
        't."articleId", t."bountyId", t."modelId", t."reviewId", t."bountyEntryId", '
        't."parentThreadId") IS NULL) FROM "CommentV2" c JOIN "Thread" t ON t.id = c."threadId"', 6),
    # tips
    "tip entity types incl. User and unknown": (
        "SELECT array_agg(DISTINCT \"entityType\" ORDER BY \"entityType\") = "
        "ARRAY['Article', 'Collection', 'Image', 'Model', 'Post', 'User'] FROM \"BuzzTip\""),
    "large tips": 'SELECT max(amount) >= 1000000 FROM "BuzzTip"',
    "a User tip goes to that user": (
        "SELECT bool_and(\"entityId\" = \"toUserId\") FROM \"BuzzTip\" WHERE \"entityType\" = 'User'"),
    # shapes
    "skewed leading key: UserEngagement": (
        'SELECT max(n) >= 0.04 * sum(n) FROM (SELECT count(*) n FROM "UserEngagement" GROUP BY "userId") s'),
    "skewed leading key: TagEngagement": (
        'SELECT max(n) >= 0.04 * sum(n) FROM (SELECT count(*) n FROM "TagEngagement" GROUP BY "userId") s'),
    "skewed leading key: CollectionContributor": (
        'SELECT max(n) >= 0.1 * sum(n) FROM (SELECT count(*) n FROM "CollectionContributor" GROUP BY "userId") s'),
    "image using two versions of one model": _exists(
        'SELECT 1 FROM "ImageResourceNew" ir JOIN "ModelVersion" mv ON mv.id = ir."modelVersionId" '
        'GROUP BY ir."imageId", mv."modelId" HAVING count(*) >= 2'),
    "excluded version ids exist": 'SELECT count(*) = 3 FROM "ModelVersion" WHERE id IN (106916, 250708, 250712)',
    "rows after the cutoff": _exists('SELECT 1 FROM "ImageReaction" WHERE "createdAt" > \'2024-09-01\''),
    "rows before since": _exists('SELECT 1 FROM "ImageReaction" WHERE "createdAt" < \'2023-01-01\''),
    "ids with gaps": 'SELECT max(id) > count(*) FROM "Image"',
    "millisecond fractions": _exists(
        'SELECT 1 FROM "ImageReaction" WHERE date_part(\'milliseconds\', "createdAt")::numeric % 1000 <> 0'),
    "image owner is the post owner": (
        'SELECT bool_and(i."userId" = p."userId") FROM "Image" i JOIN "Post" p ON p.id = i."postId"'),
    "serial sequences past the data": (
        "SELECT nextval(pg_get_serial_sequence('\"Image\"', 'id')) > (SELECT max(id) FROM \"Image\")"),
}

EDGE_COLUMNS = [  # (table, column, rows that matter for a metric)
    ("ImageReaction", "createdAt", "true"),
    ("ArticleReaction", "createdAt", "true"),
    ("BountyEntryReaction", "createdAt", "true"),
    ("CollectionItem", "createdAt", "true"),
    ("CollectionItem", "updatedAt", '"createdAt" IS NULL'),
    ("Collection", "createdAt", "true"),
    ("CollectionContributor", "createdAt", "true"),
    ("CollectionContributor", "updatedAt", '"createdAt" IS NULL'),
    ("CommentV2", "createdAt", "true"),
    ("Comment", "createdAt", 'NOT "tosViolation"'),
    ("ResourceReview", "createdAt", 'NOT exclude AND NOT "tosViolation"'),
    ("UserEngagement", "createdAt", "true"),
    ("TagEngagement", "createdAt", "true"),
    ("BountyEngagement", "createdAt", "true"),
    ("BuzzTip", "createdAt", "true"),
    ("BountyBenefactor", "createdAt", "true"),
    ("BountyBenefactor", "awardedAt", '"awardedToId" IS NOT NULL'),
    ("Article", "publishedAt", "status = 'Published'"),
    ("Bounty", "createdAt", '"userId" IS NOT NULL'),
    ("BountyEntry", "createdAt", "true"),
    ("Image", "createdAt", 'id IN (SELECT "imageId" FROM "ImageResourceNew")'),
]
for _t, _c, _w in EDGE_COLUMNS:
    CHECKS[f"{_t}.{_c} at since/cutoff ±1 ms"] = (
        f'SELECT count(DISTINCT "{_c}") = 6 FROM "{_t}" WHERE "{_c}" = ANY({_EDGES}) AND {_w}')

REFERENCES = [  # (table, column, parent table): every non-NULL value names a parent id
    ("ImageReaction", "imageId", "Image"), ("ImageReaction", "userId", "User"),
    ("Image", "postId", "Post"), ("Image", "userId", "User"),
    ("ImageResourceNew", "imageId", "Image"), ("ImageResourceNew", "modelVersionId", "ModelVersion"),
    ("ModelVersion", "modelId", "Model"), ("Model", "userId", "User"),
    ("Post", "modelVersionId", "ModelVersion"), ("Post", "collectionId", "Collection"),
    ("ArticleReaction", "articleId", "Article"), ("Article", "userId", "User"),
    ("CollectionItem", "collectionId", "Collection"), ("CollectionItem", "imageId", "Image"),
    ("CollectionItem", "modelId", "Model"), ("CollectionItem", "postId", "Post"),
    ("CollectionItem", "articleId", "Article"), ("CollectionItem", "addedById", "User"),
    ("CollectionContributor", "collectionId", "Collection"), ("CollectionContributor", "userId", "User"),
    ("CommentV2", "threadId", "Thread"), ("CommentV2", "userId", "User"),
    ("Thread", "parentThreadId", "Thread"), ("Thread", "rootThreadId", "Thread"),
    ("Thread", "commentId", "CommentV2"), ("Thread", "imageId", "Image"), ("Thread", "postId", "Post"),
    ("Thread", "reviewId", "ResourceReview"), ("Thread", "modelId", "Model"),
    ("Thread", "articleId", "Article"), ("Thread", "bountyId", "Bounty"),
    ("Thread", "bountyEntryId", "BountyEntry"),
    ("Comment", "modelId", "Model"), ("Comment", "parentId", "Comment"),
    ("ResourceReview", "modelVersionId", "ModelVersion"), ("ResourceReview", "modelId", "Model"),
    ("UserEngagement", "userId", "User"), ("UserEngagement", "targetUserId", "User"),
    ("TagEngagement", "tagId", "Tag"), ("BountyEntry", "bountyId", "Bounty"),
    ("BountyEntryReaction", "bountyEntryId", "BountyEntry"), ("BountyBenefactor", "bountyId", "Bounty"),
    ("BountyBenefactor", "awardedToId", "BountyEntry"), ("BountyEngagement", "bountyId", "Bounty"),
    ("BuzzTip", "toUserId", "User"), ("BuzzTip", "fromUserId", "User"),
]
for _t, _c, _p in REFERENCES:
    CHECKS[f"{_t}.{_c} -> {_p}"] = (
        f'SELECT NOT EXISTS (SELECT 1 FROM "{_t}" x WHERE x."{_c}" IS NOT NULL '
        f'AND NOT EXISTS (SELECT 1 FROM "{_p}" y WHERE y.id = x."{_c}"))')


# -------------------------------------------------------------------------------------------
# fixtures


def _db_dsn(dsn: str, db: str) -> str:
    return dsn.rsplit("/", 1)[0] + "/" + db


@pytest.fixture(scope="module")
def cluster(env: Env) -> str:
    """The session's server, by its maintenance database: each test creates its own."""
    return _db_dsn(env.pg, "postgres")


@pytest.fixture(scope="module", params=[0.01, 0.05], ids=["scale0.01", "scale0.05"])
def loaded(request: pytest.FixtureRequest, cluster: str) -> tuple[str, dict[str, int], float]:
    """A fresh database per scale, loaded through ``load_pg``."""
    db = f"synth_{int(request.param * 100)}"
    with psycopg.connect(cluster, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}"')
        conn.execute(f'CREATE DATABASE "{db}"')
    dsn = _db_dsn(cluster, db)
    counts = load_pg(dsn, generate_pg(request.param, SEED))
    return dsn, counts, request.param


# -------------------------------------------------------------------------------------------
# Postgres


def test_load_creates_every_table_with_its_columns_and_types(
    loaded: tuple[str, dict[str, int], float],
) -> None:
    dsn, counts, _ = loaded
    with psycopg.connect(dsn) as conn:
        for table, columns in TABLES.items():
            rows = conn.execute(
                "SELECT column_name, data_type, udt_name, datetime_precision, is_nullable "
                "FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
                (table,)).fetchall()
            assert [r[0] for r in rows] == [c for c, _ in columns], table
            for name, data_type, udt, precision, nullable in rows:
                ddl = dict(columns)[name]
                if data_type.startswith("timestamp"):
                    assert (data_type, precision) == ("timestamp without time zone", 3)
                assert (nullable == "NO") == ("NOT NULL" in ddl or ddl == "serial"), (table, name)
                if udt.strip("_") in ENUMS:
                    assert f'"{udt.strip("_")}"' in ddl
            n = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            assert n == counts[table] > 0, table
        udt = conn.execute(
            "SELECT udt_name FROM information_schema.columns "
            "WHERE table_name = 'CollectionContributor' AND column_name = 'permissions'").fetchone()
        assert udt == ("_CollectionContributorPermission",)
        order = conn.execute(
            "SELECT array_agg(enumlabel ORDER BY enumsortorder) FROM pg_enum e "
            "JOIN pg_type t ON t.oid = e.enumtypid WHERE t.typname = 'CollectionContributorPermission'"
        ).fetchone()[0]
        assert order == ["VIEW", "ADD", "MANAGE", "ADD_REVIEW"]  # the database order
        pkey = conn.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'BuzzTip_pkey'"
        ).fetchone()
        assert pkey == ('PRIMARY KEY ("entityType", "entityId", "fromUserId")',)
        n_indexes = conn.execute(
            "SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'").fetchone()[0]
        assert n_indexes == len(TABLES) + len(INDEXES)


def test_edge_cases_are_present(loaded: tuple[str, dict[str, int], float]) -> None:
    dsn, _, _ = loaded
    with psycopg.connect(dsn) as conn:
        failed = [name for name, sql in CHECKS.items() if not conn.execute(sql).fetchone()[0]]
    assert failed == []


def test_loaded_rows_equal_the_frames(loaded: tuple[str, dict[str, int], float]) -> None:
    """Round trip: what Postgres returns is exactly what was generated (ms, NULLs, arrays)."""
    dsn, counts, scale = loaded
    frames = generate_pg(scale, SEED)
    with psycopg.connect(dsn) as conn:
        for table, df in frames.items():
            assert counts[table] == len(df)
            cols = ", ".join(
                f'"{c}"' + ("::text[]" if isinstance(t, pl.List) else "") for c, t in df.schema.items()
            )
            rows = conn.execute(f'SELECT {cols} FROM "{table}"').fetchall()
            db = pl.DataFrame(rows, schema=df.schema, orient="row")
            assert db.sort(df.columns).equals(df.sort(df.columns)), table


def test_binary_copy_encoder_round_trips_awkward_values(cluster: str) -> None:
    df = pl.DataFrame({
        "i": pl.Series([1, None, -2_147_483_648, 2_147_483_647], dtype=pl.Int32),
        "b": pl.Series([10**15, None, -1, 0], dtype=pl.Int64),
        "f": pl.Series([True, None, False, True]),
        "t": pl.Series([datetime(1970, 1, 1), None, datetime(1999, 12, 31, 23, 59, 59, 999000),
                        datetime(2024, 8, 7, 15, 44, 39, 44000)], dtype=pl.Datetime("ms")),
        "d": pl.Series([date(2000, 1, 1), date(1969, 12, 31), None, date(2024, 2, 29)]),
        "s": pl.Series(["", None, "Zoë 🎨, \"quoted\"\n", "x" * 5000]),
    })
    assert _pgbinary.supported(df)
    with psycopg.connect(cluster) as conn:
        conn.execute("CREATE TEMP TABLE bin (i integer, b bigint, f boolean, t timestamp(3), d date, s text)")
        with conn.cursor() as cur, cur.copy("COPY bin FROM STDIN (FORMAT binary)") as cp:
            for piece in _pgbinary.chunks(df, {"b"}, rows=3):
                cp.write(piece)
        back = pl.DataFrame(conn.execute("SELECT * FROM bin").fetchall(), schema=df.schema, orient="row")
    assert back.equals(df)


def test_schema_alone_with_every_index(cluster: str) -> None:
    with psycopg.connect(cluster, autocommit=True) as conn:
        conn.execute('DROP DATABASE IF EXISTS "synth_schema"')
        conn.execute('CREATE DATABASE "synth_schema"')
    with psycopg.connect(_db_dsn(cluster, "synth_schema")) as conn:
        create_pg_schema(conn, all_indexes=True)
    with psycopg.connect(_db_dsn(cluster, "synth_schema")) as conn:
        tables = {r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        assert tables == set(TABLES)
        with pytest.raises(psycopg.errors.DuplicateObject):
            create_pg_schema(conn)  # never clobbers an existing schema unless asked to


# -------------------------------------------------------------------------------------------
# ClickHouse (chdb, in a subprocess)

_CH_SCRIPT = textwrap.dedent("""
    import json, sys
    import clickhouse_connect
    from metric_backfill_lab.synth import generate_pg, seed

    path, pg_dsn, scale, seed_ = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    client = clickhouse_connect.get_client(dsn="chdb://" + path)
    counts = seed(pg_dsn, client, scale, seed_)
    mv = generate_pg(scale, seed_)["ModelVersion"]
    pg = ",".join(str(i) for i in mv["id"].to_list())

    def one(sql):
        return client.query(sql).result_rows[0][0]

    E = "default.modelVersionEvents"
    J = "orchestration.jobs"
    B = "default.buzz_resource_compensation"
    out = {"counts": counts, "rows": {t: one(f"SELECT count() FROM {t}") for t in (E, J, B)}}
    out["event_types"] = one(f"SELECT groupUniqArray(toString(type)) FROM {E}")
    out["downloads_share"] = one(f"SELECT countIf(type = 'Download') / count() FROM {E}")
    out["model_0"] = one(f"SELECT countIf(modelId = 0) FROM {E}")
    out["version_0"] = one(f"SELECT countIf(modelVersionId = 0) FROM {E}")
    out["anonymous_downloads"] = one(f"SELECT countIf(userId = 0 AND type = 'Download') FROM {E}")
    out["events_missing_share"] = one(
        f"SELECT countIf(modelVersionId NOT IN ({pg}) AND modelVersionId != 0) / count() FROM {E}")
    out["event_edges"] = one(
        f"SELECT uniqExact(time) FROM {E} WHERE type = 'Download' AND time IN ("
        "'2023-05-31 23:59:59', '2023-06-01 00:00:00', '2023-06-01 00:00:01', "
        "'2024-08-07 15:44:38', '2024-08-07 15:44:39', '2024-08-07 15:44:40')")
    out["job_types"] = one(f"SELECT groupUniqArray(jobType) FROM {J}")
    out["job_lengths"] = one(f"SELECT groupUniqArray(length(resourcesUsed)) FROM {J}")
    out["jobs_with_excluded"] = [one(f"SELECT countIf(has(resourcesUsed, {v})) FROM {J}")
                                 for v in (106916, 250708, 250712)]
    out["jobs_missing_versions"] = one(
        f"SELECT count() FROM {J} ARRAY JOIN resourcesUsed AS v WHERE v NOT IN ({pg})")
    out["blobs_0"] = one(f"SELECT countIf(blobsCount = 0) FROM {J}")
    out["blobs_more"] = one(f"SELECT countIf(blobsCount > 0) FROM {J}")
    out["job_edges"] = one(
        f"SELECT uniqExact(createdAt) FROM {J} WHERE length(resourcesUsed) > 0 AND jobType IN "
        "('TextToImageV2', 'TextToImage', 'Comfy', 'comfyVideoGen') AND createdAt IN ("
        "toDateTime64('2023-05-31 23:59:59.999', 3), toDateTime64('2023-06-01 00:00:00.000', 3), "
        "toDateTime64('2023-06-01 00:00:00.001', 3), toDateTime64('2024-08-07 15:44:39.043', 3), "
        "toDateTime64('2024-08-07 15:44:39.044', 3), toDateTime64('2024-08-07 15:44:39.045', 3))")
    out["brc_rows"] = one(f"SELECT count() FROM {B}")
    out["brc_final_rows"] = one(f"SELECT count() FROM {B} FINAL")
    out["brc_keys"] = one(f"SELECT uniqExact(date, modelVersionId) FROM {B}")
    out["brc_parts"] = one("SELECT count() FROM system.parts WHERE database = 'default' "
                           "AND table = 'buzz_resource_compensation' AND active")
    out["brc_final_is_latest"] = one(
        f"SELECT count() FROM (SELECT date, modelVersionId, argMax(total, updated_at) AS t "
        f"FROM {B} GROUP BY date, modelVersionId) a "
        f"JOIN (SELECT date, modelVersionId, total FROM {B} FINAL) b USING (date, modelVersionId) "
        "WHERE a.t != b.total")
    out["brc_missing"] = one(
        f"SELECT countIf(modelVersionId NOT IN ({pg}) AND modelVersionId != 0) FROM {B}")
    out["brc_edge_days"] = one(
        f"SELECT uniqExact(date) FROM {B} WHERE date IN ('2023-05-31 00:00:00', "
        "'2023-06-01 00:00:00', '2024-08-06 00:00:00', '2024-08-07 00:00:00', '2024-08-08 00:00:00')")
    print(json.dumps(out))
""")


def test_seed_fills_postgres_and_chdb(cluster: str, tmp_path: Path) -> None:
    """``seed`` end to end; chdb runs in a subprocess (one chdb path per process)."""
    with psycopg.connect(cluster, autocommit=True) as conn:
        conn.execute('DROP DATABASE IF EXISTS "synth_seed"')
        conn.execute('CREATE DATABASE "synth_seed"')
    pg_dsn = _db_dsn(cluster, "synth_seed")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(
        [sys.executable, "-c", _CH_SCRIPT, str(tmp_path / "ch"), pg_dsn, "0.02", str(SEED)],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert {t: out["counts"][t] for t in out["rows"]} == out["rows"]
    with psycopg.connect(pg_dsn) as conn:
        for table in TABLES:
            n = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            assert n == out["counts"][table] > 0, table
    assert sorted(out["event_types"]) == ["Create", "Download", "HideDownload", "Publish", "Unpublish"]
    assert out["downloads_share"] > 0.5
    assert out["model_0"] > 0 and out["version_0"] > 0 and out["anonymous_downloads"] > 0
    assert 0 < out["events_missing_share"] < 0.1
    assert out["event_edges"] == 6
    assert {"TextToImageV2", "TextToImage", "Comfy", "comfyVideoGen"} < set(out["job_types"])
    assert sorted(out["job_lengths"]) == [0, 1, 2, 3, 4]
    assert all(n > 0 for n in out["jobs_with_excluded"]), EXCLUDED_VERSIONS
    assert out["jobs_missing_versions"] > 0
    assert out["blobs_0"] > 0 and out["blobs_more"] > 0
    assert out["job_edges"] == 6
    assert out["brc_rows"] > out["brc_final_rows"] == out["brc_keys"]  # unmerged duplicates
    assert out["brc_parts"] >= 3
    assert out["brc_final_is_latest"] == 0
    assert out["brc_missing"] > 0
    assert out["brc_edge_days"] == 5
