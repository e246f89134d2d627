"""The metric-backfill benchmark: every stage measured on the same data, in the same run.

    python benchmarks/run.py [--quick] [--scale S] [--json FILE] [--packages a,b] [--dir DIR]
                             [--curve-scales 3,10,30] [--concurrency-curve 1,2,4] [--repeat 3]

It starts its own embedded Postgres (one cluster, one database per scale: the main ``--scale``
and every ``--curve-scales`` one) and seeds chdb source tables, then measures over the Postgres
packages:

* read floor      binary ``COPY (SELECT <columns> FROM <from> WHERE <window>) TO STDOUT`` through
                  psycopg, bytes discarded (also per batch, with the engine's exact batch SQL);
* reader          ConnectorX on the engine's batch queries → Polars (what the engine uses), and
                  ADBC's Postgres driver on the same queries (results compared for equality);
* transform       ``explode`` + the engine's cast to the event Arrow schema, over pre-read batches;
* insert          ``insert_arrow`` (with tokens, as the engine) of pre-built event tables into a
                  fresh chdb table;
* batch plans     ``EXPLAIN (COSTS OFF)`` of every package's middle batch query;
* native          one chdb start, then ``INSERT INTO t SELECT … FROM postgresql(…)`` run by chdb
                  itself for buzz_tip, user_engagement and image_reaction (``--repeat`` runs);
* headline e2e    one ``metric-backfill run`` process over those three packages, fixed costs
                  included (``--repeat`` runs), and each of them alone;
* scale curve     ``Runner.run()`` over all Postgres packages (and the ClickHouse packages) at
                  every curve scale, peak RSS of each child;
* verify          ``metric-backfill verify`` on the target of the main-scale run;
* concurrency     all Postgres packages end to end at every ``--concurrency-curve`` value;
* row-wise        the reference approach (psycopg rows → a dict per event in a Python loop →
                  JSONEachRow inserts of 500 events) on a sample, extrapolated per row;

and writes ``results.json`` and ``RESULTS.md`` (by default under benchmarks/). Everything that
opens chdb runs in a child process with a chdb path of its own (chdb allows one path per
process). The machine's load average is recorded around every phase: on a shared 2-core machine
other work skews the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

os.environ.setdefault("TZ", "UTC")
os.environ.setdefault("RUST_LOG", "off")

HERE = Path(__file__).resolve().parent
DEFAULT_SCALE = 10.0
QUICK_SCALE = 1.0
SEED = 42
NATIVE_PACKAGES = ("buzz_tip", "user_engagement", "image_reaction")
ROWWISE_ROWS = 50_000
ROWWISE_CHUNK = 500
PG_DB = "civitai"
CURVE_SCALES = (3.0, 10.0, 30.0)
CONCURRENCY_CURVE = (1, 2, 4)
QUICK_CONCURRENCY_CURVE = (1, 2)
REPEAT = 3
VERSIONED = ("polars", "pyarrow", "connectorx", "chdb", "clickhouse-connect", "psycopg",
             "adbc-driver-postgresql", "adbc-driver-manager")


# ========================================================================================
# helpers


def now() -> float:
    return time.perf_counter()


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def rate(n: float, seconds: float) -> float | None:
    return n / seconds if seconds > 0 else None


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    versions = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "engine": engine_revision(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": mem_gib,
        "os": f"{platform.system()} {platform.release()}",
        "versions": versions,
    }


def engine_revision() -> str | None:
    """The project's git commit, with '+changes' when the engine's files differ from it."""
    import subprocess

    root = HERE.parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src", "transforms"], cwd=root,
                               capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    changed = [line for line in dirty.splitlines() if not line.endswith("bench.py")]
    return head + ("+changes" if changed else "")


def child_command() -> list[str]:
    return [sys.executable, str(Path(__file__).resolve())]


def run_child(kind: str, spec: dict[str, Any], workdir: Path) -> dict[str, Any]:
    from metric_backfill_lab.bench import run_child as _run

    return _run({**spec, "kind": kind}, workdir, command=child_command())


# ========================================================================================
# children (each opens at most one chdb path)


def child_seed(spec: dict[str, Any]) -> dict[str, Any]:
    from metric_backfill.clickhouse import ClickHouse
    from metric_backfill_lab.synth import seed

    t0 = now()
    counts = seed(spec["pg"], ClickHouse(f"chdb://{spec['ch']}").client(), spec["scale"], spec["seed"])
    return {"counts": counts, "seconds": now() - t0}


def child_misc(spec: dict[str, Any]) -> dict[str, Any]:
    """Insert alone, the ClickHouse packages' read/transform/insert and row-wise."""
    from metric_backfill.clickhouse import ClickHouse

    ch = ClickHouse(f"chdb://{spec['ch']}")
    out: dict[str, Any] = {"chdb_version": ch.query_rows("SELECT version()")[0][0]}
    out["insert"] = measure_insert(ch, Path(spec["events_dir"]), spec["pg_packages"])
    out["clickhouse_packages"] = measure_ch_packages(ch, spec["pg"], spec["ch_packages"], spec["batch_size"])
    out["rowwise"] = {
        name: measure_rowwise(ch, spec["pg"], name, spec["rowwise_rows"]) for name in spec["rowwise"]
    }
    return out


def child_native(spec: dict[str, Any]) -> dict[str, Any]:
    """One chdb start on a fresh path (from before the ClickHouse object is made to the answer
    of its first ``SELECT 1``: importing clickhouse-connect and chdb included), then the native
    statements one after the other."""
    from metric_backfill.clickhouse import ClickHouse  # imports neither chdb nor clickhouse-connect

    imported_before = "chdb" in sys.modules
    t0 = now()
    ch = ClickHouse(f"chdb://{spec['ch']}")
    ch.query_rows("SELECT 1")
    start = now() - t0
    statements = {
        name: measure_native(ch, spec["pg_port"], spec["pg_db"], name) for name in spec["native"]
    }
    return {"chdb_start_seconds": start, "chdb_imported_before": imported_before,
            "statements": statements,
            "total_seconds": start + sum(x["seconds"] for x in statements.values())}


def child_main(spec_file: str) -> int:
    spec = json.loads(Path(spec_file).read_text())
    fn = {"seed": child_seed, "misc": child_misc, "native": child_native}[spec["kind"]]
    Path(spec["out"]).write_text(json.dumps(fn(spec), default=str))
    if spec["kind"] != "seed":  # the seeded chdb path is kept: let chdb shut down cleanly
        from metric_backfill_lab.bench import fast_exit

        fast_exit()
    return 0


# ========================================================================================
# Postgres side, in the parent (no chdb here)


def window() -> Any:
    from metric_backfill.defaults import DEFAULT_CUTOFF
    from metric_backfill.events import Window

    return Window(cutoff=DEFAULT_CUTOFF)


def measure_pg(dsn: str, names: list[str], batch_size: int | None, events_dir: Path) -> dict[str, Any]:
    """floor (COPY), ConnectorX, ADBC, transform for every Postgres package; writes the event
    tables (one Arrow IPC file per batch) for the insert-alone measurement."""
    from metric_backfill import registry
    from metric_backfill.sources import PostgresSource

    src = PostgresSource(dsn)
    pkgs = [registry.all_packages()[n] for n in names]
    log("planning and counting (warm-up)")
    res, sqls, whole = plan_queries(dsn, src, pkgs, batch_size)
    phase_load: dict[str, list[float]] = {}
    log("read floor: binary COPY through psycopg")
    measure_floor(dsn, pkgs, res, sqls, whole)
    phase_load["floor"] = load()
    log("reader: ConnectorX → Polars on the batch queries")
    frames = {}
    for pkg in pkgs:
        t0 = now()
        frames[pkg.name] = [src.fetch(sql, pkg.pg_settings) for sql in sqls[pkg.name]]
        res[pkg.name]["reader_seconds"] = now() - t0
        res[pkg.name]["reader_rows"] = sum(f.height for f in frames[pkg.name])
    phase_load["reader"] = load()
    log("reader: ADBC (adbc-driver-postgresql) → Polars on the same queries")
    measure_adbc(dsn, pkgs, res, sqls, frames)
    phase_load["adbc"] = load()
    log("transform: explode + cast to the event schema over the pre-read batches")
    for pkg in pkgs:
        res[pkg.name].update(measure_transform(pkg, src, frames.pop(pkg.name), events_dir / pkg.name))
    phase_load["transform"] = load()
    return {"packages": res, "load_avg": phase_load}


def plan_queries(dsn: str, src: Any, pkgs: list[Any], batch_size: int | None
                 ) -> tuple[dict[str, dict[str, Any]], dict[str, list[str]], dict[str, str]]:
    """Every package's batch queries and whole-table query; counts its rows (warming the cache)."""
    import psycopg

    from metric_backfill.plan import plan_package
    from metric_backfill.sources import window_sql

    w = window()
    res: dict[str, dict[str, Any]] = {}
    sqls: dict[str, list[str]] = {}
    whole: dict[str, str] = {}
    with psycopg.connect(dsn, autocommit=True) as conn:
        for pkg in pkgs:
            plan = plan_package(pkg, src, w, batch_size or pkg.default_batch_size)
            sqls[pkg.name] = [b.sql(pkg, src, w) for b in plan.batches]
            whole[pkg.name] = f"SELECT {pkg.columns} FROM {pkg.from_sql} WHERE {window_sql(pkg, src, w)}"
            n = conn.execute(f"SELECT count(*) FROM ({whole[pkg.name]}) q").fetchone()[0]
            res[pkg.name] = {"rows": int(n), "batches": len(sqls[pkg.name])}
    return res, sqls, whole


def _copy_bytes(conn: Any, sql: str) -> int:
    nbytes = 0
    with conn.cursor().copy(f"COPY ({sql}) TO STDOUT (FORMAT binary)") as cp:
        for data in cp:
            nbytes += len(data)
    return nbytes


