"""Fault injection against the real embedded Postgres and chdb (in subprocesses).

chdb holds one data path per process, so each scenario writes into its own chdb directory
from child processes, and reads it back from a child too.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from metric_backfill import pgserver

CLI = [sys.executable, "-m", "metric_backfill.cli"]
PACKAGES = "buzz_tip,user_engagement,image_reaction,tag_engagement,comment_v2"
KILLS = 12
SEED = 20261126


def _args(env, target_dir: Path, state: Path, *extra: str) -> list[str]:
    return [*CLI, "run", "--pg", env.pg, "--target", f"chdb://{target_dir}", "--state", str(state),
            "--packages", PACKAGES, "--batch-size", "150", "--no-progress", *extra]


def _verify(env, target_dir: Path, tmp: Path) -> dict:
    out = tmp / f"verify-{time.monotonic_ns()}.json"
    r = subprocess.run([*CLI, "verify", "--pg", env.pg, "--target", f"chdb://{target_dir}",
                        "--packages", PACKAGES, "--json", str(out)], capture_output=True, text=True)
    assert r.returncode in (0, 1), r.stderr
    return json.loads(out.read_text())


def _count(target_dir: Path) -> int:
    code = ("import clickhouse_connect as c; "
            f"print(c.get_client(dsn='chdb://{target_dir}').query('SELECT count() FROM entityMetricEvents').result_rows[0][0])")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return int(r.stdout.strip())


@pytest.fixture(scope="module")
def reference(env, tmp_path_factory):
    """An uninterrupted run: its event count, batch count and wall time."""
    tmp = tmp_path_factory.mktemp("ref")
    t0 = time.monotonic()
    r = subprocess.run([*_args(env, tmp / "ch", tmp / "state"), "--json", str(tmp / "run.json")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    doc = json.loads((tmp / "run.json").read_text())
    events = sum(p["events"] for p in doc["packages"].values())
    return {"events": events, "batches": doc["batches_total"], "seconds": time.monotonic() - t0}


def _kill_until_done(env, rng, target: Path, state: Path, horizon: float) -> int:
    """Start `run --resume` again and again, SIGKILLing it at a random instant, until one
    attempt completes by itself; returns the number of kills."""
    kills = 0
    for _attempt in range(100):
        proc = subprocess.Popen(_args(env, target, state, "--resume"), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            proc.wait(timeout=rng.uniform(0.2, horizon))
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
            continue
        assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
        return kills
    raise AssertionError("the run never completed")


def test_sigkill_at_random_points_then_resume_is_exactly_once(env, reference, tmp_path):
    rng = random.Random(SEED)
    horizon = max(1.0, reference["seconds"] * 0.9)
    kills = cycles = 0
    while kills < KILLS:
        target, state = tmp_path / f"ch{cycles}", tmp_path / f"state{cycles}"
        kills += _kill_until_done(env, rng, target, state, horizon)
        cycles += 1
        assert _count(target) == reference["events"], "events lost or duplicated"
        result = _verify(env, target, tmp_path)
        assert result["ok"], [m for m in result["metrics"] if m["mismatches"]]
        plan_id = json.loads((state / "plan.json").read_text())["plan_id"]
        ledger = [json.loads(line) for line in (state / "ledger.jsonl").read_text().splitlines()
                  if line.strip().endswith("}")]
        assert len({e["batch"] for e in ledger if e.get("plan") == plan_id}) == reference["batches"]
    print(f"kills={kills} cycles={cycles} events/cycle={reference['events']}")


def test_postgres_restart_mid_run_is_retried(env, reference, tmp_path):
    target, state = tmp_path / "ch", tmp_path / "state"
    proc = subprocess.Popen(_args(env, target, state, "--retries", "8"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    time.sleep(2.0)
    assert proc.poll() is None, "run finished before the restart; make it longer"
    pgserver.restart(env.root)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    assert _count(target) == reference["events"]


def test_torn_ledger_line_then_resume(env, reference, tmp_path):
    target, state = tmp_path / "ch", tmp_path / "state"
    r = subprocess.run(_args(env, target, state, "--limit-batches", "5"), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    with open(state / "ledger.jsonl", "ab") as f:
        f.write(b'{"plan":"x","batch":"buzz_tip:9","ro')
    r = subprocess.run(_args(env, target, state, "--resume"), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "torn" in r.stderr
    assert _count(target) == reference["events"]
