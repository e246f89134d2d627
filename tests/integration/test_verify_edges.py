"""verify at its edges: SIGTERM, a table named like scratch, nothing left to verify, a sample of
an empty target, and compare chunks bounded in rows even with an outlier entity id."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from metric_backfill.scratch import started_at
from tests.integration.test_verify_scratch import (  # noqa: F401
    CLI,
    _interrupt_once_scratch_exists,
    _tables,
    target,
)

COLUMNS = ("entityType LowCardinality(String), entityId Int32, userId Int32, "
           "metricType LowCardinality(String), metricValue Int32, createdAt DateTime64(3)")


def _ch(path: Path, *sqls: str) -> None:
    code = ("import sys, clickhouse_connect as c; cl = c.get_client(dsn='chdb://' + sys.argv[1])\n"
            "for s in sys.argv[2:]: cl.command(s, settings={'mutations_sync': 2})")
    subprocess.run([sys.executable, "-c", code, str(path), *sqls], check=True)


def test_sigterm_leaves_no_scratch_table(env, target):  # noqa: F811
    # `timeout`, systemd, Kubernetes and CI cancellation stop a process with SIGTERM
    r = _interrupt_once_scratch_exists(env, target, signal.SIGTERM)
    left = _tables(target)
    _ch(target, *(f"DROP TABLE IF EXISTS default.`{n}`" for n in left))
    assert left == [], r.stderr


def test_a_table_named_like_scratch_with_an_impossible_date_does_not_break_verify():
    # any 8+6 digits match the name pattern; an impossible date must not fail every verify
    assert started_at("mb_verify_20261399T000000_abcdef12_expected") is None


def test_excluding_every_selected_metric_is_bad_usage(env, tmp_path):
    _ch(tmp_path / "ch", f"CREATE TABLE entityMetricEvents ({COLUMNS}) ENGINE = MergeTree ORDER BY entityId")
    r = subprocess.run([*CLI, "verify", "--pg", env.pg, "--target", f"chdb://{tmp_path / 'ch'}",
                        "--metrics", "Image.Like", "--exclude-metrics", "Image.Like",
                        "--no-progress"], capture_output=True, text=True)
    assert r.returncode == 2, r.stderr
    assert "DB::Exception" not in r.stderr, r.stderr


def test_sample_of_an_empty_target_is_still_a_sample(env, tmp_path):
    # a target that lacks events (what verify is for) must still be checked as a sample
    ch = tmp_path / "ch"
    _ch(ch, f"CREATE TABLE entityMetricEvents ({COLUMNS}) ENGINE = MergeTree "
            "ORDER BY (entityType, entityId, createdAt)")
    out = tmp_path / "v.json"
    r = subprocess.run([*CLI, "verify", "--pg", env.pg, "--target", f"chdb://{ch}",
                        "--packages", "image_reaction", "--sample-entities", "5",
                        "--no-progress", "--json", str(out)], capture_output=True, text=True)
    assert r.returncode == 1, r.stderr
    doc = json.loads(out.read_text())
    assert doc["sample"] == 5
    assert max(m["entities"] for m in doc["metrics"]) <= 15, [m["entities"] for m in doc["metrics"]]


def test_compare_chunks_are_about_chunk_rows_even_with_an_outlier_id(env, tmp_path):
    # one event at an extreme id (or heavy-tailed activity) must not put every row in one chunk
    root = tmp_path
    r = subprocess.run([*CLI, "run", "--pg", env.pg, "--target", f"chdb://{root / 'ch'}",
                        "--state", str(root / "state"), "--packages", "image_reaction",
                        "--no-progress"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    _ch(root / "ch", "INSERT INTO entityMetricEvents VALUES "
                     "('Image', 2147483647, 0, 'Like', 1, '2023-01-01 00:00:00')")
    code = textwrap.dedent(f"""
        import sys
        from metric_backfill import verify as V
        from metric_backfill import cli
        V.CHUNK_ROWS = 2000
        sizes = []
        orig = V.Comparison.compare_chunk
        def cc(self, et, names, lo, hi, results):
            where = f"entityType = '{{et}}' AND entityId >= {{lo}} AND entityId < {{hi}}"
            sizes.append(self.query(f"SELECT count() FROM ({{self.sides(names, where)}})")[0][0])
            return orig(self, et, names, lo, hi, results)
        V.Comparison.compare_chunk = cc
        try:
            cli.app(["verify", "--pg", {env.pg!r}, "--target", "chdb://{root / 'ch'}",
                     "--packages", "image_reaction", "--no-progress"], standalone_mode=False)
        finally:
            print("MAX", max(sizes))
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    biggest = int(r.stdout.split("MAX")[-1])
    assert biggest <= 2 * 2000, biggest


def test_bad_verify_usage_is_one_line_and_exit_2(env, tmp_path):
    base = [*CLI, "verify", "--pg", env.pg, "--target", f"chdb://{tmp_path / 'ch'}", "--no-progress"]
    for extra, says in ((["--metrics", "Image.Likes"], "--metrics: Image.Likes"),
                        (["--json", str(tmp_path / "missing" / "v.json")], "--json: cannot write"),
                        (["--sample-entities", "0"], "--sample-entities")):
        r = subprocess.run([*base, *extra], capture_output=True, text=True)
        assert r.returncode == 2, (extra, r.stderr)
        assert says in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_metrics_narrow_the_packages_read_and_progress_is_reported(env, target):  # noqa: F811
    out = target.parent / "narrow.json"
    r = subprocess.run([*CLI, "verify", "--pg", env.pg, "--target", f"chdb://{target}",
                        "--packages", "image_reaction,article_reaction",
                        "--metrics", "User.reactionCount,Image.Like", "--progress-interval", "0",
                        "--json", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    doc = json.loads(out.read_text())
    assert sorted((m["entityType"], m["metricType"]) for m in doc["metrics"]) == [
        ("Image", "Like"), ("User", "reactionCount")]
    assert {(s["entityType"], s["metricType"]) for s in doc["months"]} == {
        ("Image", "Like"), ("User", "reactionCount")}
    assert "progress verify: expected sums:" in r.stderr
    assert "progress verify: compare:" in r.stderr and "ETA" in r.stderr


def test_streamed_batches_become_the_scratch_columns():
    # a ClickHouse server sends Date as UInt16 days; Postgres sends sum(bigint) as numeric
    import datetime as dt
    from decimal import Decimal

    import pyarrow as pa

    from metric_backfill.expected import _SCHEMA, to_schema

    batch = pa.RecordBatch.from_arrays(
        [pa.array(["Image"]), pa.array([7], pa.int32()), pa.array(["Like"]),
         pa.array([19_783], pa.uint16()), pa.array([Decimal(12)], pa.decimal128(38, 0))],
        names=["entityType", "entityId", "metricType", "month", "value"])
    out = to_schema(batch, _SCHEMA)
    assert out.schema == _SCHEMA
    assert out.to_pylist() == [{"entityType": "Image", "entityId": 7, "metricType": "Like",
                                "month": dt.date(2024, 3, 1), "value": 12}]