def measure_floor(dsn: str, pkgs: list[Any], res: dict[str, dict[str, Any]],
                  sqls: dict[str, list[str]], whole: dict[str, str]) -> None:
    """Binary COPY of each package's rows, one query, then one query per batch."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        for pkg in pkgs:
            t0 = now()
            res[pkg.name]["copy_bytes"] = _copy_bytes(conn, whole[pkg.name])
            res[pkg.name]["floor_seconds"] = now() - t0
            t0 = now()
            for sql in sqls[pkg.name]:
                _copy_bytes(conn, sql)
            res[pkg.name]["floor_batched_seconds"] = now() - t0


def measure_adbc(dsn: str, pkgs: list[Any], res: dict[str, dict[str, Any]],
                 sqls: dict[str, list[str]], frames: dict[str, list[Any]]) -> None:
    """ADBC's Postgres driver on the batch queries, frames compared with ConnectorX's."""
    import adbc_driver_postgresql.dbapi as adbc
    import polars as pl

    for pkg in pkgs:
        got = []
        t0 = now()
        with adbc.connect(dsn) as conn:
            for sql in sqls[pkg.name]:
                with conn.cursor() as cur:
                    cur.execute(sql)
                    got.append(pl.from_arrow(cur.fetch_arrow_table()))
        res[pkg.name]["adbc_seconds"] = now() - t0
        res[pkg.name]["adbc_equal"] = all(
            a.equals(b) and a.schema == b.schema for a, b in zip(got, frames[pkg.name], strict=True)
        )
        if not res[pkg.name]["adbc_equal"]:
            a, b = got[0], frames[pkg.name][0]
            res[pkg.name]["adbc_difference"] = f"adbc {dict(a.schema)} vs connectorx {dict(b.schema)}"
        del got


def measure_transform(pkg: Any, src: Any, frames: list[Any], pdir: Path) -> dict[str, Any]:
    """explode + cast to Arrow over the pre-read batches; the event tables go to ``pdir``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from metric_backfill.defaults import default_params
    from metric_backfill.events import event_table, explode
    from metric_backfill.package import Context
    from metric_backfill.sources import load_lookups

    w = window()
    ctx = Context(lookups=load_lookups([pkg], src), params=default_params())
    tables = []
    t_explode = t_arrow = 0.0
    for rows in frames:
        t0 = now()
        ex = explode(pkg, rows, w, ctx)
        t1 = now()
        tables.append(event_table(pkg, ex.events))
        t_arrow += now() - t1
        t_explode += t1 - t0
    pdir.mkdir(parents=True, exist_ok=True)
    for i, t in enumerate(tables):
        with pa.OSFile(str(pdir / f"{i:06d}.arrow"), "wb") as f, pa.ipc.new_file(f, t.schema) as wr:
            wr.write_table(t)
    return {
        "explode_seconds": t_explode, "to_arrow_seconds": t_arrow,
        "transform_seconds": t_explode + t_arrow, "events": sum(t.num_rows for t in tables),
        "metric_value_sum": int(sum(
            pc.sum(t.column("metricValue").cast(pa.int64())).as_py() or 0 for t in tables
        )),
    }


def vacuum(dsn: str) -> float:
    import psycopg

    t0 = now()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    return now() - t0


def server_version(dsn: str) -> str:
    import psycopg

    with psycopg.connect(dsn) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


# ========================================================================================
# chdb side (inside the misc child)


def measure_insert(ch: Any, events_dir: Path, names: list[str]) -> dict[str, Any]:
    """insert_arrow of the pre-built event tables, one insert per batch with a token (as the engine)."""
    import pyarrow as pa

    from metric_backfill.target import Target

    target = Target(ch, "bench_insert")
    target.ensure()
    out: dict[str, Any] = {}
    for name in names:
        files = sorted((events_dir / name).glob("*.arrow"))
        tables = [pa.ipc.open_file(pa.memory_map(str(f))).read_all() for f in files]
        tables = [pa.Table.from_batches(t.combine_chunks().to_batches(), schema=t.schema) for t in tables]
        events = sum(t.num_rows for t in tables)
        t0 = now()
        for i, t in enumerate(tables):
            target.insert(t, f"bench-insert:{name}:{i}")
        out[name] = {"events": events, "seconds": now() - t0, "inserts": len(tables)}
        del tables
    out["_count"] = ch.query_rows("SELECT count() FROM bench_insert")[0][0]
    return out


def measure_ch_packages(ch: Any, pg: str, names: list[str], batch_size: int | None) -> dict[str, Any]:
    """The ClickHouse packages: reader (query_arrow → Polars), transform, insert, per package."""
    from metric_backfill import registry
    from metric_backfill.defaults import default_params
    from metric_backfill.events import event_table, explode
    from metric_backfill.package import Context
    from metric_backfill.plan import plan_package
    from metric_backfill.sources import ClickHouseSource, PostgresSource, load_lookups
    from metric_backfill.target import Target

    w = window()
    src = ClickHouseSource(ch)
    target = Target(ch, "bench_insert_ch")
    target.ensure()
    out: dict[str, Any] = {}
    for name in names:
        pkg = registry.all_packages()[name]
        plan = plan_package(pkg, src, w, batch_size or pkg.default_batch_size)
        sqls = [b.sql(pkg, src, w) for b in plan.batches]
        t0 = now()
        frames = [src.fetch(sql) for sql in sqls]
        t_read = now() - t0
        ctx = Context(lookups=load_lookups([pkg], PostgresSource(pg)), params=default_params())
        t0 = now()
        tables = [event_table(pkg, explode(pkg, f, w, ctx).events) for f in frames]
        t_transform = now() - t0
        t0 = now()
        for i, t in enumerate(tables):
            target.insert(t, f"bench-ch:{name}:{i}")
        t_insert = now() - t0
        out[name] = {
            "rows": sum(f.height for f in frames), "events": sum(t.num_rows for t in tables),
            "batches": len(sqls), "reader_seconds": t_read, "transform_seconds": t_transform,
            "insert_seconds": t_insert,
        }
    return out


# The ClickHouse-native alternative: chdb reads Postgres itself (postgresql table function) and
# explodes rows with arrayJoin, one INSERT … SELECT per package. Same events as the packages
# (checked against the transform's event count and metricValue sum).
CUTOFF_CH = "toDateTime64('{cutoff}', 3, 'UTC')"
NATIVE_SQL = {
    "buzz_tip": """
SELECT e.1 AS entityType, e.2 AS entityId, fromUserId AS userId, e.3 AS metricType,
       e.4 AS metricValue, createdAt
FROM (
  SELECT fromUserId, createdAt, arrayJoin(arrayConcat(
    if(entityType IN ('Article', 'Image', 'Model', 'Post'),
       [(entityType, entityId, 'tippedCount', 1), (entityType, entityId, 'tippedAmount', amount)], []),
    [('User', toUserId, 'tippedCount', 1), ('User', toUserId, 'tippedAmount', amount),
     ('User', fromUserId, 'tipsGivenCount', 1), ('User', fromUserId, 'tipsGivenAmount', amount)])) AS e
  FROM {pg:BuzzTip} WHERE createdAt < {cutoff})""",
    "user_engagement": """
SELECT 'User' AS entityType, e.1 AS entityId, userId, e.2 AS metricType, 1 AS metricValue, createdAt
FROM (
  SELECT userId, createdAt, arrayJoin(multiIf(
    type = 'Follow', [(targetUserId, 'followerCount'), (userId, 'followingCount')],
    type = 'Hide', [(targetUserId, 'hiddenCount')], [])) AS e
  FROM {pg:UserEngagement} WHERE createdAt < {cutoff})""",
    "image_reaction": """
SELECT e.1 AS entityType, e.2 AS entityId, userId, e.3 AS metricType, 1 AS metricValue, createdAt
FROM (
  SELECT ir.userId AS userId, ir.createdAt AS createdAt, arrayJoin(arrayConcat(
    [('Image', ir.imageId, ir.reaction), ('User', i.userId, 'reactionCount')],
    if(i.postId IS NULL, [],
       [('Post', assumeNotNull(i.postId), ir.reaction), ('Post', assumeNotNull(i.postId), 'reactionCount')])
  )) AS e
  FROM {pg:ImageReaction} AS ir INNER JOIN {pg:Image} AS i ON i.id = ir.imageId
  WHERE ir.createdAt < {cutoff})""",
}


def native_sql(name: str, port: int, db: str) -> str:
    import re

    from metric_backfill.sources import ms_text

    cutoff = CUTOFF_CH.format(cutoff=ms_text(window().cutoff))
    sql = NATIVE_SQL[name].replace("{cutoff}", cutoff)
    return re.sub(r"\{pg:(\w+)\}",
                  lambda m: f"postgresql('127.0.0.1:{port}', '{db}', '{m.group(1)}', 'backfill', '')", sql)


def measure_native(ch: Any, port: int, db: str, name: str) -> dict[str, Any]:
    from metric_backfill.target import Target

    table = f"native_{name}"
    Target(ch, table).ensure()
    sql = (f"INSERT INTO {table} (entityType, entityId, userId, metricType, metricValue, createdAt) "
           + native_sql(name, port, db))
    t0 = now()
    ch.command(sql)
    seconds = now() - t0
    events, total = ch.query_rows(f"SELECT count(), toInt64(sum(metricValue)) FROM {table}")[0]
    return {"events": int(events), "metric_value_sum": int(total), "seconds": seconds}


def _ts(dt: Any) -> str:
    return dt.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _rowwise_buzz_tip(r: dict) -> list[dict]:
    ts = _ts(r["createdAt"])
    out = []
    if r["entityType"] in ("Article", "Image", "Model", "Post"):
        for metric, value in (("tippedCount", 1), ("tippedAmount", r["amount"])):
            out.append({"entityType": r["entityType"], "entityId": r["entityId"], "userId": r["fromUserId"],
                        "metricType": metric, "metricValue": value, "createdAt": ts})
    for entity, metric, value in ((r["toUserId"], "tippedCount", 1), (r["toUserId"], "tippedAmount", r["amount"]),
                                  (r["fromUserId"], "tipsGivenCount", 1),
                                  (r["fromUserId"], "tipsGivenAmount", r["amount"])):
        out.append({"entityType": "User", "entityId": entity, "userId": r["fromUserId"],
                    "metricType": metric, "metricValue": value, "createdAt": ts})
    return out


