"""The metric-backfill benchmark: every stage measured on the same data, in the same run.

    python benchmarks/run.py [--quick] [--scale S] [--json FILE] [--packages a,b] [--dir DIR]

It starts its own embedded Postgres (one cluster, two databases: the data at ``--scale`` and at
a quarter of it, for the memory check) and seeds chdb source tables, then measures over the
Postgres packages:

* read floor      binary ``COPY (SELECT <columns> FROM <from> WHERE <window>) TO STDOUT`` through
                  psycopg, bytes discarded (also per batch, with the engine's exact batch SQL);
* reader          ConnectorX on the engine's batch queries → Polars (what the engine uses), and
                  ADBC's Postgres driver on the same queries (results compared for equality);
* transform       ``explode`` + the engine's cast to the event Arrow schema, over pre-read batches;
* insert          ``insert_arrow`` (with tokens, as the engine) of pre-built event tables into a
                  fresh chdb table;
* end to end      ``Runner.run()`` at both scales (peak RSS of each child), every package alone
                  for the ones compared below, the ClickHouse packages separately;
* native          ``INSERT INTO t SELECT … FROM postgresql(…)`` run by chdb itself;
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
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
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
PG_DB_SMALL = "civitai_quarter"
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
    from metric_backfill.bench import run_child as _run

    return _run({**spec, "kind": kind}, workdir, command=child_command())


# ========================================================================================
# children (each opens at most one chdb path)


def child_seed(spec: dict[str, Any]) -> dict[str, Any]:
    from metric_backfill.clickhouse import ClickHouse
    from metric_backfill.synth import seed

    t0 = now()
    counts = seed(spec["pg"], ClickHouse(f"chdb://{spec['ch']}")._client(), spec["scale"], spec["seed"])
    return {"counts": counts, "seconds": now() - t0}


def child_misc(spec: dict[str, Any]) -> dict[str, Any]:
    """Insert alone, the ClickHouse packages' read/transform/insert, native and row-wise."""
    from metric_backfill.clickhouse import ClickHouse

    ch = ClickHouse(f"chdb://{spec['ch']}")
    out: dict[str, Any] = {"chdb_version": ch.query_rows("SELECT version()")[0][0]}
    out["insert"] = measure_insert(ch, Path(spec["events_dir"]), spec["pg_packages"])
    out["clickhouse_packages"] = measure_ch_packages(ch, spec["pg"], spec["ch_packages"], spec["batch_size"])
    out["native"] = {
        name: measure_native(ch, spec["pg_port"], spec["pg_db"], name) for name in spec["native"]
    }
    out["rowwise"] = {
        name: measure_rowwise(ch, spec["pg"], name, spec["rowwise_rows"]) for name in spec["rowwise"]
    }
    return out


