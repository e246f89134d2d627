"""Smoke tests of the benchmarks: benchmarks/run.py end to end at a tiny scale, and the sweep
(the lab's function and ``metric-backfill bench batch-sizes`` on a seeded directory)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO

pytestmark = pytest.mark.bench

RESULT_KEYS = {
    "floor_rows_per_s", "reader_rows_per_s", "adbc_rows_per_s", "transform_events_per_s",
    "insert_events_per_s", "e2e_rows_per_s", "e2e_events_per_s", "events_per_row",
    "rowwise_events_per_s", "native_events_per_s", "peak_rss_mb", "machine", "date",
}


def test_run_quick_tiny(tmp_path: Path) -> None:
    out = tmp_path / "out" / "results.json"
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "run.py"), "--quick", "--scale", "0.02",
         "--packages", "buzz_tip,model_version_events", "--rowwise-rows", "300",
         "--json", str(out)],  # no --dir: run.py's own temp dir (and its cluster) is removed
        capture_output=True, text=True, timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads(out.read_text())
    assert not RESULT_KEYS - doc.keys(), RESULT_KEYS - doc.keys()
    for key in RESULT_KEYS - {"peak_rss_mb", "machine", "date"}:
        assert doc[key] and doc[key] > 0, key
    assert set(doc["peak_rss_mb"]) == {"0.02", "0.005"}
    assert doc["native_match"] == {"buzz_tip": True}  # native SQL emits the same events
    assert doc["adbc_equal"] is True
    assert doc["clickhouse_packages"]["model_version_events"]["events"] > 0
    assert "## Target ratios" in (out.parent / "RESULTS.md").read_text()


def test_sweep_tiny(env, tmp_path: Path) -> None:  # noqa: ANN001
    from metric_backfill_lab.sweep import recommend, sweep

    lines: list[str] = []
    png = tmp_path / "sweep.png"
    rows = sweep(env.pg, ["user_engagement"], [200, 100_000], [1], tmp_path / "runs", png,
                 echo=lines.append)
    assert [(r["batch_size"], r["concurrency"]) for r in rows] == [(200, 1), (100_000, 1)]
    assert rows[0]["events"] == rows[1]["events"] > 0
    assert all(r["peak_rss_mb"] > 0 and r["events_per_s"] > 0 for r in rows)
    assert sum(r["recommended"] for r in rows) == 1
    assert recommend(rows) in rows
    assert any("recommended" in line for line in lines)
    assert png.read_bytes()[:4] == b"\x89PNG"  # matplotlib comes with the lab


def test_bench_batch_sizes_on_a_seeded_dir_writes_its_reports(env, tmp_path: Path) -> None:  # noqa: ANN001
    import psycopg

    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "metric_backfill.cli", "bench", "batch-sizes", "--seeded", str(env.root),
         "--packages", "user_engagement", "--batch-sizes", "100000", "--concurrency", "1",
         "--dir", str(tmp_path / "runs"), "--md", str(out / "SWEEP.md"),
         "--json", str(out / "SWEEP.json"), "--png", str(out / "sweep.png")],
        capture_output=True, text=True, timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads((out / "SWEEP.json").read_text())
    assert (doc["scale"], doc["seed"], doc["packages"]) == (0.02, 7, ["user_engagement"])
    assert doc["recommended"]["batch_size"] == 100_000 and doc["rows"][0]["events"] > 0
    md = (out / "SWEEP.md").read_text()
    assert md.startswith("# Batch-size sweep (scale 0.02, 1 packages)")
    assert "← recommended" in md and "![sweep](sweep.png)" in md
    assert (out / "sweep.png").read_bytes()[:4] == b"\x89PNG"
    with psycopg.connect(env.pg) as conn:  # a cluster that was running is left running
        assert conn.execute("SELECT 1").fetchone() == (1,)