def _rowwise_user_engagement(r: dict) -> list[dict]:
    ts = _ts(r["createdAt"])
    out = []
    if r["type"] == "Follow":
        out.append({"entityType": "User", "entityId": r["targetUserId"], "userId": r["userId"],
                    "metricType": "followerCount", "metricValue": 1, "createdAt": ts})
        out.append({"entityType": "User", "entityId": r["userId"], "userId": r["userId"],
                    "metricType": "followingCount", "metricValue": 1, "createdAt": ts})
    elif r["type"] == "Hide":
        out.append({"entityType": "User", "entityId": r["targetUserId"], "userId": r["userId"],
                    "metricType": "hiddenCount", "metricValue": 1, "createdAt": ts})
    return out


def _rowwise_image_reaction(r: dict) -> list[dict]:
    ts = _ts(r["createdAt"])
    out = [{"entityType": "Image", "entityId": r["imageId"], "userId": r["userId"],
            "metricType": r["reaction"], "metricValue": 1, "createdAt": ts}]
    if r["postId"] is not None:
        out.append({"entityType": "Post", "entityId": r["postId"], "userId": r["userId"],
                    "metricType": r["reaction"], "metricValue": 1, "createdAt": ts})
        out.append({"entityType": "Post", "entityId": r["postId"], "userId": r["userId"],
                    "metricType": "reactionCount", "metricValue": 1, "createdAt": ts})
    if r["ownerId"] is not None:
        out.append({"entityType": "User", "entityId": r["ownerId"], "userId": r["userId"],
                    "metricType": "reactionCount", "metricValue": 1, "createdAt": ts})
    return out


ROWWISE = {
    "buzz_tip": _rowwise_buzz_tip,
    "user_engagement": _rowwise_user_engagement,
    "image_reaction": _rowwise_image_reaction,
}


def measure_rowwise(ch: Any, pg: str, name: str, limit: int) -> dict[str, Any]:
    """The reference, row at a time: psycopg dict rows → events as dicts in a Python loop →
    JSONEachRow inserts of ``ROWWISE_CHUNK`` events each (awaited, one after the other)."""
    import psycopg
    from psycopg.rows import dict_row

    from metric_backfill import registry
    from metric_backfill.sources import PostgresSource, window_sql
    from metric_backfill.target import Target

    pkg = registry.all_packages()[name]
    src = PostgresSource(pg)
    table = f"rowwise_{name}"
    Target(ch, table).ensure()
    client = ch.client()
    fn = ROWWISE[name]
    order = ", ".join(f'"{c}"' for c in pkg.row_key)
    sql = (f"SELECT {pkg.columns} FROM {pkg.from_sql} WHERE {window_sql(pkg, src, window())} "
           f"ORDER BY {order} LIMIT {int(limit)}")
    t0 = now()
    with psycopg.connect(pg) as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql)
        rows = cur.fetchall()
    t_fetch = now() - t0
    events = 0
    inserts = 0
    t_build = t_insert = 0.0
    chunk: list[dict] = []

    def flush() -> None:
        nonlocal inserts, t_insert, t_build
        t1 = now()
        block = "\n".join(json.dumps(e) for e in chunk).encode()
        t2 = now()
        client.raw_insert(table, insert_block=block, fmt="JSONEachRow")
        t_insert += now() - t2
        t_build += t2 - t1
        inserts += 1
        chunk.clear()

    for row in rows:
        t1 = now()
        evs = fn(row)
        t_build += now() - t1
        for e in evs:
            chunk.append(e)
            events += 1
            if len(chunk) == ROWWISE_CHUNK:
                flush()
    if chunk:
        flush()
    seconds = now() - t0
    stored = ch.query_rows(f"SELECT count() FROM {table}")[0][0]
    return {"rows": len(rows), "events": events, "stored": int(stored), "inserts": inserts,
            "seconds": seconds, "fetch_seconds": t_fetch, "build_seconds": t_build,
            "insert_seconds": t_insert}


# ========================================================================================
# orchestration


