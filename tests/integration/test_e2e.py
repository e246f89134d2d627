"""End to end against the real embedded Postgres and chdb: every package, then verify."""

from __future__ import annotations

import json
import subprocess
import sys

from metric_backfill.registry import all_metrics, all_packages
from metric_backfill_lab import seeded
from tests.helpers import backfill_and_verify, ms


def test_all_packages_verify_with_zero_mismatches(env, tmp_path):
    names = list(all_packages())
    report, result = backfill_and_verify(env, names, tmp_path, batch_size=997)
    assert report.complete
    assert [m.name for m in result.metrics] == all_metrics()
    bad = {m.name: m.worst for m in result.metrics if m.mismatches}
    assert not bad
    empty = [m.name for m in result.metrics if m.entities == 0]
    assert not empty, f"metrics with no data in the synthetic set: {empty}"


def test_since_window_to_the_millisecond(env, tmp_path):
    names = [n for n, p in all_packages().items() if p.source == "postgres"]
    report, result = backfill_and_verify(env, names, tmp_path, since=ms("2023-06-01 00:00:00.000"))
    assert report.complete
    assert result.ok, [(m.name, m.worst) for m in result.metrics if m.mismatches]


def test_db_up_prints_exactly_the_dsn_and_db_down_stops(tmp_path):
    d = tmp_path / "db"
    cmd = [sys.executable, "-m", "metric_backfill.cli"]
    up = subprocess.run([*cmd, "db", "up", "--dir", d, "--scale", "0.01"], capture_output=True, text=True)
    try:
        assert up.returncode == 0, up.stderr
        lines = up.stdout.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("postgresql://")
        again = subprocess.run([*cmd, "db", "up", "--dir", d], capture_output=True, text=True)
        assert again.stdout.strip() == lines[0]
        assert (d / "ch").is_dir() and json.loads((d / "seeded.json").read_text())["rows"]
    finally:
        down = subprocess.run([*cmd, "db", "down", "--dir", d], capture_output=True, text=True)
        seeded.destroy(d)  # the cluster may live outside d (a pytest dir the server cannot reach)
    assert down.returncode == 0


def test_db_up_refuses_a_directory_seeded_at_another_scale_or_seed(tmp_path):
    d = tmp_path / "db"
    cmd = [sys.executable, "-m", "metric_backfill.cli", "db"]
    up = subprocess.run([*cmd, "up", "--dir", d, "--scale", "0.01"], capture_output=True, text=True)
    try:
        assert up.returncode == 0, up.stderr
        for other in (["--scale", "0.02"], ["--scale", "0.01", "--seed", "7"]):
            again = subprocess.run([*cmd, "up", "--dir", d, *other], capture_output=True, text=True)
            assert again.returncode == 2, (other, again.stdout, again.stderr)
            assert again.stdout == ""
            assert "seeded at scale 0.01 (seed 42)" in again.stderr, again.stderr
        same = subprocess.run([*cmd, "up", "--dir", d, "--scale", "0.01"], capture_output=True, text=True)
        assert same.returncode == 0 and same.stdout.strip() == up.stdout.strip(), same.stderr
    finally:
        seeded.destroy(d)


def test_clickhouse_packages_pushdown_and_polars_paths_agree(env, tmp_path):
    names = [n for n, p in all_packages().items() if p.source == "clickhouse"]
    totals = {}
    for pushdown in (True, False):
        report, result = backfill_and_verify(env, names, tmp_path, batch_size=5000, pushdown=pushdown)
        assert result.ok, [(m.name, m.worst) for m in result.metrics if m.mismatches]
        stats = report.stats.values()
        assert sum(s.events for s in stats) > 0
        # the server-side path reads nothing into Python; the Polars path does
        assert (sum(s.read_s for s in stats) == 0) is pushdown
        totals[pushdown] = [(m.name, m.actual_total, m.entities) for m in result.metrics]
    assert totals[True] == totals[False]