def child_main(spec_file: str) -> int:
    spec = json.loads(Path(spec_file).read_text())
    fn = {"seed": child_seed, "misc": child_misc}[spec["kind"]]
    Path(spec["out"]).write_text(json.dumps(fn(spec), default=str))
    if spec["kind"] != "seed":  # the seeded chdb path is kept: let chdb shut down cleanly
        from metric_backfill.bench import fast_exit

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
    import adbc_driver_postgresql.dbapi as adbc
    import polars as pl
    import psycopg
    import pyarrow as pa
    import pyarrow.compute as pc

    from metric_backfill import registry
    from metric_backfill.defaults import default_params
    from metric_backfill.events import event_table, explode
    from metric_backfill.package import Context
    from metric_backfill.plan import plan_package
    from metric_backfill.sources import PostgresSource, load_lookups, window_sql

    w = window()
    src = PostgresSource(dsn)
    pkgs = [registry.all_packages()[n] for n in names]
    res: dict[str, dict[str, Any]] = {}
    sqls: dict[str, list[str]] = {}
    whole: dict[str, str] = {}

    log("planning and counting (warm-up)")
    with psycopg.connect(dsn, autocommit=True) as conn:
        for pkg in pkgs:
            plan = plan_package(pkg, src, w, batch_size or pkg.default_batch_size)
            sqls[pkg.name] = [b.sql(pkg, src, w) for b in plan.batches]
            whole[pkg.name] = f"SELECT {pkg.columns} FROM {pkg.from_sql} WHERE {window_sql(pkg, src, w)}"
            n = conn.execute(f"SELECT count(*) FROM ({whole[pkg.name]}) q").fetchone()[0]
            res[pkg.name] = {"rows": int(n), "batches": len(sqls[pkg.name])}

    phase_load: dict[str, list[float]] = {}

    log("read floor: binary COPY through psycopg")
    with psycopg.connect(dsn, autocommit=True) as conn:
        for pkg in pkgs:
            nbytes = 0
            t0 = now()
            with conn.cursor().copy(f"COPY ({whole[pkg.name]}) TO STDOUT (FORMAT binary)") as cp:
                for data in cp:
                    nbytes += len(data)
            res[pkg.name]["floor_seconds"] = now() - t0
            res[pkg.name]["copy_bytes"] = nbytes
            nbytes = 0
            t0 = now()
            for sql in sqls[pkg.name]:
                with conn.cursor().copy(f"COPY ({sql}) TO STDOUT (FORMAT binary)") as cp:
                    for data in cp:
                        nbytes += len(data)
            res[pkg.name]["floor_batched_seconds"] = now() - t0
    phase_load["floor"] = load()

    log("reader: ConnectorX → Polars on the batch queries")
    frames: dict[str, list[pl.DataFrame]] = {}
    for pkg in pkgs:
        t0 = now()
        frames[pkg.name] = [src.fetch(sql) for sql in sqls[pkg.name]]
        res[pkg.name]["reader_seconds"] = now() - t0
        res[pkg.name]["reader_rows"] = sum(f.height for f in frames[pkg.name])
    phase_load["reader"] = load()

    log("reader: ADBC (adbc-driver-postgresql) → Polars on the same queries")
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
    phase_load["adbc"] = load()

    log("transform: explode + cast to the event schema over the pre-read batches")
    for pkg in pkgs:
        ctx = Context(lookups=load_lookups([pkg], src), params=default_params())
        tables = []
        t_explode = t_arrow = 0.0
        for rows in frames[pkg.name]:
            t0 = now()
            ex = explode(pkg, rows, w, ctx)
            t1 = now()
            tables.append(event_table(pkg, ex.events))
            t_arrow += now() - t1
            t_explode += t1 - t0
        res[pkg.name]["explode_seconds"] = t_explode
        res[pkg.name]["to_arrow_seconds"] = t_arrow
        res[pkg.name]["transform_seconds"] = t_explode + t_arrow
        res[pkg.name]["events"] = sum(t.num_rows for t in tables)
        res[pkg.name]["metric_value_sum"] = int(sum(
            pc.sum(t.column("metricValue").cast(pa.int64())).as_py() or 0 for t in tables
        ))
        pdir = events_dir / pkg.name
        pdir.mkdir(parents=True, exist_ok=True)
        for i, t in enumerate(tables):
            with pa.OSFile(str(pdir / f"{i:06d}.arrow"), "wb") as f, pa.ipc.new_file(f, t.schema) as wr:
                wr.write_table(t)
        del frames[pkg.name], tables
    phase_load["transform"] = load()
    return {"packages": res, "load_avg": phase_load}


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
    client = ch._client()
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
            return {**doc, "dsn": dsn, "ch": str(ch_dir), "reused": True}
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
    return {**doc, "dsn": dsn, "ch": str(ch_dir), "reused": False}