def create_database(pg_root_dsn: str, db: str) -> None:
    import psycopg

    with psycopg.connect(pg_root_dsn, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{db}"')


def seeded_scale(work: Path, db: str = "civitai") -> float | None:
    """The scale a work directory's database was seeded at, if any."""
    marker = work / f"seeded_{db}.json"
    return json.loads(marker.read_text()).get("scale") if marker.exists() else None


def seed_db(work: Path, pg_root_dsn: str, db: str, scale: float, seed: int) -> dict[str, Any]:
    """Seed database ``db`` (created if missing) and the chdb path ``work/ch_<db>``, unless a
    marker says it already holds this scale and seed. Returns the dataset description."""
    dsn = pg_root_dsn.rsplit("/", 1)[0] + f"/{db}"
    ch_dir = work / f"ch_{db}"
    marker = work / f"seeded_{db}.json"
    want = {"scale": scale, "seed": seed}
    if marker.exists():
        doc = json.loads(marker.read_text())
        if {k: doc.get(k) for k in want} == want and ch_dir.exists():
            log(f"reusing {db} (scale {scale})")
            return {**doc, "database": db, "dsn": dsn, "ch": str(ch_dir), "reused": True}
        raise SystemExit(
            f"{work} holds {db} seeded at scale {doc.get('scale')} (seed {doc.get('seed')}), not "
            f"scale {scale} (seed {seed}): use another --dir, or remove {marker} to reseed"
        )
    create_database(pg_root_dsn, db)
    shutil.rmtree(ch_dir, ignore_errors=True)
    log(f"seeding {db} at scale {scale}")
    res = run_child("seed", {"pg": dsn, "ch": str(ch_dir), "scale": scale, "seed": seed},
                    work / "children" / f"seed_{db}")
    vac = vacuum(dsn)
    doc = {**want, "counts": res["counts"], "seed_seconds": round(res["seconds"], 2),
           "vacuum_seconds": round(vac, 2)}
    marker.write_text(json.dumps(doc, indent=1))
    return {**doc, "database": db, "dsn": dsn, "ch": str(ch_dir), "reused": False}


@dataclass
class Setup:
    """What one benchmark run measures, and where."""

    args: argparse.Namespace
    scale: float
    curve: list[float]
    concurrency_curve: list[int]
    pg_names: list[str]
    ch_names: list[str]
    native: list[str]
    rowwise: list[str]
    work: Path = Path()
    dbs: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return str(self.scale)

    @property
    def main(self) -> dict[str, Any]:
        return self.dbs[self.key]

    @property
    def runs(self) -> Path:
        return self.work / "children" / "runs"

    @property
    def common(self) -> dict[str, Any]:
        return {"batch_size": self.args.batch_size, "concurrency": self.args.concurrency}


def numbers(text: str, kind: type) -> list[Any]:
    """``"3,10,30"`` → sorted distinct positive numbers of ``kind``."""
    try:
        values = sorted({kind(x) for x in text.split(",") if x.strip()})
    except ValueError:
        raise SystemExit(f"not a comma-separated list of numbers: {text!r}") from None
    if not values or min(values) <= 0:
        raise SystemExit(f"expected positive numbers: {text!r}")
    return values


def make_setup(args: argparse.Namespace) -> Setup:
    from metric_backfill import registry

    scale = args.scale if args.scale is not None else (QUICK_SCALE if args.quick else DEFAULT_SCALE)
    if args.curve_scales:
        curve = numbers(args.curve_scales, float)
    elif args.quick or scale != DEFAULT_SCALE:
        curve = [scale / 4, scale]
    else:
        curve = list(CURVE_SCALES)
    if args.concurrency_curve:
        conc = numbers(args.concurrency_curve, int)
    else:
        conc = list(QUICK_CONCURRENCY_CURVE if args.quick else CONCURRENCY_CURVE)
    selected = registry.select(args.packages.split(",") if args.packages else None)
    pg_names = [p.name for p in selected if p.source == "postgres"]
    return Setup(
        args=args, scale=scale, curve=curve, concurrency_curve=conc, pg_names=pg_names,
        ch_names=[p.name for p in selected if p.source == "clickhouse"],
        native=[n for n in NATIVE_PACKAGES if n in pg_names],
        rowwise=[n for n in ROWWISE if n in pg_names],
    )


def db_name(scale: float, main: float) -> str:
    """The database of one scale: ``civitai`` for the main scale, ``civitai_s<scale>`` else."""
    return PG_DB if scale == main else "civitai_s" + f"{scale:g}".replace(".", "_").replace("-", "_")


def seed_all(work: Path, root_dsn: str, scales: list[float], main: float) -> dict[str, dict[str, Any]]:
    """Every scale in its own database of the one cluster: two seeds at a time, largest first."""
    for sc in scales:  # CREATE DATABASE one at a time (template1 may not be in use)
        create_database(root_dsn, db_name(sc, main))
    with ThreadPoolExecutor(2) as pool:  # two children, two databases, two chdb paths
        futures = {str(sc): pool.submit(seed_db, work, root_dsn, db_name(sc, main), sc, SEED)
                   for sc in sorted(scales, reverse=True)}
        return {k: f.result() for k, f in sorted(futures.items(), key=lambda kv: float(kv[0]))}


def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    from metric_backfill_lab import pgserver

    s = make_setup(args)
    t_start = now()
    result: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "machine": machine_info(),
        "load_avg": {"start": load()},
        "settings": {
            "mode": "quick" if args.quick else "full", "scale": s.scale, "curve_scales": s.curve,
            "concurrency_curve": s.concurrency_curve, "repeat": args.repeat,
            "solo_repeat": args.solo_repeat, "seed": SEED, "batch_size": args.batch_size,
            "concurrency": args.concurrency, "packages": s.pg_names + s.ch_names,
            "native_packages": s.native, "rowwise_rows": args.rowwise_rows,
            "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        },
    }
    own_dir = args.dir is None
    s.work = Path(tempfile.mkdtemp(prefix="metric-backfill-bench-")) if own_dir else Path(args.dir).resolve()
    s.work.mkdir(parents=True, exist_ok=True)
    s.work.chmod(0o755)  # the Postgres server user must reach DIR/pg
    log(f"work dir {s.work}")
    try:
        root_dsn, _ = pgserver.start(s.work)
        phase_seed(result, s, root_dsn)
        phase_stages(result, s)
        if s.native:
            result["headline"] = phase_headline(s)
            result["load_avg"]["after_headline"] = load()
        phase_e2e(result, s)
    finally:
        try:
            pgserver.stop(s.work)
        finally:
            if own_dir and not args.keep:
                if (s.work / "pg").is_symlink():  # pgserver put the cluster elsewhere
                    shutil.rmtree((s.work / "pg").resolve(), ignore_errors=True)
                shutil.rmtree(s.work, ignore_errors=True)
    result["load_avg"]["end"] = load()
    result["total_seconds"] = round(now() - t_start, 1)
    summarize(result, s)
    return result


def phase_seed(result: dict[str, Any], s: Setup, root_dsn: str) -> None:
    s.dbs = seed_all(s.work, root_dsn, sorted({s.scale, *s.curve}), s.scale)
    result["machine"]["versions"]["postgres"] = server_version(s.main["dsn"])
    result["data"] = {
        key: {k: db[k] for k in ("database", "counts", "seed_seconds", "vacuum_seconds") if k in db}
        for key, db in s.dbs.items()
    }
    result["load_avg"]["after_seed"] = load()


def phase_stages(result: dict[str, Any], s: Setup) -> None:
    """floor, readers, transform and plans (parent); insert, ClickHouse packages, row-wise (child)."""
    events_dir = s.work / "events"
    shutil.rmtree(events_dir, ignore_errors=True)
    pg = measure_pg(s.main["dsn"], s.pg_names, s.args.batch_size, events_dir)
    result["postgres"] = pg["packages"]
    result["load_avg"].update({f"after_{k}": v for k, v in pg["load_avg"].items()})
    log("batch plans: EXPLAIN (COSTS OFF) of every package's middle batch query")
    result["plans"] = explain_plans(s.main["dsn"], s.pg_names)

    log("insert alone, ClickHouse packages, row-wise baseline (child)")
    misc_dir = s.work / "children" / "misc"
    shutil.rmtree(misc_dir, ignore_errors=True)
    misc_dir.mkdir(parents=True)
    shutil.copytree(s.main["ch"], misc_dir / "ch", symlinks=True)
    misc = run_child("misc", {
        "pg": s.main["dsn"], "ch": str(misc_dir / "ch"), "events_dir": str(events_dir),
        "pg_packages": s.pg_names, "ch_packages": s.ch_names, "batch_size": s.args.batch_size,
        "rowwise": s.rowwise, "rowwise_rows": s.args.rowwise_rows,
    }, misc_dir)
    shutil.rmtree(misc_dir / "ch", ignore_errors=True)
    shutil.rmtree(events_dir, ignore_errors=True)
    result["machine"]["versions"]["chdb engine"] = misc["chdb_version"]
    result["insert"] = misc["insert"]
    result["clickhouse_packages"] = misc["clickhouse_packages"]
    result["rowwise"] = misc["rowwise"]
    result["load_avg"]["after_misc"] = load()


# ----------------------------------------------------------------------------------------
# batch query plans

SEQ_SCAN = re.compile(r'Seq Scan on "?([\w.]+)"?')


def driving_table(from_sql: str) -> str:
    """The first table of a package's ``from_sql`` (``"ImageReaction" ir JOIN …`` → ImageReaction)."""
    m = re.match(r'\s*"?([\w.]+)"?', from_sql)
    return m.group(1) if m else from_sql


def per_batch_scans(plan: dict[str, Any]) -> list[str]:
    """Whole-table scans of a joined table that every batch repeats: a package read in one batch
    reads its tables whole once, which is the batch, not a cost per batch."""
    return plan.get("whole_table_scans", []) if plan.get("batches", 0) > 1 else []


def whole_table_scans(plan: list[str], driving: str) -> list[str]:
    """Plan lines that scan a whole table other than the driving one."""
    return [line.strip() for line in plan if (m := SEQ_SCAN.search(line)) and m.group(1) != driving]


def explain_plans(dsn: str, names: list[str]) -> dict[str, Any]:
    """``EXPLAIN (COSTS OFF)`` of each package's middle batch at its default batch size."""
    import psycopg

    from metric_backfill import registry
    from metric_backfill.plan import plan_package
    from metric_backfill.sources import PostgresSource

    src = PostgresSource(dsn)
    w = window()
    out: dict[str, Any] = {}
    for name in names:
        pkg = registry.all_packages()[name]
        plan = plan_package(pkg, src, w, pkg.default_batch_size)
        doc: dict[str, Any] = {"driving_table": driving_table(pkg.from_sql),
                               "batch_size": pkg.default_batch_size, "batches": len(plan.batches)}
        if plan.batches:
            i = len(plan.batches) // 2
            sql = plan.batches[i].sql(pkg, src, w)
            # the session the engine reads this package in (its settings shape the plan)
            with psycopg.connect(src.batch_dsn(pkg.pg_settings), autocommit=True) as conn:
                lines = [row[0] for row in conn.execute(f"EXPLAIN (COSTS OFF) {sql}")]
            doc.update(batch=i, sql=sql, plan=lines,
                       whole_table_scans=whole_table_scans(lines, doc["driving_table"]))
        out[name] = doc
    return out


# ----------------------------------------------------------------------------------------
# headline: one `metric-backfill run` process against one chdb start + the native statements

CLI_PACKAGE_KEYS = ("rows", "events", "seconds", "read_seconds", "transform_seconds", "write_seconds")
CLI_RUN_KEYS = ("process_seconds", "batch_phase_seconds", "fixed_seconds")


def run_args(dsn: str, names: list[str], rundir: Path, concurrency: int, batch_size: int | None) -> list[str]:
    args = ["run", "--pg", dsn, "--target", f"chdb://{rundir / 'ch'}", "--state", str(rundir / "st"),
            "--packages", ",".join(names), "--no-progress", "--concurrency", str(concurrency)]
    return args + (["--batch-size", str(batch_size)] if batch_size else [])


def cli_e2e(dsn: str, names: list[str], rundir: Path, concurrency: int, batch_size: int | None) -> dict[str, Any]:
    """One ``metric-backfill run`` process into a fresh chdb target: its wall clock, the batch
    phase (``wall_seconds`` of its ``--json``) and the difference, the fixed costs."""
    from metric_backfill_lab import bench

    shutil.rmtree(rundir, ignore_errors=True)
    try:
        res = bench.cli(run_args(dsn, names, rundir, concurrency, batch_size), rundir)
    finally:
        shutil.rmtree(rundir / "ch", ignore_errors=True)
        shutil.rmtree(rundir / "st", ignore_errors=True)
    rep = res["report"] or {}
    if not rep.get("complete"):
        raise RuntimeError(f"metric-backfill run did not complete: {rep.get('error')}")
    wall = rep.get("wall_seconds")
    return {
        "process_seconds": res["process_seconds"], "batch_phase_seconds": wall,
        "fixed_seconds": res["process_seconds"] - wall if wall is not None else None,
        "rows": rep.get("rows"), "events": rep.get("events"), "peak_rss_mb": res["peak_rss_mb"],
        "packages": {n: {k: p.get(k) for k in CLI_PACKAGE_KEYS} for n, p in rep["packages"].items()},
    }


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of every time of several ``cli_e2e`` runs (counts from the first)."""
    from metric_backfill_lab.bench import median

    first = runs[0]
    out: dict[str, Any] = {k: median([r[k] for r in runs]) for k in CLI_RUN_KEYS}
    out.update(rows=first["rows"], events=first["events"],
               peak_rss_mb=max((r["peak_rss_mb"] or 0 for r in runs), default=0) or None)
    out["events_per_s"] = rate(out["events"] or 0, out["process_seconds"] or 0)
    out["packages"] = {
        n: {k: median([r["packages"][n][k] for r in runs]) if k.endswith("seconds") else v
            for k, v in p.items()}
        for n, p in first["packages"].items()
    }
    out["runs"] = [{k: r[k] for k in (*CLI_RUN_KEYS, "events", "peak_rss_mb")} for r in runs]
    return out


def native_runs(work: Path, port: int, names: list[str], repeat: int) -> dict[str, Any]:
    """``repeat`` children, each: one chdb start on a fresh path, then the native statements."""
    from metric_backfill_lab.bench import median

    runs = []
    for i in range(repeat):
        d = work / "children" / f"native_{i}"
        shutil.rmtree(d, ignore_errors=True)
        runs.append(run_child("native", {"ch": str(d / "ch"), "pg_port": port, "pg_db": PG_DB,
                                         "native": names}, d))
        shutil.rmtree(d / "ch", ignore_errors=True)
    statements = {}
    for n in names:
        got = [r["statements"][n] for r in runs]
        statements[n] = {"events": got[0]["events"], "metric_value_sum": got[0]["metric_value_sum"],
                         "seconds": median([x["seconds"] for x in got]),
                         "same_every_run": all(x["events"] == got[0]["events"] for x in got)}
    return {
        "chdb_start_seconds": median([r["chdb_start_seconds"] for r in runs]),
        "total_seconds": median([r["total_seconds"] for r in runs]),
        "chdb_imported_before": any(r["chdb_imported_before"] for r in runs),
        "statements": statements,
        "runs": [{"chdb_start_seconds": r["chdb_start_seconds"], "total_seconds": r["total_seconds"],
                  "statements": {n: r["statements"][n]["seconds"] for n in names}} for r in runs],
    }


def phase_headline(s: Setup) -> dict[str, Any]:
    """Native (chdb start + statements) and one CLI process over the same packages, each
    ``--repeat`` times; then each package alone through the CLI (``--solo-repeat`` times)."""
    a = s.args
    dsn = s.main["dsn"]
    port = int((s.work / "pg.port").read_text().strip())
    together = ",".join(s.native)
    log(f"native: one chdb start + INSERT … SELECT FROM postgresql() for {together} ({a.repeat} runs)")
    native = native_runs(s.work, port, s.native, a.repeat)
    log(f"end to end: one `metric-backfill run --packages {together}` process ({a.repeat} runs)")
    cli_dir = s.work / "children" / "cli"
    e2e = median_run([cli_e2e(dsn, s.native, cli_dir / f"together_{i}", a.concurrency, a.batch_size)
                      for i in range(a.repeat)])
    solo = {}
    for name in s.native:
        log(f"end to end: `metric-backfill run --packages {name}` ({a.solo_repeat} run(s))")
        solo[name] = median_run([cli_e2e(dsn, [name], cli_dir / f"{name}_{i}", a.concurrency, a.batch_size)
                                 for i in range(a.solo_repeat)])
    return {"packages": s.native, "concurrency": a.concurrency, "repeat": a.repeat,
            "solo_repeat": a.solo_repeat, "native": native, "e2e": e2e, "solo": solo}


# ----------------------------------------------------------------------------------------
# scale curve, verify, concurrency curve

RUN_KEYS = ("rows", "events", "seconds", "batch_phase_seconds", "events_per_s", "peak_rss_mb",
            "cpu_seconds", "concurrency")


def phase_e2e(result: dict[str, Any], s: Setup) -> None:
    e2e = result.setdefault("e2e", {})
    e2e["pg"], e2e["ch"] = phase_scale_curve(s)
    result["load_avg"]["after_scale_curve"] = load()
    if not s.pg_names:
        return
    result["verify"] = phase_verify(s.main["dsn"], s.runs / f"pg_{s.key}", s.pg_names, s.key)
    result["load_avg"]["after_verify"] = load()
    result["concurrency_runs"] = phase_concurrency(s, e2e["pg"].get(s.key))
    result["load_avg"]["after_concurrency"] = load()


def phase_scale_curve(s: Setup) -> tuple[dict[str, Any], dict[str, Any]]:
    """All Postgres packages (then the ClickHouse ones) end to end at every scale, smallest
    first; the main-scale run keeps its target for verify."""
    from metric_backfill_lab import bench

    pg_runs: dict[str, Any] = {}
    ch_runs: dict[str, Any] = {}
    for key, db in s.dbs.items():
        if s.pg_names:
            log(f"end to end: Postgres packages at scale {key}")
            pg_runs[key] = bench.e2e(db["dsn"], s.pg_names, s.runs / f"pg_{key}",
                                     keep=key == s.key, **s.common)
        if s.ch_names:
            log(f"end to end: ClickHouse packages at scale {key}")
            ch_runs[key] = bench.e2e(db["dsn"], s.ch_names, s.runs / f"ch_{key}",
                                     ch=f"chdb://{db['ch']}", **s.common)
    return pg_runs, ch_runs


def phase_verify(dsn: str, run_dir: Path, names: list[str], key: str) -> dict[str, Any]:
    """``metric-backfill verify`` on the target an end-to-end run left in ``run_dir``."""
    from metric_backfill_lab import bench

    log(f"verify: `metric-backfill verify` on the target of the scale-{key} end-to-end run")
    try:
        res = bench.cli(["verify", "--pg", dsn, "--target", f"chdb://{run_dir / 'ch'}",
                         "--state", str(run_dir / "state"), "--packages", ",".join(names),
                         "--no-progress"], run_dir / "verify", ok_codes=(0, 1, 2))
    finally:
        shutil.rmtree(run_dir / "ch", ignore_errors=True)
    rep = res["report"] or {}
    out = {"ok": rep.get("ok", False), "mismatches": rep.get("mismatches"),
           "seconds": res["process_seconds"], "exit": res["exit"], "peak_rss_mb": res["peak_rss_mb"],
           "metrics": len(rep.get("metrics", [])), "scale": key}
    if res["exit"] not in (0, 1) or "error" in rep:
        out["error"] = rep.get("error") or res.get("log_tail")
    return out


def phase_concurrency(s: Setup, main_run: dict[str, Any] | None) -> dict[str, Any]:
    """All Postgres packages at the main scale with each ``--concurrency-curve`` value (the
    scale-curve run stands for ``--concurrency``)."""
    from metric_backfill_lab import bench

    out: dict[str, Any] = {}
    for c in s.concurrency_curve:
        reused = c == s.args.concurrency and main_run is not None
        if reused:
            run = main_run
        else:
            log(f"end to end: Postgres packages at scale {s.key}, concurrency {c}")
            run = bench.e2e(s.main["dsn"], s.pg_names, s.runs / f"conc_{c}",
                            batch_size=s.args.batch_size, concurrency=c)
        out[str(c)] = {**{k: run.get(k) for k in RUN_KEYS}, "from_scale_curve": reused}
    return out


def _sum(d: dict[str, dict], key: str, names: list[str]) -> float:
    return sum(d[n][key] for n in names if n in d)


def summarize(r: dict[str, Any], s: Setup) -> None:
    """The headline figures, ratios and targets (Postgres packages, totals)."""
    summarize_stages(r, s.pg_names)
    summarize_e2e(r, s)
    summarize_rowwise(r, s.rowwise)
    summarize_native(r, s.native)
    ratios: dict[str, Any] = {}
    ratios.update(floor_ratios(r))
    ratios.update(rowwise_ratios(r))
    ratios.update(native_ratios(r, s.native))
    ratios.update(curve_ratios(r, s))
    if r["reader_rows_per_s"] and r["adbc_rows_per_s"]:
        ratios["adbc_over_connectorx"] = r["adbc_rows_per_s"] / r["reader_rows_per_s"]
    r["ratios"] = ratios
    r["targets"] = targets(r)


def summarize_stages(r: dict[str, Any], pg_names: list[str]) -> None:
    pg = r.get("postgres", {})
    rows = _sum(pg, "rows", pg_names)
    events = _sum(pg, "events", pg_names)
    r["floor_rows_per_s"] = rate(rows, _sum(pg, "floor_seconds", pg_names))
    r["floor_batched_rows_per_s"] = rate(rows, _sum(pg, "floor_batched_seconds", pg_names))
    r["reader_rows_per_s"] = rate(rows, _sum(pg, "reader_seconds", pg_names))
    r["adbc_rows_per_s"] = rate(rows, _sum(pg, "adbc_seconds", pg_names))
    r["adbc_equal"] = all(pg[n]["adbc_equal"] for n in pg_names)
    r["transform_events_per_s"] = rate(events, _sum(pg, "transform_seconds", pg_names))
    ins = r.get("insert", {})
    r["insert_events_per_s"] = rate(_sum(ins, "events", pg_names), _sum(ins, "seconds", pg_names))
    r["events_per_row"] = events / rows if rows else None


def summarize_e2e(r: dict[str, Any], s: Setup) -> None:
    """Main-scale end to end, peak RSS and events/s by scale, the concurrency curve."""
    runs = r.get("e2e", {}).get("pg", {})
    big = runs.get(s.key)
    r["e2e_rows_per_s"] = big["rows_per_s"] if big else None
    r["e2e_events_per_s"] = big["events_per_s"] if big else None
    r["peak_rss_mb"] = {k: v["peak_rss_mb"] for k, v in runs.items()}
    r["peak_rss_mb_clickhouse_packages"] = {k: v["peak_rss_mb"] for k, v in r.get("e2e", {}).get("ch", {}).items()}
    r["scale_curve"] = {str(sc): runs[str(sc)]["events_per_s"] for sc in s.curve if str(sc) in runs}
    r["concurrency_curve"] = {c: v["events_per_s"] for c, v in r.get("concurrency_runs", {}).items()}


def summarize_rowwise(r: dict[str, Any], rowwise: list[str]) -> None:
    """Each package's sample rate (per source row) extrapolated to its full table."""
    pg = r.get("postgres", {})
    rw = r.get("rowwise", {})
    names = [n for n in rowwise if n in rw and n in pg and rw[n]["rows"]]
    extrap = {n: pg[n]["rows"] / rate(rw[n]["rows"], rw[n]["seconds"]) for n in names}
    r["rowwise_packages"] = names
    r["rowwise_extrapolated_seconds"] = extrap
    r["rowwise_events_per_s"] = rate(sum(pg[n]["events"] for n in names), sum(extrap.values()))
    r["rowwise_rows_per_s"] = rate(sum(pg[n]["rows"] for n in names), sum(extrap.values()))


def summarize_native(r: dict[str, Any], native: list[str]) -> None:
    """Native events/s (statements alone) and the event check against the transform."""
    pg = r.get("postgres", {})
    h = r.get("headline")
    nat = h["native"]["statements"] if h else {}
    r["native"] = nat
    r["native_events_per_s"] = rate(_sum(nat, "events", native), _sum(nat, "seconds", native))
    r["native_match"] = {n: (nat[n]["events"] == pg[n]["events"] and nat[n]["metric_value_sum"] == pg[n]["metric_value_sum"])
                         for n in native if n in nat and n in pg}
    if h:
        r["native_total_events_per_s"] = rate(_sum(nat, "events", native), h["native"]["total_seconds"])
        r["e2e_cli_events_per_s"] = h["e2e"]["events_per_s"]


def floor_ratios(r: dict[str, Any]) -> dict[str, Any]:
    out = {}
    if r["e2e_events_per_s"] and r["floor_rows_per_s"] and r["events_per_row"]:
        out["e2e_over_floor"] = r["e2e_events_per_s"] / (r["floor_rows_per_s"] * r["events_per_row"])
    if r["e2e_events_per_s"] and r["floor_batched_rows_per_s"] and r["events_per_row"]:
        out["e2e_over_floor_batched"] = r["e2e_events_per_s"] / (r["floor_batched_rows_per_s"] * r["events_per_row"])
    return out


def rowwise_ratios(r: dict[str, Any]) -> dict[str, Any]:
    """Row-wise extrapolated seconds ÷ the same packages alone through the CLI (process wall)."""
    out: dict[str, Any] = {}
    extrap = r["rowwise_extrapolated_seconds"]
    solo = (r.get("headline") or {}).get("solo", {})
    both = [n for n in r["rowwise_packages"] if n in solo and solo[n]["process_seconds"]]
    if both:
        out["e2e_over_rowwise"] = sum(extrap[n] for n in both) / sum(solo[n]["process_seconds"] for n in both)
        out["e2e_over_rowwise_packages"] = both
        out["e2e_over_rowwise_per_package"] = {n: extrap[n] / solo[n]["process_seconds"] for n in both}
    if r["e2e_rows_per_s"] and r["rowwise_rows_per_s"]:
        # all Postgres packages end to end vs the row-wise rate per source row
        out["e2e_rows_over_rowwise_rows"] = r["e2e_rows_per_s"] / r["rowwise_rows_per_s"]
    return out


def native_ratios(r: dict[str, Any], native: list[str]) -> dict[str, Any]:
    """e2e ÷ native as time ratios (native seconds ÷ metric-backfill seconds, same work):
    together (chdb start + statements vs one CLI process), the batch phase vs the statements,
    the fixed costs vs the chdb start, and per package (its statement vs its batch phase alone)."""
    h = r.get("headline")
    if not h:
        return {}
    nat, e2e, solo = h["native"], h["e2e"], h["solo"]
    statements = sum(nat["statements"][n]["seconds"] for n in native)
    out: dict[str, Any] = {}
    if e2e["process_seconds"]:
        out["e2e_over_native"] = nat["total_seconds"] / e2e["process_seconds"]
    if e2e["batch_phase_seconds"]:
        out["e2e_over_native_batch_phase"] = statements / e2e["batch_phase_seconds"]
    if e2e["fixed_seconds"]:
        out["e2e_over_native_fixed_costs"] = nat["chdb_start_seconds"] / e2e["fixed_seconds"]
    out["e2e_over_native_per_package"] = {
        n: nat["statements"][n]["seconds"] / solo[n]["batch_phase_seconds"]
        for n in native if n in solo and solo[n]["batch_phase_seconds"]
    }
    return out


def curve_ratios(r: dict[str, Any], s: Setup) -> dict[str, Any]:
    """events/s and peak RSS at the largest curve scale ÷ at the next one (30 ÷ 10)."""
    curve = [k for k in map(str, s.curve) if k in r["scale_curve"]]
    if len(curve) < 2:
        return {}
    lo, hi = curve[-2], curve[-1]
    out: dict[str, Any] = {"scale_curve_pair": [float(lo), float(hi)]}
    if r["scale_curve"][lo] and r["scale_curve"][hi]:
        out["scale_curve_events_per_s"] = r["scale_curve"][hi] / r["scale_curve"][lo]
    rss = r["peak_rss_mb"]
    if rss.get(lo) and rss.get(hi):
        out["scale_curve_peak_rss"] = rss[hi] / rss[lo]
    return out


def targets(r: dict[str, Any]) -> dict[str, bool | None]:
    ratios = r["ratios"]

    def at_least(key: str, bound: float) -> bool | None:
        return None if ratios.get(key) is None else ratios[key] >= bound

    rss = [*r["peak_rss_mb"].values(), *r["peak_rss_mb_clickhouse_packages"].values()]
    plans = r.get("plans") or {}
    v = r.get("verify")
    return {
        "e2e_over_native >= 1": at_least("e2e_over_native", 1.0),
        "e2e_over_floor >= 0.6": at_least("e2e_over_floor", 0.6),
        "e2e_over_rowwise >= 50": at_least("e2e_over_rowwise", 50),
        "scale curve events/s >= 0.8": at_least("scale_curve_events_per_s", 0.8),
        "scale curve peak RSS <= 1.2": (None if ratios.get("scale_curve_peak_rss") is None
                                        else ratios["scale_curve_peak_rss"] <= 1.2),
        "peak RSS < 1.5 GB": max(rss) < 1500 if rss else None,
        "verify 0 mismatches": (bool(v["ok"]) and v["mismatches"] == 0) if v else None,
        "no whole-table scan of a joined table": (not any(per_batch_scans(p) for p in plans.values())
                                                  if plans else None),
    }


# ========================================================================================
# report


def fmt(v: Any, digits: int = 0) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def md_table(headers: list[str], rows: list[list[Any]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---:" if i else "---" for i in range(len(headers))) + "|"]
    out += ["| " + " | ".join(fmt(c) if not isinstance(c, str) else c for c in row) + " |" for row in rows]
    return "\n".join(out)


def render(r: dict[str, Any]) -> str:
    lines: list[str] = []
    for section in (render_head, render_stages, render_targets, render_native, render_per_package,
                    render_split, render_ch, render_rowwise, render_curves, render_verify,
                    render_plans, render_notes):
        lines += section(r)
    return "\n".join(lines)


def _scales(values: list[float]) -> str:
    return ", ".join(f"{x:g}" for x in values)


def render_head(r: dict[str, Any]) -> list[str]:
    s = r["settings"]
    m = r["machine"]
    v = m["versions"]
    return [
        "# metric-backfill benchmark",
        "",
        f"Generated by `python benchmarks/run.py` (`{s['command']}`) on {r['date']}, "
        f"{s['mode']} mode, synthetic data at scale {s['scale']} (seed {s['seed']}), scale curve at "
        f"{_scales(s['curve_scales'])}, concurrency curve {_scales(s['concurrency_curve'])}; batch size "
        f"{s['batch_size'] or 'per package (default)'}, concurrency {s['concurrency']}; end to end "
        f"against native: median of {s['repeat']} runs. Total benchmark time {r['total_seconds']:,.0f} s.",
        "",
        "## Machine",
        "",
        f"- CPU: {m['cpu']}, {m['cores']} cores; RAM {m['ram_gib']} GiB; {m['os']}",
        f"- engine: git {m.get('engine') or 'unknown'} (others edit the engine concurrently: figures "
        "belong to this revision)",
        "- versions: " + ", ".join(f"{k} {val}" for k, val in v.items() if val),
        "- load average (1/5/15 min) around the phases — other jobs share this machine, so figures "
        "taken at a high load are pessimistic:",
        "",
        md_table(["phase", "load 1 min", "5 min", "15 min"],
                 [[k, *[f"{x:.2f}" for x in val]] for k, val in r["load_avg"].items()]),
        "",
    ]


def render_stages(r: dict[str, Any]) -> list[str]:
    s = r["settings"]
    big = r.get("e2e", {}).get("pg", {}).get(str(s["scale"]), {})
    h = r.get("headline")
    table = md_table(["stage", "rows/s", "events/s", "how"], [
        ["read floor (psycopg binary COPY, one query per package)", fmt(r["floor_rows_per_s"]),
         fmt((r["floor_rows_per_s"] or 0) * (r["events_per_row"] or 0)), "bytes discarded; = the most any reader can do"],
        ["read floor, per batch (engine's batch SQL)", fmt(r["floor_batched_rows_per_s"]), "", "same, one COPY per batch"],
        ["reader: ConnectorX → Polars (engine default)", fmt(r["reader_rows_per_s"]), "", "batch queries, one after the other"],
        ["reader: ADBC Postgres → Polars", fmt(r["adbc_rows_per_s"]), "",
         f"same queries, one connection; identical frames: {fmt(r['adbc_equal'])}"],
        ["transform (explode + cast to Arrow)", "", fmt(r["transform_events_per_s"]), "over pre-read batches"],
        ["insert (insert_arrow into chdb, token per batch)", "", fmt(r["insert_events_per_s"]), "pre-built event tables"],
        [f"**end to end** (Runner, concurrency {s['concurrency']})", fmt(r["e2e_rows_per_s"]), fmt(r["e2e_events_per_s"]),
         f"{fmt(big.get('rows'))} rows → {fmt(big.get('events'))} events in {fmt(big.get('seconds'), 1)} s "
         f"(batch phase {fmt(big.get('batch_phase_seconds'), 1)} s; the rest is preflight, plan probes, lookups)"],
        ["row-wise reference (" + ", ".join(r.get("rowwise_packages", [])) + ")",
         fmt(r.get("rowwise_rows_per_s")), fmt(r.get("rowwise_events_per_s")),
         f"psycopg rows → dict per event → JSONEachRow inserts of 500; {fmt(s['rowwise_rows'])}-row sample "
         "per package, extrapolated to the full tables"],
        ["ClickHouse-native INSERT … SELECT FROM postgresql(), statements only", "", fmt(r.get("native_events_per_s")),
         "packages " + ", ".join(r.get("native", {}))],
        ["  the same with one chdb start", "", fmt(r.get("native_total_events_per_s")), ""],
        ["  one `metric-backfill run` process over those packages", "", fmt(r.get("e2e_cli_events_per_s")),
         f"process wall, fixed costs included (median of {h['repeat']})" if h else ""],
    ])
    return ["## Headline (Postgres packages, all together)", "", table, "",
            f"Events per source row (Postgres packages): {fmt(r['events_per_row'], 3)}.", ""]


def _verdict(t: dict[str, Any], key: str) -> str:
    return {True: "**met**", False: "**NOT met**", None: "not measured"}[t.get(key)]


def render_targets(r: dict[str, Any]) -> list[str]:
    ratios = r.get("ratios", {})
    t = r.get("targets", {})
    s = r["settings"]
    pair = ratios.get("scale_curve_pair") or ["–", "–"]
    rss = r.get("peak_rss_mb", {})
    rss_ch = r.get("peak_rss_mb_clickhouse_packages", {})
    v = r.get("verify") or {}
    scans = sum(len(per_batch_scans(p)) for p in (r.get("plans") or {}).values())
    rows = [
        ["**end to end ÷ native**: (chdb start + native statements) ÷ one `metric-backfill run` process, "
         + ", ".join(s.get("native_packages", [])), fmt(ratios.get("e2e_over_native"), 2), "≥ 1.0",
         _verdict(t, "e2e_over_native >= 1")],
        ["  batch phase: native statements ÷ the run's batch phase", fmt(ratios.get("e2e_over_native_batch_phase"), 2), "", ""],
        ["  fixed costs: chdb start ÷ (process wall − batch phase)", fmt(ratios.get("e2e_over_native_fixed_costs"), 2), "", ""],
        *[[f"  {n}: native statement ÷ batch phase of `run --packages {n}`", fmt(val, 2), "", ""]
          for n, val in ratios.get("e2e_over_native_per_package", {}).items()],
        ["end to end ÷ (floor rows/s × events per row), all Postgres packages", fmt(ratios.get("e2e_over_floor"), 2),
         "≥ 0.6", _verdict(t, "e2e_over_floor >= 0.6")],
        ["  (same, against the per-batch floor)", fmt(ratios.get("e2e_over_floor_batched"), 2), "", ""],
        ["end to end ÷ row-wise (same packages, full tables: extrapolated row-wise s ÷ `run --packages <one>` process s)",
         fmt(ratios.get("e2e_over_rowwise"), 1), "≥ 50×", _verdict(t, "e2e_over_rowwise >= 50")],
        *[[f"  {n}", fmt(val, 1), "", ""] for n, val in ratios.get("e2e_over_rowwise_per_package", {}).items()],
        ["  (all Postgres packages end to end ÷ row-wise, rows/s)", fmt(ratios.get("e2e_rows_over_rowwise_rows"), 1), "", ""],
        [f"scale curve: events/s at scale {pair[1]} ÷ at {pair[0]}, all Postgres packages",
         fmt(ratios.get("scale_curve_events_per_s"), 2), "≥ 0.8", _verdict(t, "scale curve events/s >= 0.8")],
        [f"peak RSS at scale {pair[1]} ÷ at {pair[0]}", fmt(ratios.get("scale_curve_peak_rss"), 2), "≤ 1.2",
         _verdict(t, "scale curve peak RSS <= 1.2")],
        ["peak RSS (MB) by scale, Postgres packages", ", ".join(f"{k}: {val:,.0f}" for k, val in rss.items()),
         "< 1500", _verdict(t, "peak RSS < 1.5 GB")],
        ["peak RSS (MB) by scale, ClickHouse packages", ", ".join(f"{k}: {val:,.0f}" for k, val in rss_ch.items()), "", ""],
        [f"`verify` mismatches after the scale-{v.get('scale', '–')} end-to-end run", fmt(v.get("mismatches")), "0",
         _verdict(t, "verify 0 mismatches")],
        ["batch plans: `Seq Scan` on a table other than the driving one, in a package read in more than one batch", fmt(scans if r.get("plans") else None), "0",
         _verdict(t, "no whole-table scan of a joined table")],
        ["ADBC ÷ ConnectorX (rows/s)", fmt(ratios.get("adbc_over_connectorx"), 2), "", ""],
    ]
    return ["## Target ratios", "",
            "Every ratio is metric-backfill's speed over the other's (a time ratio: the other's "
            "seconds ÷ metric-backfill's), so > 1 means metric-backfill is faster.", "",
            md_table(["ratio", "value", "target", "verdict"], rows), ""]


def render_native(r: dict[str, Any]) -> list[str]:
    h = r.get("headline")
    if not h:
        return []
    nat, e2e, solo = h["native"], h["e2e"], h["solo"]
    ratios = r.get("ratios", {})
    statements = sum(x["seconds"] for x in nat["statements"].values())
    rows = [
        ["**together**: chdb start + statements vs one `run` process", fmt(nat["total_seconds"], 2),
         fmt(e2e["process_seconds"], 2), fmt(ratios.get("e2e_over_native"), 2)],
        ["batch phase: the statements vs the run's batch phase", fmt(statements, 2),
         fmt(e2e["batch_phase_seconds"], 2), fmt(ratios.get("e2e_over_native_batch_phase"), 2)],
        ["fixed costs: chdb start vs process wall − batch phase", fmt(nat["chdb_start_seconds"], 2),
         fmt(e2e["fixed_seconds"], 2), fmt(ratios.get("e2e_over_native_fixed_costs"), 2)],
        *[[f"{n}: its statement vs the batch phase of `run --packages {n}`", fmt(nat["statements"][n]["seconds"], 2),
           fmt(solo.get(n, {}).get("batch_phase_seconds"), 2),
           fmt(ratios.get("e2e_over_native_per_package", {}).get(n), 2)] for n in h["packages"]],
    ]
    return [
        "## End to end vs ClickHouse-native", "",
        "Native: a child process starts chdb on a fresh path (from before the `ClickHouse` object is made "
        "to the answer of its first `SELECT 1`, importing clickhouse-connect and chdb included), then runs "
        "`INSERT INTO t SELECT … FROM postgresql('127.0.0.1:PORT', 'civitai', 'Table', 'backfill', '')` "
        "for each package in turn, `arrayJoin` exploding each row (image_reaction joins `Image` inside "
        "ClickHouse). metric-backfill: one `metric-backfill run --packages " + ",".join(h["packages"])
        + f" --concurrency {h['concurrency']}` process into a fresh chdb target, wall clock from start to "
        f"exit; its batch phase is the `wall_seconds` of its `--json`. Median of {h['repeat']} runs each; "
        f"each package alone: median of {h['solo_repeat']}. e2e ÷ native = native s ÷ metric-backfill s.", "",
        md_table(["comparison", "native s", "metric-backfill s", "e2e ÷ native"], rows), "",
        *native_details(r), "",
    ]


def native_details(r: dict[str, Any]) -> list[str]:
    h = r["headline"]
    nat, e2e, solo = h["native"], h["e2e"], h["solo"]
    rows = []
    for n in h["packages"]:
        x = nat["statements"][n]
        so = solo.get(n, {})
        p = e2e["packages"].get(n, {})
        rows.append([n, x["events"], fmt(r.get("native_match", {}).get(n)), fmt(x["seconds"], 2),
                     rate(x["events"], x["seconds"]), fmt(so.get("batch_phase_seconds"), 2),
                     fmt(so.get("process_seconds"), 2), rate(x["events"], so.get("batch_phase_seconds") or 0),
                     fmt(p.get("read_seconds"), 2), fmt(p.get("transform_seconds"), 2), fmt(p.get("write_seconds"), 2)])
    runs = "; ".join(f"{fmt(a['process_seconds'], 2)} (batch phase {fmt(a['batch_phase_seconds'], 2)})" for a in e2e["runs"])
    nruns = "; ".join(f"{fmt(a['total_seconds'], 2)} (chdb start {fmt(a['chdb_start_seconds'], 2)})" for a in nat["runs"])
    return [md_table(["package", "events", "same events", "native s", "native ev/s", "batch phase alone s",
                      "process alone s", "batch phase ev/s", "read s", "transform s", "write s"], rows), "",
            "read / transform / write: the engine's per-batch timers in the run of the packages together "
            "(busy time summed over batches, which overlap).", "",
            f"- `run` process, each run: {runs} s; peak RSS {fmt(e2e.get('peak_rss_mb'))} MB",
            f"- native, each run: {nruns} s"
            + (" (chdb was imported before the clock started)" if nat.get("chdb_imported_before") else "")]


def render_per_package(r: dict[str, Any]) -> list[str]:
    pg = r.get("postgres", {})
    scale = str(r["settings"]["scale"])
    per_e2e = r.get("e2e", {}).get("pg", {}).get(scale, {}).get("packages", {})
    rows = []
    for n in [n for n in r["settings"]["packages"] if n in pg]:
        p = pg[n]
        e = per_e2e.get(n, {})
        ins = r.get("insert", {}).get(n, {})
        rows.append([n, p["rows"], p["events"], fmt(p["events"] / p["rows"], 2) if p["rows"] else "–", p["batches"],
                     rate(p["rows"], p["floor_seconds"]), rate(p["rows"], p["floor_batched_seconds"]),
                     rate(p["rows"], p["reader_seconds"]),
                     rate(p["rows"], p["adbc_seconds"]), rate(p["events"], p["transform_seconds"]),
                     rate(ins.get("events", 0), ins.get("seconds", 0)),
                     rate(e.get("rows", 0), e.get("seconds", 0)), rate(e.get("events", 0), e.get("seconds", 0))])
    return ["## Per Postgres package", "",
            f"rows/s and events/s per stage; end to end from the scale-{scale} run of all packages, "
            "with each package's seconds as the run report gives them (the busy time of its batches: "
            "packages run side by side, so these do not add up to the wall time).", "",
            md_table(["package", "rows", "events", "ev/row", "batches", "floor rows/s",
                      "floor per batch rows/s", "ConnectorX rows/s",
                      "ADBC rows/s", "transform ev/s", "insert ev/s", "e2e rows/s", "e2e ev/s"], rows)]


def render_split(r: dict[str, Any]) -> list[str]:
    scale = str(r["settings"]["scale"])
    per_e2e = r.get("e2e", {}).get("pg", {}).get(scale, {}).get("packages", {})
    split = [(n, p) for n, p in per_e2e.items() if "read_seconds" in p]
    if not split:
        return []
    rows = []
    tot = {"read_seconds": 0.0, "transform_seconds": 0.0, "write_seconds": 0.0}
    for n, p in split:
        busy = p["read_seconds"] + p["transform_seconds"] + p["write_seconds"]
        for k in tot:
            tot[k] += p[k]
        rows.append([n, p["batches"], fmt(p["read_seconds"], 2), fmt(p["transform_seconds"], 2),
                     fmt(p["write_seconds"], 2),
                     *(f"{100 * p[k] / busy:.0f} %" if busy else "–" for k in tot)])
    busy = sum(tot.values())
    rows.append(["**total**", sum(p["batches"] for _, p in split), *(fmt(v, 2) for v in tot.values()),
                 *(f"{100 * v / busy:.0f} %" if busy else "–" for v in tot.values())])
    return ["", f"Where the end-to-end batch time went (scale {scale}, the engine's own per-batch "
                "timers summed per package; transform includes the cast to Arrow, write is the insert):", "",
            md_table(["package", "batches", "read s", "transform s", "write s", "read", "transform", "write"], rows)]


def render_ch(r: dict[str, Any]) -> list[str]:
    if not r.get("clickhouse_packages"):
        return []
    che = r.get("e2e", {}).get("ch", {}).get(str(r["settings"]["scale"]), {})
    rows = []
    for n, p in r["clickhouse_packages"].items():
        e = che.get("packages", {}).get(n, {})
        rows.append([n, p["rows"], p["events"], p["batches"], rate(p["rows"], p["reader_seconds"]),
                     rate(p["events"], p["transform_seconds"]), rate(p["events"], p["insert_seconds"]),
                     rate(e.get("rows", 0), e.get("seconds", 0)), rate(e.get("events", 0), e.get("seconds", 0))])
    lines = ["", "## ClickHouse packages", "",
             "Read with `query_arrow` from chdb, transformed, inserted into another chdb table in the "
             "same process; end to end by the Runner (target = a copy of the chdb source path).", "",
             md_table(["package", "rows", "events", "batches", "reader rows/s", "transform ev/s",
                       "insert ev/s", "e2e rows/s", "e2e ev/s"], rows)]
    if che:
        lines += ["", f"All ClickHouse packages end to end: {fmt(che['rows'])} rows → {fmt(che['events'])} "
                      f"events in {fmt(che['seconds'], 1)} s = {fmt(che['events_per_s'])} events/s."]
    return lines


def render_rowwise(r: dict[str, Any]) -> list[str]:
    rw = r.get("rowwise", {})
    if not rw:
        return []
    pg = r.get("postgres", {})
    solo = (r.get("headline") or {}).get("solo", {})
    rows = []
    for n, x in rw.items():
        full = pg.get(n, {}).get("rows")
        rps = rate(x["rows"], x["seconds"])
        rows.append([n, x["rows"], x["events"], fmt(x["seconds"], 2), fmt(x["fetch_seconds"], 2),
                     fmt(x["build_seconds"], 2), fmt(x["insert_seconds"], 2), rps,
                     rate(x["events"], x["seconds"]),
                     fmt(full / rps, 0) if full and rps else "–",
                     fmt(solo.get(n, {}).get("process_seconds"), 1)])
    return ["", "## Row-wise baseline", "",
            "The reference approach reproduced in Python: `psycopg` fetches the rows (dict rows), a "
            "Python loop builds one dict per metric event, events go to chdb as `JSONEachRow` "
            "through clickhouse-connect `raw_insert`, 500 events per insert, each awaited. Against it: "
            "one `metric-backfill run --packages <one>` process over the full table.", "",
            md_table(["package", "sample rows", "events", "s", "fetch s", "build + JSON s", "insert s",
                      "rows/s", "events/s", "extrapolated s (full table)", "e2e process s (full table)"], rows)]


def render_curves(r: dict[str, Any]) -> list[str]:
    e2e = r.get("e2e", {})
    rows = []
    for group, runs in (("Postgres packages", e2e.get("pg", {})), ("ClickHouse packages", e2e.get("ch", {}))):
        for sc, x in runs.items():
            rows.append([group, sc, x["rows"], x["events"], fmt(x["seconds"], 1), fmt(x.get("batch_phase_seconds"), 1),
                         x["events_per_s"], x["peak_rss_mb"], x["rss_after_imports_mb"]])
    lines = ["", "## Scale curve and memory", "",
             f"Each package set end to end (the Runner in a child, concurrency {r['settings']['concurrency']}) "
             "at every scale, each scale in its own database of the one Postgres cluster. Peak RSS: the "
             "child's `VmHWM` (includes chdb, which runs in-process; the Postgres server is not included).", "",
             md_table(["packages", "scale", "rows", "events", "seconds", "batch phase s", "events/s",
                       "peak RSS MB", "RSS after imports MB"], rows)]
    conc = r.get("concurrency_runs") or {}
    if conc:
        crow = [[c, x["rows"], x["events"], fmt(x["seconds"], 1), fmt(x.get("batch_phase_seconds"), 1),
                 x["events_per_s"], x["peak_rss_mb"], fmt(x.get("cpu_seconds"), 1),
                 "scale curve" if x.get("from_scale_curve") else ""] for c, x in conc.items()]
        lines += ["", "## Concurrency curve", "",
                  f"All Postgres packages end to end at scale {r['settings']['scale']} with `--concurrency` "
                  f"{_scales(r['settings']['concurrency_curve'])} (the run at the default concurrency is the "
                  "scale curve's).", "",
                  md_table(["concurrency", "rows", "events", "seconds", "batch phase s", "events/s",
                            "peak RSS MB", "client CPU s", "run"], crow)]
    return lines


def render_verify(r: dict[str, Any]) -> list[str]:
    v = r.get("verify")
    if not v:
        return []
    lines = ["", "## verify after the end-to-end run", "",
             f"`metric-backfill verify --packages <all Postgres packages>` on the target of the "
             f"scale-{v['scale']} end-to-end run above, in its own process.", "",
             md_table(["ok", "mismatches", "metrics", "seconds", "peak RSS MB", "exit"],
                      [[fmt(v["ok"]), fmt(v["mismatches"]), v["metrics"], fmt(v["seconds"], 1),
                        fmt(v["peak_rss_mb"]), v["exit"]]])]
    if v.get("error"):
        lines += ["", "```", str(v["error"]), "```"]
    return lines


def render_plans(r: dict[str, Any]) -> list[str]:
    plans = r.get("plans")
    if not plans:
        return []
    flagged = {n: p["whole_table_scans"] for n, p in plans.items() if p.get("whole_table_scans")}
    lines = ["", "## Batch query plans", "",
             f"`EXPLAIN (COSTS OFF)` of each Postgres package's middle batch query (the engine's batch SQL "
             f"at the package's default batch size) at scale {r['settings']['scale']}. A `Seq Scan` on a "
             "table other than the package's driving table (the first of its FROM) reads a whole joined "
             "table per batch: its cost grows with the data, not with the batch.", ""]
    if flagged:
        lines += ["Whole-table scans of a joined table:", ""]
        lines += [f"- **{n}**: " + "; ".join(f"`{x}`" for x in scans)
                  + (" (its only batch: the batch is the whole table at this scale)" if plans[n]["batches"] == 1 else "")
                  for n, scans in flagged.items()]
    else:
        lines.append("No batch query scans a whole table other than its driving table.")
    for n, p in plans.items():
        lines += ["", f"### {n}", ""]
        if "plan" not in p:
            lines.append("No batch (no rows in the window).")
            continue
        lines += [f"Batch {p['batch']} of {p['batches']} (batch size {p['batch_size']:,}), driving table "
                  f"`{p['driving_table']}`" + (" — **scans a whole joined table**" if n in flagged else "") + ".",
                  "", "```", *p["plan"], "```"]
    return lines


def render_notes(r: dict[str, Any]) -> list[str]:
    s = r["settings"]
    m = r["machine"]
    return ["", "## Notes", "",
            "- Every figure is from this one run over the same seeded data; Postgres was `VACUUM "
            "ANALYZE`d after loading (hint bits set, as on a long-lived replica) and warmed by a "
            "`count(*)` of every package query, so reads come from memory.",
            "- The floor and the readers read the packages one after the other on one thread; the end-to-end "
            f"run overlaps batches (concurrency {s['concurrency']}) on a {m['cores']}-core machine shared "
            "with the Postgres server.",
            "- chdb is single-writer: every chdb call in a process goes through one lock.",
            ""]


KEPT_BELOW = "<!-- Sections below this line are written by hand or by other tools: run.py keeps them. -->"


def write_report(md: Path, text: str) -> None:
    """The report, with whatever an earlier report kept below ``KEPT_BELOW`` (comparisons of
    revisions, verify at scale) carried over unchanged."""
    old = md.read_text() if md.exists() else ""
    kept = old[old.index(KEPT_BELOW):] if KEPT_BELOW in old else KEPT_BELOW + "\n"
    md.write_text(text.rstrip("\n") + "\n\n" + kept)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return child_main(argv[1])
    ap = argparse.ArgumentParser(description="metric-backfill benchmark (see benchmarks/RESULTS.md)")
    ap.add_argument("--quick", action="store_true", help=f"scale {QUICK_SCALE} (≈ 1 M source rows)")
    ap.add_argument("--scale", type=float, default=None,
                    help=f"synthetic data scale (default {DEFAULT_SCALE}, or {QUICK_SCALE} with --quick)")
    ap.add_argument("--json", type=Path, default=HERE / "results.json", help="results file")
    ap.add_argument("--md", type=Path, default=None, help="report (default: RESULTS.md beside --json)")
    ap.add_argument("--packages", default=None, help="comma-separated packages (default: all)")
    ap.add_argument("--dir", default=None, help="work directory (kept; a seeded one is reused)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary work directory")
    ap.add_argument("--batch-size", type=int, default=None, help="source rows per batch (default: per package)")
    ap.add_argument("--concurrency", type=int, default=2, help="batches in flight end to end (default 2)")
    ap.add_argument("--rowwise-rows", type=int, default=ROWWISE_ROWS, help="row-wise baseline sample size")
    ap.add_argument("--curve-scales", default=None,
                    help="scales of the end-to-end scale curve, e.g. 3,10,30 (default: "
                         + ",".join(f"{x:g}" for x in CURVE_SCALES)
                         + " at the default scale, else a quarter of --scale and --scale)")
    ap.add_argument("--concurrency-curve", default=None,
                    help="--concurrency values of the concurrency curve (default "
                         + ",".join(map(str, CONCURRENCY_CURVE)) + ", or "
                         + ",".join(map(str, QUICK_CONCURRENCY_CURVE)) + " with --quick)")
    ap.add_argument("--repeat", type=int, default=REPEAT,
                    help=f"runs of the headline end to end and of native; the median counts (default {REPEAT})")
    ap.add_argument("--solo-repeat", type=int, default=1,
                    help="runs of each native package alone through the CLI (default 1)")
    args = ap.parse_args(argv)
    if args.repeat < 1 or args.solo_repeat < 1:
        ap.error("--repeat and --solo-repeat must be at least 1")
    result = benchmark(args)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1, default=str))
    md = args.md or args.json.with_name("RESULTS.md")
    write_report(md, render(result))
    log(f"wrote {args.json} and {md}")
    print(render(result).split("## Per Postgres package")[0])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
