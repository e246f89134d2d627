"""Fault injection against the real embedded Postgres and chdb (in subprocesses).

chdb holds one data path per process, so each scenario writes into its own chdb directory
from child processes, and reads it back from a child too. The ClickHouse scenarios copy a
chdb directory seeded with the three ClickHouse source tables, so the source is the target
(pushdown) exactly as in production.

Kill instants are drawn from a seeded generator and printed: a kill counts only if a batch of
that attempt had already been acknowledged (so batches were running when it landed).
"""

from __future__ import annotations

import json
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from metric_backfill_lab import pgserver
from tests.helpers import SCALE, SEED

CLI = [sys.executable, "-m", "metric_backfill.cli"]
PG_PACKAGES = "buzz_tip,user_engagement,image_reaction,tag_engagement,comment_v2"
CH_PACKAGES = "model_version_events,orchestration_jobs,buzz_resource_compensation"
KILL_SEED = 20261202


@dataclass(frozen=True)
class Scenario:
    packages: str
    kills: int
    extra: tuple[str, ...] = ()
    clickhouse_sources: bool = False


SCENARIOS = {
    "postgres": Scenario(PG_PACKAGES, kills=12),
    "clickhouse-pushdown": Scenario(CH_PACKAGES, kills=20, clickhouse_sources=True),
    "clickhouse-polars": Scenario(CH_PACKAGES, kills=6, extra=("--no-pushdown",),
                                  clickhouse_sources=True),
}


def _args(env, s: Scenario, target_dir: Path, state: Path, *extra: str) -> list[str]:
    return [*CLI, "run", "--pg", env.pg, "--target", f"chdb://{target_dir}", "--state", str(state),
            "--packages", s.packages, "--batch-size", "150", "--no-progress", *s.extra, *extra]


