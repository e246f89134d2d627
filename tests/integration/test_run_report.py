"""What a run tells its operator: the JSON report (also on failure, and for the whole plan after
a resume), progress without a terminal, and notices that stay true on a resume."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

from metric_backfill.engine import Runner, RunOptions

CLI = [sys.executable, "-m", "metric_backfill.cli"]
PKGS = "buzz_tip,image_reaction,collection_item"


def _args(env, tmp_path, *extra: str) -> list[str]:
    return [*CLI, "run", "--pg", env.pg, "--target", f"chdb://{tmp_path / 'ch'}", "--state",
            str(tmp_path / "state"), "--packages", PKGS, "--batch-size", "40", *extra]


def _wait_for_ledger(proc: subprocess.Popen, tmp_path) -> None:
    ledger = tmp_path / "state" / "ledger.jsonl"
    deadline = time.monotonic() + 120
    while not (ledger.exists() and ledger.read_text().strip()) and time.monotonic() < deadline:
        assert proc.poll() is None, "the run ended before it could be interrupted"
        time.sleep(0.05)


def test_run_json_is_written_on_failure_and_a_resume_reports_the_whole_plan(env, tmp_path):
    report = tmp_path / "run.json"
    proc = subprocess.Popen([*_args(env, tmp_path, "--no-progress"), "--json", str(report)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for_ledger(proc, tmp_path)
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    first = json.loads(report.read_text())
    assert first["complete"] is False and "interrupted" in first["error"]
    assert 0 < first["batches_done"] < first["batches_total"]

    r = subprocess.run([*_args(env, tmp_path, "--no-progress", "--resume"), "--json", str(report)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    second = json.loads(report.read_text())
    assert second["complete"] is True and "error" not in second
    whole = second["plan"]
    assert whole["batches_done"] == second["batches_total"]
    assert whole["events"] == first["events"] + second["events"], (first, second)
    for name, pkg in whole["packages"].items():
        assert pkg["events"] == first["packages"][name]["events"] + second["packages"][name]["events"]


def test_an_aborted_run_json_says_it_was_interrupted(env, tmp_path):
    """A second signal aborts the run (exit 130): its JSON says so in words, as stderr does."""
    report = tmp_path / "run.json"
    proc = subprocess.Popen([*_args(env, tmp_path, "--no-progress", "--batch-size", "20000"),
                             "--json", str(report)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for_ledger(proc, tmp_path)
    proc.send_signal(signal.SIGTERM)
    while "stopping:" not in (line := proc.stderr.readline()) and line:  # type: ignore[union-attr]
        pass
    proc.send_signal(signal.SIGTERM)  # the batches of the drain are still running
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    doc = json.loads(report.read_text())
    assert doc["complete"] is False and doc["error"].startswith("interrupted"), doc


def test_progress_lines_when_stderr_is_not_a_terminal(env, tmp_path):
    r = subprocess.run([*_args(env, tmp_path, "--progress-interval", "0.2")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    lines = [x for x in r.stderr.splitlines() if x.startswith("progress ")]
    assert lines, r.stderr
    assert {name for name in PKGS.split(",") if any(f" {name}:" in x for x in lines)} == set(PKGS.split(","))
    assert all("batches" in x and "events/s" in x for x in lines)
    assert "\r" not in r.stderr, "no progress bars when stderr is not a terminal"


def test_a_resume_does_not_report_the_runs_own_events_as_legacy(env, tmp_path):
    table = env.new_table("legacy_resume")

    def opts(**kw):
        return RunOptions(target=env.ch, pg=env.pg, table=table, packages=["collection_item"],
                          state=tmp_path / "state", progress=False, batch_size=300, **kw)

    Runner(opts(limit_batches=3)).run()
    notes: list[str] = []
    runner = Runner(opts(resume=True))
    runner.log = notes.append
    assert runner.run().complete
    assert not [n for n in notes if "legacy" in n], notes
