"""The three ClickHouse source tables (SCHEMA.md §4): DDL, deterministic rows, Arrow inserts.

Rows mostly reference the Postgres ModelVersion ids they are given, plus the cases the backfill
must skip or treat specially: modelId/modelVersionId 0, versions missing from Postgres, the
excluded version ids, blobsCount 0, and unmerged duplicates in the ReplacingMergeTree table.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from ._util import Array, Picker, child_rng, choice, dedupe, pick, times, zipf_weights
from .constants import CH_SIZES, DAY_MS, EDGE_MS, EDGE_S, PG_SIZES, SINCE_MS, size, to_ms
from .pg import EXCLUDED_VERSIONS, model_versions

MVE = "default.modelVersionEvents"
JOBS = "orchestration.jobs"
BRC = "default.buzz_resource_compensation"

DDL: dict[str, str] = {
    MVE: """CREATE TABLE IF NOT EXISTS default.modelVersionEvents (
    type Enum8('Create' = 1, 'Publish' = 2, 'Download' = 3, 'Unpublish' = 4, 'HideDownload' = 5),
    time DateTime DEFAULT now(),
    userId Int32 DEFAULT 0,
    modelId Int32,
    modelVersionId Int32,
    nsfw Bool,
    ip String DEFAULT '',
    userAgent String DEFAULT '',
    createdDate Date MATERIALIZED toDate(time),
    earlyAccess Bool DEFAULT false,
    deviceId String DEFAULT ''
) ENGINE = MergeTree()
PARTITION BY toYYYYMM(createdDate)
ORDER BY (time, type, modelId, modelVersionId)
SETTINGS index_granularity = 8192""",
    JOBS: """CREATE TABLE IF NOT EXISTS orchestration.jobs (
    jobId String,
    userId Int32,
    jobType LowCardinality(String),
    createdAt DateTime64(3),
    completedAt DateTime64(3),
    provider LowCardinality(String),
    issuedBy String,
    cost Float64,
    creatorsTip Nullable(Float64),
    resourcesUsed Array(Int32) DEFAULT [],
    remixOfId Nullable(String),
    blobsCount UInt16
) ENGINE = MergeTree()
ORDER BY createdAt
SETTINGS index_granularity = 8192""",
    # The merge-size limits keep the duplicate rows in separate, unmerged parts, so only FINAL
    # (not luck with background merges) gives the deduplicated answer.
    BRC: """CREATE TABLE IF NOT EXISTS default.buzz_resource_compensation (
    date DateTime,
    modelVersionId Int32,
    comp UInt32,
    tip UInt32,
    total UInt32,
    updated_at DateTime DEFAULT now()
) ENGINE = ReplacingMergeTree()
ORDER BY (date, modelVersionId)
SETTINGS index_granularity = 8192, max_bytes_to_merge_at_max_space_in_pool = 1,
    max_bytes_to_merge_at_min_space_in_pool = 1""",
}

COUNTED_JOB_TYPES = ["TextToImageV2", "TextToImage", "Comfy", "comfyVideoGen"]
JOB_TYPES = [*COUNTED_JOB_TYPES, "Training", "ImageResourceTraining"]
JOB_TYPE_P = [0.45, 0.15, 0.2, 0.05, 0.1, 0.05]
EVENT_TYPES = ["Create", "Publish", "Download", "Unpublish", "HideDownload"]
EVENT_TYPE_P = [0.04, 0.05, 0.8, 0.03, 0.08]
JOBS_START_MS = to_ms(datetime(2023, 1, 1))
BRC_START_MS = SINCE_MS - 31 * DAY_MS


def _str(series: pl.Series) -> pa.Array:
    """A plain Arrow utf8 array (ClickHouse's Arrow input does not read string views)."""
    return series.to_arrow().cast(pa.string())


class _Versions:
    """The version-id universe of the CH rows: PG versions (Zipf), missing ones, excluded ones."""

    def __init__(self, rng: np.random.Generator, ids: Array, model_ids: Array) -> None:
        self.ids, self.model_ids = ids, model_ids
        self.pop = zipf_weights(rng, len(ids), 1.05)
        top = int(ids.max()) if len(ids) else 0
        k = max(20, len(ids) // 20)
        missing = top + 1 + rng.choice(10 * k, size=k, replace=False)
        gaps = np.setdiff1d(np.arange(1, top + 1), ids)  # holes in the PG id sequence
        if len(gaps):
            missing[: k // 2] = rng.choice(gaps, size=k // 2)
        self.missing = np.unique(missing)
        self.missing_model = 1 + self.missing // 3

    def sample(self, rng: np.random.Generator, n: int, p_missing: float) -> tuple[Array, Array]:
        """(modelVersionId, modelId) pairs; a share ``p_missing`` is absent from Postgres."""
        idx = pick(rng, len(self.ids), n, self.pop)
        ver, model = self.ids[idx].copy(), self.model_ids[idx].copy()
        miss = rng.random(n) < p_missing
        j = rng.integers(0, len(self.missing), size=int(miss.sum()))
        ver[miss], model[miss] = self.missing[j], self.missing_model[j]
        return ver, model


def _model_ids(scale: float, seed: int, ids: Array) -> Array:
    """modelId for each version id: from the PG generator, else a stable stand-in."""
    mv = model_versions(scale, seed).sort("id")
    known, models = mv["id"].to_numpy(), mv["modelId"].to_numpy()
    pos = np.minimum(np.searchsorted(known, ids), len(known) - 1)
    return np.where(known[pos] == ids, models[pos], 1 + ids // 3).astype(np.int64)


def _events(rng: np.random.Generator, n: int, versions: _Versions, users: int) -> pa.Table:
    ver, model = versions.sample(rng, n, 0.03)
    typ = choice(rng, n, EVENT_TYPE_P)
    ts = times(rng, n, skew=0.6) // 1000
    anon = rng.random(n) < 0.35
    user = np.where(anon, 0, 1 + pick(rng, users, n, zipf_weights(rng, users, 0.9)))
    model[rng.random(n) < 0.002] = 0
    ver[rng.random(n) < 0.002] = 0
    picker = Picker(rng, n)
    typ[picker.pick(5)] = np.arange(5)
    model[picker.pick(3)] = 0
    ver[picker.pick(3)] = 0
    rows = picker.pick(1)
    model[rows], ver[rows] = 0, 0
    rows = picker.pick(len(EDGE_S), (model != 0) & (ver != 0))
    typ[rows], ts[rows] = 2, EDGE_S[: len(rows)]
    rows = picker.pick(3, (model != 0) & (ver != 0))
    typ[rows], user[rows] = 2, 0  # anonymous downloads
    order = np.argsort(ts, kind="stable")
    typ, ts, user, model, ver, anon = (a[order] for a in (typ, ts, user, model, ver, anon))
    ip = pl.DataFrame({"a": rng.integers(1, 255, n), "b": rng.integers(0, 255, n),
                       "c": rng.integers(1, 255, n)}).select(
        pl.format("10.{}.{}.{}", "a", "b", "c")).to_series()
    agents = ["Mozilla/5.0", "python-requests/2.31", "ComfyUI/0.2", "curl/8.0"]
    return pa.table({
        "type": _str(pl.Series(EVENT_TYPES).gather(typ)),
        "time": pa.array(ts, pa.timestamp("s")),
        "userId": pa.array(user, pa.int32()),
        "modelId": pa.array(model, pa.int32()),
        "modelVersionId": pa.array(ver, pa.int32()),
        "nsfw": pa.array(rng.random(n) < 0.2),
        "ip": _str(ip),
        "userAgent": _str(pl.Series(agents).gather(choice(rng, n, [0.7, 0.1, 0.15, 0.05]))),
        "earlyAccess": pa.array(rng.random(n) < 0.02),
        "deviceId": _str(pl.Series(rng.integers(0, 2**62, n)).cast(pl.String)),
    })


def _jobs(rng: np.random.Generator, n: int, versions: _Versions, users: int) -> pa.Table:
    typ = choice(rng, n, JOB_TYPE_P)
    created = times(rng, n, lo=JOBS_START_MS, skew=0.5)
    lengths = choice(rng, n, [0.1, 0.4, 0.3, 0.15, 0.05])
    blobs = rng.choice([0, 1, 2, 4, 8, 16], size=n, p=[0.2, 0.3, 0.15, 0.25, 0.07, 0.03])
    picker = Picker(rng, n)
    counted = typ < len(COUNTED_JOB_TYPES)
    typ[picker.pick(len(JOB_TYPES))] = np.arange(len(JOB_TYPES))
    rows = picker.pick(len(EDGE_MS))
    typ[rows], created[rows], lengths[rows] = rows % 4, EDGE_MS[: len(rows)], 2
    excluded_rows = picker.pick(len(EXCLUDED_VERSIONS), counted)
    lengths[excluded_rows] = 2
    lengths[picker.pick(2)] = 4
    lengths[picker.pick(2)] = 0
    blobs[picker.pick(2, counted)] = 0
    blobs[picker.pick(2, counted)] = 3

    row = np.repeat(np.arange(n), lengths)
    ver, _ = versions.sample(rng, len(row), 0.06)
    common = rng.random(len(row)) < 0.04  # the excluded versions are popular checkpoints
    ver[common] = rng.choice(EXCLUDED_VERSIONS, size=int(common.sum()))
    starts = np.cumsum(lengths) - lengths
    ver[starts[excluded_rows]] = EXCLUDED_VERSIONS[: len(excluded_rows)]
    keep = dedupe([row, ver - ver.min()])  # a job lists a version once
    row, ver = row[keep], ver[keep]
    lengths = np.bincount(row, minlength=n)

    # rows in createdAt order (the table's sort key); the flat list values follow their rows
    order = np.argsort(created, kind="stable")
    inverse = np.empty(n, np.int64)
    inverse[order] = np.arange(n)
    values = ver[np.argsort(inverse[row], kind="stable")]
    new_off = np.concatenate([[0], np.cumsum(lengths[order])]).astype(np.int32)
    typ, created, blobs = typ[order], created[order], blobs[order]
    user = 1 + pick(rng, users, n, zipf_weights(rng, users, 1.1))
    tip_null = rng.random(n) < 0.7
    remix_null = rng.random(n) < 0.95
    job_hex = pl.Series(rng.integers(0, 2**62, n)).cast(pl.String)
    return pa.table({
        "jobId": _str(pl.select(pl.format("job-{}", pl.lit(job_hex))).to_series()),
        "userId": pa.array(user, pa.int32()),
        "jobType": _str(pl.Series(JOB_TYPES).gather(typ)),
        "createdAt": pa.array(created, pa.timestamp("ms")),
        "completedAt": pa.array(created + rng.integers(1_000, 120_000, n), pa.timestamp("ms")),
        "provider": _str(pl.Series(["Civitai", "RunPod", "Vast"]).gather(choice(rng, n, [0.6, 0.3, 0.1]))),
        "issuedBy": _str(pl.Series(["civitai-app"] * n)),
        "cost": pa.array(np.round(rng.gamma(2.0, 3.0, n), 2)),
        "creatorsTip": pa.array(np.round(rng.random(n) * 2, 2), mask=tip_null),
        "resourcesUsed": pa.ListArray.from_arrays(pa.array(new_off, pa.int32()),
                                                  pa.array(values, pa.int32())),
        "remixOfId": pa.array(job_hex.to_list(), pa.string(), mask=remix_null),
        "blobsCount": pa.array(blobs, pa.uint16()),
    })


def _compensation(rng: np.random.Generator, n: int, versions: _Versions) -> list[pa.Table]:
    """Base rows, then re-computed rows for some (date, version) keys in separate inserts."""
    days = times(rng, n, lo=BRC_START_MS, skew=0.5) // DAY_MS
    ver, _ = versions.sample(rng, n, 0.04)
    picker = Picker(rng, n)
    ver[picker.pick(2)] = 0
    ver[picker.pick(2)] = versions.missing[:2]
    cutoff_day = int(EDGE_MS[4] // DAY_MS)
    since_day = int(SINCE_MS // DAY_MS)
    edge_days = np.array([since_day - 1, since_day, since_day + 1,
                          cutoff_day - 1, cutoff_day, cutoff_day + 1])
    edge_rows = picker.pick(len(edge_days), np.isin(ver, versions.ids))
    days[edge_rows] = edge_days[: len(edge_rows)]
    prio = np.ones(n, np.int64)
    prio[picker.taken] = 0
    keep = dedupe([days, ver - ver.min()], prio)
    days, ver, prio = days[keep], ver[keep], prio[keep]
    m = len(days)

    def table(rows: Array, bump: int) -> pa.Table:
        k = len(rows)
        comp = (rng.pareto(1.5, k) * 50).astype(np.int64) + rng.integers(0, 20, k)
        tip = np.where(rng.random(k) < 0.3, rng.integers(1, 500, k), 0)
        updated = (days[rows] + 1) * 86_400 + bump * 3_600 + rng.integers(0, 3_600, k)
        return pa.table({
            "date": pa.array(days[rows] * 86_400, pa.timestamp("s")),
            "modelVersionId": pa.array(ver[rows], pa.int32()),
            "comp": pa.array(comp, pa.uint32()),
            "tip": pa.array(tip, pa.uint32()),
            "total": pa.array(comp + tip, pa.uint32()),
            "updated_at": pa.array(updated, pa.timestamp("s")),
        })

    order = np.lexsort([ver, days])
    second = Picker(rng, m)
    dup = np.concatenate([
        second.pick(max(5, m // 20)),
        second.pick(2, prio == 0),  # an edge day recomputed
        second.pick(2, ~np.isin(ver, versions.ids) & (ver != 0)),  # a version missing from PG
    ])
    third = dup[: max(2, len(dup) // 5)]
    return [table(order, 0), table(np.sort(dup), 6), table(np.sort(third), 12)]


def generate_clickhouse(scale: float, seed: int, model_version_ids: Any,
                        model_ids: Any = None, user_count: int | None = None
                        ) -> dict[str, list[pa.Table]]:
    """Arrow tables per ClickHouse table, one per insert (the compensation table gets three)."""
    ids = np.asarray(pl.Series(model_version_ids).to_numpy(), dtype=np.int64)
    models = (np.asarray(pl.Series(model_ids).to_numpy(), dtype=np.int64)
              if model_ids is not None else _model_ids(scale, seed, ids))
    users = user_count or size(PG_SIZES, "User", scale)
    rng = child_rng(seed, "ch.versions")
    versions = _Versions(rng, ids, models)
    return {
        MVE: [_events(child_rng(seed, MVE), size(CH_SIZES, "modelVersionEvents", scale),
                      versions, users)],
        JOBS: [_jobs(child_rng(seed, JOBS), size(CH_SIZES, "jobs", scale), versions, users)],
        BRC: _compensation(child_rng(seed, BRC), size(CH_SIZES, "buzz_resource_compensation", scale),
                           versions),
    }


def create_clickhouse_schema(client: Any, replace: bool = False) -> None:
    """The three source tables (and the ``orchestration`` database), if missing."""
    client.command("CREATE DATABASE IF NOT EXISTS orchestration")
    for name, ddl in DDL.items():
        if replace:
            client.command(f"DROP TABLE IF EXISTS {name}")
        client.command(ddl)


def seed_clickhouse(client: Any, scale: float, seed: int, model_version_ids: Any = None,
                    model_ids: Any = None, *, replace: bool = False) -> dict[str, int]:
    """Create the ClickHouse source tables and insert synthetic rows; rows inserted per table.

    ``model_version_ids`` (and optionally the matching ``model_ids``) are the Postgres
    ModelVersion ids; without them the Postgres generator's versions for (scale, seed) are used.
    ``client`` is a clickhouse-connect client (chdb or server); chdb is single-threaded, so
    inserts run one after another. ``replace`` drops the tables first.
    """
    if model_version_ids is None:
        mv = model_versions(scale, seed)
        model_version_ids, model_ids = mv["id"], mv["modelId"]
    tables = generate_clickhouse(scale, seed, model_version_ids, model_ids)
    return insert_clickhouse(client, tables, replace=replace)


def insert_clickhouse(client: Any, tables: dict[str, list[pa.Table]], *,
                      replace: bool = False) -> dict[str, int]:
    """Create the ClickHouse source tables and insert ``tables`` (``generate_clickhouse``'s
    output), one insert per Arrow table; rows inserted per table."""
    create_clickhouse_schema(client, replace=replace)
    counts: dict[str, int] = {}
    for name, parts in tables.items():
        database, table = name.split(".")
        for t in parts:  # separate inserts: separate parts, unmerged duplicates
            client.insert_arrow(table, t, database=database)
        counts[name] = sum(t.num_rows for t in parts)
    return counts