def _query(target_dir: Path, sql: str) -> list:
    code = ("import json, clickhouse_connect as c; "
            f"print(json.dumps(c.get_client(dsn='chdb://{target_dir}').query({sql!r}).result_rows))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def _outcome(target_dir: Path) -> dict:
    """Event count, and sums and counts per (entityType, metricType, month)."""
    months = _query(target_dir, "SELECT entityType, metricType, toYYYYMM(createdAt), "
                                "toInt64(sum(metricValue)), count() FROM entityMetricEvents "
                                "GROUP BY ALL ORDER BY ALL")
    return {"count": sum(m[4] for m in months), "months": months}


def _verify(env, s: Scenario, target_dir: Path, tmp: Path) -> dict:
    out = tmp / f"verify-{time.monotonic_ns()}.json"
    r = subprocess.run([*CLI, "verify", "--pg", env.pg, "--target", f"chdb://{target_dir}",
                        "--packages", s.packages, "--json", str(out)], capture_output=True, text=True)
    assert r.returncode in (0, 1), r.stderr
    return json.loads(out.read_text())


def _ledger_lines(state: Path) -> int:
    path = state / "ledger.jsonl"
    return path.read_bytes().count(b"\n") if path.exists() else 0


@pytest.fixture(scope="module")
def ch_sources(tmp_path_factory) -> Path:
    """A chdb directory holding only the ClickHouse source tables of the session's data."""
    d = tmp_path_factory.mktemp("ch-sources") / "ch"
    code = ("import clickhouse_connect as c; from metric_backfill_lab.synth import seed_clickhouse; "
            f"seed_clickhouse(c.get_client(dsn='chdb://{d}'), {SCALE}, {SEED})")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return d


def _fresh_target(s: Scenario, ch_sources: Path, where: Path) -> Path:
    if s.clickhouse_sources:
        shutil.copytree(ch_sources, where, symlinks=True)  # chdb links metadata relatively
    return where


@pytest.fixture(scope="module")
def reference(env, ch_sources, tmp_path_factory):
    """The uninterrupted run of a scenario (made once per module)."""
    made: dict[str, dict] = {}

    def get(name: str) -> dict:
        if name not in made:
            made[name] = _reference(env, SCENARIOS[name], ch_sources, tmp_path_factory.mktemp(name))
        return made[name]

    return get


def _reference(env, s: Scenario, ch_sources: Path, tmp: Path) -> dict:
    """An uninterrupted run: its outcome, batch count, and how long batches take to start/end."""
    target, state = _fresh_target(s, ch_sources, tmp / "ref-ch"), tmp / "ref-state"
    t0 = time.monotonic()
    proc = subprocess.Popen([*_args(env, s, target, state), "--json", str(tmp / "run.json")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while _ledger_lines(state) == 0 and proc.poll() is None:
        time.sleep(0.01)
    first_ack = time.monotonic() - t0
    _out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    doc = json.loads((tmp / "run.json").read_text())
    return {"outcome": _outcome(target), "batches": doc["batches_total"],
            "after_first_ack": max(0.3, time.monotonic() - t0 - first_ack)}


def _kill_until_done(env, s: Scenario, rng: random.Random, target: Path, state: Path,
                     horizon: float, log: list[str]) -> int:
    """Start `run --resume` again and again, SIGKILLing it at a seeded instant after its first
    acknowledged batch, until one attempt completes by itself; returns the counted kills."""
    kills = 0
    for _attempt in range(300):
        before = _ledger_lines(state)
        delay = rng.uniform(0.0, horizon)
        proc = subprocess.Popen(_args(env, s, target, state, "--resume"), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        while _ledger_lines(state) == before and proc.poll() is None:
            time.sleep(0.005)
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
            log.append(f"kill {delay:.3f}s after the first ack")
            continue
        assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
        return kills
    raise AssertionError("the run never completed")


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_sigkill_at_random_points_then_resume_is_exactly_once(env, ch_sources, reference, tmp_path, name):
    s = SCENARIOS[name]
    ref = reference(name)
    rng = random.Random(KILL_SEED)
    log = [f"{name}: kill seed {KILL_SEED}, horizon {ref['after_first_ack']:.2f}s"]
    kills = cycles = 0
    while kills < s.kills:
        target = _fresh_target(s, ch_sources, tmp_path / f"ch{cycles}")
        state = tmp_path / f"state{cycles}"
        kills += _kill_until_done(env, s, rng, target, state, ref["after_first_ack"], log)
        cycles += 1
        got = _outcome(target)
        assert got["count"] == ref["outcome"]["count"], ("events lost or duplicated", log)
        assert got["months"] == ref["outcome"]["months"], ("sums per month differ", log)
        result = _verify(env, s, target, tmp_path)
        assert result["ok"], [m for m in result["metrics"] if m["mismatches"]]
        plan_id = json.loads((state / "plan.json").read_text())["plan_id"]
        ledger = [json.loads(line) for line in (state / "ledger.jsonl").read_text().splitlines()
                  if line.strip().endswith("}")]
        assert len({e["batch"] for e in ledger if e.get("plan") == plan_id}) == ref["batches"]
    print("\n".join(log), f"\nkills={kills} cycles={cycles} events/cycle={ref['outcome']['count']}")


def test_postgres_restart_mid_run_is_retried(env, reference, tmp_path):
    s = SCENARIOS["postgres"]
    ref = reference("postgres")
    target, state = tmp_path / "ch", tmp_path / "state"
    proc = subprocess.Popen(_args(env, s, target, state, "--retries", "8", "--concurrency", "1"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while _ledger_lines(state) < 3 and proc.poll() is None:
        time.sleep(0.01)
    assert proc.poll() is None, "run finished before the restart; make it longer"
    pgserver.restart(env.root)
    _out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    assert _outcome(target) == ref["outcome"]


def test_torn_ledger_line_then_resume(env, reference, tmp_path):
    s = SCENARIOS["postgres"]
    ref = reference("postgres")
    target, state = tmp_path / "ch", tmp_path / "state"
    r = subprocess.run(_args(env, s, target, state, "--limit-batches", "5"), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    with open(state / "ledger.jsonl", "ab") as f:
        f.write(b'{"plan":"x","batch":"buzz_tip:9","ro')
    r = subprocess.run(_args(env, s, target, state, "--resume"), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "torn" in r.stderr
    assert _outcome(target) == ref["outcome"]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupts_after_the_outcome_was_said_leave_the_exit_alone(env, reference, tmp_path, sig):
    """One signal (the run drains, ledgers and says so), then the same every 20 ms from the
    moment its error line is out until the process is gone (an impatient Ctrl-C, a service
    manager repeating its stop): the exit is left alone: exit 1, that line last, neither a
    traceback nor death by the signal; a resume is exact."""
    s = SCENARIOS["postgres"]
    ref = reference("postgres")
    target, state = tmp_path / "ch", tmp_path / "state"
    proc = subprocess.Popen(_args(env, s, target, state), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    while _ledger_lines(state) < 2 and proc.poll() is None:
        time.sleep(0.01)
    proc.send_signal(sig)
    lines = []
    while not (lines and lines[-1].startswith("error: ")) and (line := proc.stderr.readline()):
        lines.append(line)
    while proc.poll() is None:
        proc.send_signal(sig)
        time.sleep(0.02)
    err = "".join(lines) + proc.stderr.read()
    assert proc.returncode == 1, (proc.returncode, err)
    assert err.strip().splitlines()[-1].startswith("error: interrupted: "), err
    assert "Traceback" not in err and "Exception ignored" not in err, err
    r = subprocess.run(_args(env, s, target, state, "--resume"), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert _outcome(target) == ref["outcome"]


def test_a_second_interrupt_aborts_at_once_in_one_line(env, reference, tmp_path):
    """SIGINT every 20 ms from the second acknowledged batch on (the first drains, the second
    aborts while batches are still inside chdb): exit 130, the interrupted line last and nothing
    after it (no message from chdb closing under running inserts, no death by a signal); a
    resume is exact, as after a kill."""
    s = SCENARIOS["postgres"]
    ref = reference("postgres")
    target, state = tmp_path / "ch", tmp_path / "state"
    proc = subprocess.Popen(_args(env, s, target, state), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    while _ledger_lines(state) < 2 and proc.poll() is None:
        time.sleep(0.01)
    while proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        time.sleep(0.02)
    assert proc.stderr is not None
    err = proc.stderr.read()
    assert proc.returncode == 130, (proc.returncode, err)
    assert err.strip().splitlines()[-1] == "error: interrupted; continue with --resume", err
    assert "Exception" not in err and "Traceback" not in err, err
    r = subprocess.run(_args(env, s, target, state, "--resume"), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert _outcome(target) == ref["outcome"]
