"""Cheap checks of the lab's measurement plumbing and the thin benchmark entry points: the
child protocol, the report rendering against the committed results, the profile's markers, the
command lines, and the size of every function."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO

pytestmark = pytest.mark.bench

BENCH = REPO / "benchmarks"


@pytest.mark.parametrize("script", ["run.py", "profile_e2e.py", "verify_scale.py"])
def test_entry_points_answer_help(script: str) -> None:
    out = subprocess.run([sys.executable, str(BENCH / script), "--help"], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("usage:")


def test_run_py_is_a_thin_entry_point() -> None:
    assert len((BENCH / "run.py").read_text().splitlines()) < 150
    assert not (BENCH / "sweep.py").exists()  # `metric-backfill bench batch-sizes` does it


def test_results_md_renders_from_the_committed_results() -> None:
    from metric_backfill_lab.measure.markdown import KEPT_BELOW
    from metric_backfill_lab.measure.render import render

    committed = (BENCH / "RESULTS.md").read_text()
    above = committed[:committed.index(KEPT_BELOW)]
    text = render(json.loads((BENCH / "results.json").read_text()))
    assert text.rstrip("\n") == above.rstrip("\n")


def test_write_report_keeps_what_is_below_the_marker(tmp_path: Path) -> None:
    from metric_backfill_lab.measure.markdown import KEPT_BELOW, write_report

    md = tmp_path / "RESULTS.md"
    write_report(md, "# first\n")
    md.write_text(md.read_text() + "\n## by hand\n\nkept\n")
    write_report(md, "# second\n")
    text = md.read_text()
    assert text.startswith("# second\n\n" + KEPT_BELOW)
    assert text.endswith("## by hand\n\nkept\n") and "# first" not in text


def test_profile_md_renders_from_the_committed_profile() -> None:
    from metric_backfill_lab.measure.profile import render

    doc = json.loads((BENCH / "PROFILE.json").read_text())
    assert render(doc) == (BENCH / "PROFILE.md").read_text()


def test_profile_markers_name_real_functions() -> None:
    from metric_backfill_lab.measure.profile import LIBRARY, markers

    for ref in LIBRARY.values():
        assert callable(ref.resolve()) or isinstance(ref.resolve(), type), ref
    m = markers()  # the project's markers come from the objects: a rename fails here
    names = [x for _, marks in [*m.phases, *m.batch_stages] for x in marks]
    assert "Runner.preflight" in names and "PostgresSource.fetch" in names
    assert m.batch == "Runner.process"


def test_profile_classifies_stacks_by_phase() -> None:
    from metric_backfill_lab.measure.profile import classify

    def stack(*frames: str) -> list[str]:
        return ["Thread 1 (idle): MainThread", *frames]

    batch = "Runner.process (metric_backfill/engine.py:436)"
    assert classify(stack(batch, "PostgresSource.fetch (metric_backfill/sources.py:95)",
                          "read_sql (connectorx/__init__.py:1)", "libconnectorx.so"))[1:] == (
        "batch: read", "ConnectorX")
    assert classify(stack(batch, "Target.insert (metric_backfill/target.py:141)"))[1] == "batch: insert"
    assert classify(stack(batch, "explode (metric_backfill/events.py:158)"))[1] == "batch: transform (explode)"
    assert classify(stack("Runner.preflight (metric_backfill/engine.py:284)", "libc.so.6"))[1:] == (
        "preflight", "kernel / libc (I/O, waits)")
    assert classify(stack("Runner._execute (metric_backfill/engine.py:445)",
                          "Condition.wait (threading.py:320)"))[1] == "main: waiting for batch threads"
    assert classify(stack("somewhere (x.py:1)"))[1] == "other (start-up, shutdown)"


def test_child_protocol_round_trip(tmp_path: Path) -> None:
    from metric_backfill_lab.child import run_child

    got = run_child("ping", {"echo": [1, "two"]}, tmp_path / "ping")
    assert got["echo"] == [1, "two"]
    assert got["pid"] != os.getpid()
    assert got["child_process_seconds"] > 0


def test_child_failure_raises_with_the_log_tail(tmp_path: Path) -> None:
    from metric_backfill_lab.child import run_child

    with pytest.raises(RuntimeError, match="(?s)child e2e failed.*KeyError"):
        run_child("e2e", {}, tmp_path / "bad")
    with pytest.raises(ValueError, match="no child kind"):
        run_child("nothing", {}, tmp_path / "none")


def test_one_registry_of_child_kinds() -> None:
    from metric_backfill_lab import bench, child

    kinds = child.kinds()
    assert {"ping", "seed", "e2e", "misc", "native"} <= kinds.keys()
    assert all(callable(k.fn) for k in kinds.values())
    assert not kinds["seed"].fast_exit  # the seeded chdb path is kept: chdb shuts down cleanly
    assert bench.run_child is child.run_child  # the e2e runs go through the one protocol
    for gone in ("child_main", "CHILD_KINDS", "fast_exit", "cli_env", "sweep"):
        assert not hasattr(bench, gone), gone
