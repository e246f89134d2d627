"""One process at a time per state directory: a second `run` (or `load`) on the same --state is
refused at once with one line, and the first one goes on untouched. Real subprocesses, real
Postgres and chdb."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from metric_backfill.clickhouse import ClickHouse
from metric_backfill.engine import Runner, RunOptions
from metric_backfill.errors import UserError
from metric_backfill.load import load
from metric_backfill.target import Target
from tests.helpers import chdb_count

CLI = [sys.executable, "-m", "metric_backfill.cli"]
PKGS = "buzz_tip,image_reaction"


def _wait_for(path, proc, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert proc.poll() is None, "the first process ended too early"
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def test_a_second_run_on_the_same_state_is_refused_and_the_first_completes(env, tmp_path):
    state, target = tmp_path / "state", tmp_path / "ch-a"
    # small batches, one at a time: the first run must outlast the second one's start-up
    first = subprocess.Popen(
        [*CLI, "run", "--pg", env.pg, "--target", f"chdb://{target}", "--state", str(state),
         "--packages", PKGS, "--batch-size", "20", "--concurrency", "1", "--no-progress"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    plan = state / "plan.json"
    _wait_for(plan, first)
    saved = plan.read_bytes()

    second = subprocess.run(
        [*CLI, "run", "--pg", env.pg, "--target", f"chdb://{tmp_path / 'ch-b'}", "--state",
         str(state), "--packages", "buzz_tip", "--batch-size", "100", "--no-progress"],
        capture_output=True, text=True, timeout=300)
    overlapped = first.poll() is None
    assert second.returncode == 2, second.stderr
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and str(state) in lines[0] and "another run" in lines[0], second.stderr
    assert plan.read_bytes() == saved, "the first run's plan was replaced"
    assert not (tmp_path / "ch-b").exists(), "the refused run wrote nothing"
    assert overlapped, "the first run ended before the second started: make it slower"

    _out, err = first.communicate(timeout=600)
    assert first.returncode == 0, err
    reference = Runner(RunOptions(target=env.ch, pg=env.pg, packages=PKGS.split(","),
                                  state=tmp_path / "ref", dry_run=True, progress=False)).run()
    assert chdb_count(target) == sum(s.events for s in reference.stats.values())


def test_a_load_is_refused_while_another_process_holds_its_state(env, tmp_path):
    audit = tmp_path / "audit"
    Runner(RunOptions(target=env.ch, pg=env.pg, packages=["buzz_tip"], state=tmp_path / "run",
                      parquet_dir=audit, no_insert=True, progress=False)).run()
    state = tmp_path / "load-state"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; from metric_backfill.statelock import state_lock\n"
         f"with state_lock(Path({str(state)!r})):\n    print('held', flush=True); time.sleep(600)"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held", \
            holder.stderr.read() if holder.stderr else ""
        table = env.new_table("locked")
        with pytest.raises(UserError, match="another run") as refused:
            load(audit, env.ch, table, state)
        assert str(state) in str(refused.value) and "\n" not in str(refused.value)
        assert not Target(ClickHouse(env.ch), table).exists()
    finally:
        holder.kill()
        holder.wait()
    assert load(audit, env.ch, env.new_table("unlocked"), state)[0] > 0