def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    from metric_backfill import bench, pgserver, registry

    scale = args.scale if args.scale is not None else (QUICK_SCALE if args.quick else DEFAULT_SCALE)
    small_scale = scale / 4
    selected = registry.select(args.packages.split(",") if args.packages else None)
    pg_names = [p.name for p in selected if p.source == "postgres"]
    ch_names = [p.name for p in selected if p.source == "clickhouse"]
    native = [n for n in NATIVE_PACKAGES if n in pg_names]
    rowwise = [n for n in ROWWISE if n in pg_names]

    t_start = now()
    started = datetime.now(UTC)
    result: dict[str, Any] = {
        "date": started.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "machine": machine_info(),
        "load_avg": {"start": load()},
        "settings": {
            "mode": "quick" if args.quick else "full", "scale": scale, "small_scale": small_scale,
            "seed": SEED, "batch_size": args.batch_size, "concurrency": args.concurrency,
            "packages": pg_names + ch_names, "rowwise_rows": args.rowwise_rows,
            "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        },
    }
    own_dir = args.dir is None
    work = Path(tempfile.mkdtemp(prefix="metric-backfill-bench-")) if own_dir else Path(args.dir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    work.chmod(0o755)  # the Postgres server user must reach DIR/pg
    log(f"work dir {work}")
    try:
        root_dsn, _ = pgserver.start(work)
        create_database(root_dsn, PG_DB_SMALL)
        with ThreadPoolExecutor(2) as pool:  # two children, two databases, two chdb paths
            big_f = pool.submit(seed_db, work, root_dsn, "civitai", scale, SEED)
            small_f = pool.submit(seed_db, work, root_dsn, PG_DB_SMALL, small_scale, SEED)
            big, small = big_f.result(), small_f.result()
        result["machine"]["versions"]["postgres"] = server_version(big["dsn"])
        result["data"] = {
            str(scale): {k: big[k] for k in ("counts", "seed_seconds", "vacuum_seconds") if k in big},
            str(small_scale): {k: small[k] for k in ("counts", "seed_seconds", "vacuum_seconds") if k in small},
        }
        result["load_avg"]["after_seed"] = load()

        # --- Postgres: floor, readers, transform (parent) -------------------------------
        events_dir = work / "events"
        shutil.rmtree(events_dir, ignore_errors=True)
        pg = measure_pg(big["dsn"], pg_names, args.batch_size, events_dir)
        result["postgres"] = pg["packages"]
        result["load_avg"].update({f"after_{k}": v for k, v in pg["load_avg"].items()})

        # --- chdb: insert alone, ClickHouse packages, native, row-wise (one child) -------
        log("insert alone, ClickHouse packages, native INSERT … SELECT, row-wise baseline (child)")
        misc_dir = work / "children" / "misc"
        shutil.rmtree(misc_dir, ignore_errors=True)
        misc_dir.mkdir(parents=True)
        shutil.copytree(big["ch"], misc_dir / "ch", symlinks=True)
        port = int((work / "pg.port").read_text().strip())
        misc = run_child("misc", {
            "pg": big["dsn"], "pg_port": port, "pg_db": "civitai", "ch": str(misc_dir / "ch"),
            "events_dir": str(events_dir), "pg_packages": pg_names, "ch_packages": ch_names,
            "batch_size": args.batch_size, "native": native, "rowwise": rowwise,
            "rowwise_rows": args.rowwise_rows,
        }, misc_dir)
        shutil.rmtree(misc_dir / "ch", ignore_errors=True)
        shutil.rmtree(events_dir, ignore_errors=True)
        result["machine"]["versions"]["chdb engine"] = misc["chdb_version"]
        result["load_avg"]["after_misc"] = load()

        # --- end to end (children) ----------------------------------------------------
        e2e: dict[str, Any] = {}
        runs = work / "children" / "runs"
        common = {"batch_size": args.batch_size, "concurrency": args.concurrency}
        if pg_names:
            log(f"end to end: Postgres packages at scale {scale}")
            e2e["pg"] = {str(scale): bench.e2e(big["dsn"], pg_names, runs / "pg_big", **common)}
            log(f"end to end: Postgres packages at scale {small_scale}")
            e2e["pg"][str(small_scale)] = bench.e2e(small["dsn"], pg_names, runs / "pg_small", **common)
        if ch_names:
            log("end to end: ClickHouse packages at both scales")
            e2e["ch"] = {
                str(scale): bench.e2e(big["dsn"], ch_names, runs / "ch_big", ch=f"chdb://{big['ch']}", **common),
                str(small_scale): bench.e2e(small["dsn"], ch_names, runs / "ch_small",
                                            ch=f"chdb://{small['ch']}", **common),
            }
        e2e["solo"] = {}
        for name in native:
            if pg_names == [name]:  # the run above was this package alone
                e2e["solo"][name] = e2e["pg"][str(scale)]
                continue
            log(f"end to end: {name} alone")
            e2e["solo"][name] = bench.e2e(big["dsn"], [name], runs / f"solo_{name}", **common)
        result["load_avg"]["after_e2e"] = load()
        result["e2e"] = e2e
        result["insert"] = misc["insert"]
        result["clickhouse_packages"] = misc["clickhouse_packages"]
        result["native"] = misc["native"]
        result["rowwise"] = misc["rowwise"]
    finally:
        try:
            pgserver.stop(work)
        finally:
            if own_dir and not args.keep:
                if (work / "pg").is_symlink():  # pgserver put the cluster elsewhere
                    shutil.rmtree((work / "pg").resolve(), ignore_errors=True)
                shutil.rmtree(work, ignore_errors=True)
    result["load_avg"]["end"] = load()
    result["total_seconds"] = round(now() - t_start, 1)
    summarize(result, scale, pg_names, native, rowwise)
    return result


def _sum(d: dict[str, dict], key: str, names: list[str]) -> float:
    return sum(d[n][key] for n in names if n in d)


def summarize(r: dict[str, Any], scale: float, pg_names: list[str], native: list[str],
              rowwise: list[str]) -> None:
    """The headline figures and ratios (Postgres packages, totals)."""
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
    big = r.get("e2e", {}).get("pg", {}).get(str(scale))
    r["e2e_rows_per_s"] = big["rows_per_s"] if big else None
    r["e2e_events_per_s"] = big["events_per_s"] if big else None
    r["events_per_row"] = events / rows if rows else None
    r["peak_rss_mb"] = {k: v["peak_rss_mb"] for k, v in r.get("e2e", {}).get("pg", {}).items()}
    r["peak_rss_mb_clickhouse_packages"] = {k: v["peak_rss_mb"] for k, v in r.get("e2e", {}).get("ch", {}).items()}

    # row-wise: each package's sample rate (per source row) extrapolated to its full table; the
    # headline is the same work as the end-to-end solo runs: full events ÷ extrapolated seconds
    rw = r.get("rowwise", {})
    nat = r.get("native", {})
    solo = r.get("e2e", {}).get("solo", {})
    rw_names = [n for n in rowwise if n in rw and n in pg and rw[n]["rows"]]
    extrap = {n: pg[n]["rows"] / rate(rw[n]["rows"], rw[n]["seconds"]) for n in rw_names}
    r["rowwise_packages"] = rw_names
    r["rowwise_extrapolated_seconds"] = extrap
    r["rowwise_events_per_s"] = rate(sum(pg[n]["events"] for n in rw_names), sum(extrap.values()))
    r["rowwise_rows_per_s"] = rate(sum(pg[n]["rows"] for n in rw_names), sum(extrap.values()))
    r["native_events_per_s"] = rate(_sum(nat, "events", native), _sum(nat, "seconds", native))
    r["native_match"] = {n: (nat[n]["events"] == pg[n]["events"] and nat[n]["metric_value_sum"] == pg[n]["metric_value_sum"])
                         for n in native if n in nat and n in pg}
    solo_events_per_s = rate(sum(solo[n]["events"] for n in native if n in solo),
                             sum(solo[n]["seconds"] for n in native if n in solo))
    r["e2e_solo_events_per_s_native_packages"] = solo_events_per_s

    ratios: dict[str, Any] = {}
    if r["e2e_events_per_s"] and r["floor_rows_per_s"] and r["events_per_row"]:
        ratios["e2e_over_floor"] = r["e2e_events_per_s"] / (r["floor_rows_per_s"] * r["events_per_row"])
    if r["e2e_events_per_s"] and r["floor_batched_rows_per_s"] and r["events_per_row"]:
        ratios["e2e_over_floor_batched"] = r["e2e_events_per_s"] / (r["floor_batched_rows_per_s"] * r["events_per_row"])
    both = [n for n in rw_names if n in solo]
    if both:
        ratios["e2e_over_rowwise"] = sum(extrap[n] for n in both) / sum(solo[n]["seconds"] for n in both)
        ratios["e2e_over_rowwise_packages"] = both
        ratios["e2e_over_rowwise_per_package"] = {n: extrap[n] / solo[n]["seconds"] for n in both}
    if r["e2e_rows_per_s"] and r["rowwise_rows_per_s"]:
        # all Postgres packages end to end vs the row-wise rate per source row
        ratios["e2e_rows_over_rowwise_rows"] = r["e2e_rows_per_s"] / r["rowwise_rows_per_s"]
    if solo_events_per_s and r["native_events_per_s"]:
        ratios["e2e_over_native"] = solo_events_per_s / r["native_events_per_s"]
        ratios["e2e_over_native_per_package"] = {
            n: solo[n]["events_per_s"] / rate(nat[n]["events"], nat[n]["seconds"])
            for n in native if n in solo and n in nat
        }
    if r["reader_rows_per_s"] and r["adbc_rows_per_s"]:
        ratios["adbc_over_connectorx"] = r["adbc_rows_per_s"] / r["reader_rows_per_s"]
    rss = r["peak_rss_mb"]
    if len(rss) == 2 and str(scale) in rss:
        small = min(rss, key=float)
        ratios["rss_big_over_small"] = rss[str(scale)] / rss[small]
    r["ratios"] = ratios
    r["targets"] = {
        "e2e_over_floor >= 0.6": ratios.get("e2e_over_floor", 0) >= 0.6 if "e2e_over_floor" in ratios else None,
        "e2e faster than native": ratios.get("e2e_over_native", 0) > 1 if "e2e_over_native" in ratios else None,
        "e2e_over_rowwise >= 50": ratios.get("e2e_over_rowwise", 0) >= 50 if "e2e_over_rowwise" in ratios else None,
        "peak RSS < 1.5 GB": (max(list(rss.values()) + list(r["peak_rss_mb_clickhouse_packages"].values())) < 1500)
        if rss else None,
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
    s = r["settings"]
    m = r["machine"]
    v = m["versions"]
    scale = str(s["scale"])
    pg = r.get("postgres", {})
    names = [n for n in s["packages"] if n in pg]
    ratios = r.get("ratios", {})
    lines = [
        "# metric-backfill benchmark",
        "",
        f"Generated by `python benchmarks/run.py` (`{s['command']}`) on {r['date']}, "
        f"{s['mode']} mode, synthetic data at scale {s['scale']} (seed {s['seed']}) and {s['small_scale']} "
        f"for the memory check; batch size {s['batch_size'] or 'per package (default)'}, concurrency "
        f"{s['concurrency']}. Total benchmark time {r['total_seconds']:,.0f} s.",
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
        "## Headline (Postgres packages, all together)",
        "",
    ]
    e2e_big = r.get("e2e", {}).get("pg", {}).get(scale, {})
    lines.append(md_table(["stage", "rows/s", "events/s", "how"], [
        ["read floor (psycopg binary COPY, one query per package)", fmt(r["floor_rows_per_s"]),
         fmt((r["floor_rows_per_s"] or 0) * (r["events_per_row"] or 0)), "bytes discarded; = the most any reader can do"],
        ["read floor, per batch (engine's batch SQL)", fmt(r["floor_batched_rows_per_s"]), "", "same, one COPY per batch"],
        ["reader: ConnectorX → Polars (engine default)", fmt(r["reader_rows_per_s"]), "", "batch queries, one after the other"],
        ["reader: ADBC Postgres → Polars", fmt(r["adbc_rows_per_s"]), "",
         f"same queries, one connection; identical frames: {fmt(r['adbc_equal'])}"],
        ["transform (explode + cast to Arrow)", "", fmt(r["transform_events_per_s"]), "over pre-read batches"],
        ["insert (insert_arrow into chdb, token per batch)", "", fmt(r["insert_events_per_s"]), "pre-built event tables"],
        [f"**end to end** (Runner, concurrency {s['concurrency']})", fmt(r["e2e_rows_per_s"]), fmt(r["e2e_events_per_s"]),
         f"{fmt(e2e_big.get('rows'))} rows → {fmt(e2e_big.get('events'))} events in {fmt(e2e_big.get('seconds'), 1)} s "
         f"(batch phase {fmt(e2e_big.get('batch_phase_seconds'), 1)} s; the rest is preflight, plan probes, lookups)"],
        ["row-wise reference (" + ", ".join(r.get("rowwise_packages", [])) + ")",
         fmt(r.get("rowwise_rows_per_s")), fmt(r.get("rowwise_events_per_s")),
         f"psycopg rows → dict per event → JSONEachRow inserts of 500; {fmt(s['rowwise_rows'])}-row sample "
         "per package, extrapolated to the full tables"],
        ["ClickHouse-native INSERT … SELECT FROM postgresql()", "", fmt(r.get("native_events_per_s")),
         "packages " + ", ".join(r.get("native", {}))],
    ]))
    lines += ["", f"Events per source row (Postgres packages): {fmt(r['events_per_row'], 3)}.", "",
              "## Target ratios", ""]
    t = r.get("targets", {})

    def verdict(key: str) -> str:
        return {True: "**met**", False: "**NOT met**", None: "not measured"}[t.get(key)]

    rss = r.get("peak_rss_mb", {})
    rss_ch = r.get("peak_rss_mb_clickhouse_packages", {})
    per_native = ratios.get("e2e_over_native_per_package", {})
    lines.append(md_table(["ratio", "value", "target", "verdict"], [
        ["end to end ÷ (floor rows/s × events per row)", fmt(ratios.get("e2e_over_floor"), 2), "≥ 0.6",
         verdict("e2e_over_floor >= 0.6")],
        ["  (same, against the per-batch floor)", fmt(ratios.get("e2e_over_floor_batched"), 2), "", ""],
        ["end to end ÷ row-wise (same packages, full tables: extrapolated row-wise s ÷ end-to-end s)",
         fmt(ratios.get("e2e_over_rowwise"), 1), "≥ 50×", verdict("e2e_over_rowwise >= 50")],
        *[[f"  {n}", fmt(val, 1), "", ""] for n, val in ratios.get("e2e_over_rowwise_per_package", {}).items()],
        ["  (all Postgres packages end to end ÷ row-wise, rows/s)", fmt(ratios.get("e2e_rows_over_rowwise_rows"), 1), "", ""],
        ["end to end ÷ native (events/s, same packages, each run alone)", fmt(ratios.get("e2e_over_native"), 2), "> 1",
         verdict("e2e faster than native")],
        *[[f"  {n}", fmt(val, 2), "", ""] for n, val in per_native.items()],
        ["peak RSS (MB) by scale, Postgres packages", ", ".join(f"{k}: {val:,.0f}" for k, val in rss.items()),
         "< 1500, flat", verdict("peak RSS < 1.5 GB")],
        ["peak RSS (MB) by scale, ClickHouse packages", ", ".join(f"{k}: {val:,.0f}" for k, val in rss_ch.items()), "", ""],
        ["ADBC ÷ ConnectorX (rows/s)", fmt(ratios.get("adbc_over_connectorx"), 2), "", ""],
    ]))

    lines += ["", "## Per Postgres package", "",
              f"rows/s and events/s per stage; end to end from the scale-{scale} run of all packages, "
              "with each package's seconds as the run report gives them (the busy time of its batches: "
              "packages run side by side, so these do not add up to the wall time).", ""]
    rows = []
    per_e2e = e2e_big.get("packages", {})
    for n in names:
        p = pg[n]
        e = per_e2e.get(n, {})
        ins = r.get("insert", {}).get(n, {})
        rows.append([n, p["rows"], p["events"], fmt(p["events"] / p["rows"], 2) if p["rows"] else "–", p["batches"],
                     rate(p["rows"], p["floor_seconds"]), rate(p["rows"], p["floor_batched_seconds"]),
                     rate(p["rows"], p["reader_seconds"]),
                     rate(p["rows"], p["adbc_seconds"]), rate(p["events"], p["transform_seconds"]),
                     rate(ins.get("events", 0), ins.get("seconds", 0)),
                     rate(e.get("rows", 0), e.get("seconds", 0)), rate(e.get("events", 0), e.get("seconds", 0))])
    lines.append(md_table(["package", "rows", "events", "ev/row", "batches", "floor rows/s",
                           "floor per batch rows/s", "ConnectorX rows/s",
                           "ADBC rows/s", "transform ev/s", "insert ev/s", "e2e rows/s", "e2e ev/s"], rows))

    split = [(n, p) for n, p in per_e2e.items() if "read_seconds" in p]
    if split:
        lines += ["", f"Where the end-to-end batch time went (scale {scale}, the engine's own per-batch "
                      "timers summed per package; transform includes the cast to Arrow, write is the insert):", ""]
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
        lines.append(md_table(["package", "batches", "read s", "transform s", "write s", "read", "transform",
                               "write"], rows))

    if r.get("clickhouse_packages"):
        lines += ["", "## ClickHouse packages", "",
                  "Read with `query_arrow` from chdb, transformed, inserted into another chdb table in the "
                  "same process; end to end by the Runner (target = a copy of the chdb source path).", ""]
        che = r.get("e2e", {}).get("ch", {}).get(scale, {})
        rows = []
        for n, p in r["clickhouse_packages"].items():
            e = che.get("packages", {}).get(n, {})
            rows.append([n, p["rows"], p["events"], p["batches"], rate(p["rows"], p["reader_seconds"]),
                         rate(p["events"], p["transform_seconds"]), rate(p["events"], p["insert_seconds"]),
                         rate(e.get("rows", 0), e.get("seconds", 0)), rate(e.get("events", 0), e.get("seconds", 0))])
        lines.append(md_table(["package", "rows", "events", "batches", "reader rows/s", "transform ev/s",
                               "insert ev/s", "e2e rows/s", "e2e ev/s"], rows))
        if che:
            lines += ["", f"All ClickHouse packages end to end: {fmt(che['rows'])} rows → {fmt(che['events'])} "
                          f"events in {fmt(che['seconds'], 1)} s = {fmt(che['events_per_s'])} events/s."]

    nat = r.get("native", {})
    solo = r.get("e2e", {}).get("solo", {})
    if nat:
        lines += ["", "## End to end vs ClickHouse-native", "",
                  "Native: chdb runs `INSERT INTO t SELECT … FROM postgresql('127.0.0.1:PORT', 'civitai', "
                  "'Table', 'backfill', '')` with `arrayJoin` exploding each row (image_reaction joins "
                  "`Image` inside ClickHouse); its events are checked against the transform's (count and "
                  "sum of metricValue). End to end: the Runner on that package alone (preflight, plan, "
                  "read, transform, insert, ledger).", ""]
        rows = []
        for n, x in nat.items():
            so = solo.get(n, {})
            rows.append([n, x["events"], fmt(r.get("native_match", {}).get(n)), fmt(x["seconds"], 2),
                         rate(x["events"], x["seconds"]), fmt(so.get("seconds"), 2), so.get("events_per_s"),
                         fmt(so.get("events_per_s", 0) / rate(x["events"], x["seconds"]), 2) if so else "–"])
        lines.append(md_table(["package", "events", "same events", "native s", "native ev/s", "e2e s",
                               "e2e ev/s", "e2e ÷ native"], rows))

    rw = r.get("rowwise", {})
    if rw:
        lines += ["", "## Row-wise baseline", "",
                  "The reference approach reproduced in Python: `psycopg` fetches the rows (dict rows), a "
                  "Python loop builds one dict per metric event, events go to chdb as `JSONEachRow` "
                  "through clickhouse-connect `raw_insert`, 500 events per insert, each awaited.", ""]
        rows = []
        for n, x in rw.items():
            full = pg.get(n, {}).get("rows")
            rps = rate(x["rows"], x["seconds"])
            rows.append([n, x["rows"], x["events"], fmt(x["seconds"], 2), fmt(x["fetch_seconds"], 2),
                         fmt(x["build_seconds"], 2), fmt(x["insert_seconds"], 2), rps,
                         rate(x["events"], x["seconds"]),
                         fmt(full / rps, 0) if full and rps else "–",
                         fmt(solo.get(n, {}).get("seconds"), 1)])
        lines.append(md_table(["package", "sample rows", "events", "s", "fetch s", "build + JSON s", "insert s",
                               "rows/s", "events/s", "extrapolated s (full table)", "e2e s (full table)"], rows))

    lines += ["", "## Memory", "",
              "Peak RSS of the child process running the backfill (`VmHWM` from /proc/self/status; "
              "includes chdb, which runs in-process; the Postgres server is not included).", ""]
    rows = []
    for group, runs in (("Postgres packages", r.get("e2e", {}).get("pg", {})),
                        ("ClickHouse packages", r.get("e2e", {}).get("ch", {}))):
        for sc, x in runs.items():
            rows.append([group, sc, x["rows"], x["events"], fmt(x["seconds"], 1), x["peak_rss_mb"],
                         x["rss_after_imports_mb"]])
    lines.append(md_table(["packages", "scale", "rows", "events", "seconds", "peak RSS MB", "RSS after imports MB"], rows))

    lines += ["", "## Notes", "",
              "- Every figure is from this one run over the same seeded data; Postgres was `VACUUM "
              "ANALYZE`d after loading (hint bits set, as on a long-lived replica) and warmed by a "
              "`count(*)` of every package query, so reads come from memory.",
              "- The floor and the readers read the packages one after the other on one thread; the end-to-end "
              f"run overlaps batches (concurrency {s['concurrency']}) on a {m['cores']}-core machine shared "
              "with the Postgres server.",
              "- chdb is single-writer: every chdb call in a process goes through one lock.",
              ""]
    return "\n".join(lines)


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
    args = ap.parse_args(argv)
    result = benchmark(args)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1, default=str))
    md = args.md or args.json.with_name("RESULTS.md")
    md.write_text(render(result))
    log(f"wrote {args.json} and {md}")
    print(render(result).split("## Per Postgres package")[0])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
