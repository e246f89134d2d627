"""`load` inserts an audit directory only when it is provably whole: every batch of the plan
recorded in audit.json has a manifest entry, a file and a matching checksum, and nothing else
is there. Real Postgres, real chdb; crashes are SIGKILLs of real subprocesses."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from metric_backfill.clickhouse import ClickHouse
from metric_backfill.engine import Runner, RunOptions
from metric_backfill.errors import UserError
from metric_backfill.load import load
from metric_backfill.target import Target

CLI = [sys.executable, "-m", "metric_backfill.cli"]
PKGS = ["buzz_tip", "image_reaction", "collection_item"]
SLOW_PKGS = "buzz_tip,image_reaction"


def _audit_run(env, root: Path, state: Path, batch_size: int):
    return Runner(RunOptions(target=env.ch, pg=env.pg, packages=PKGS, state=state, progress=False,
                             batch_size=batch_size, parquet_dir=root, no_insert=True)).run()


@pytest.fixture(scope="module")
def audit(env, tmp_path_factory):
    """A complete audit directory (never modified by the tests: they work on copies)."""
    tmp = tmp_path_factory.mktemp("audit")
    report = _audit_run(env, tmp / "audit", tmp / "state", 300)
    events = sum(s.events for s in report.stats.values())
    return {"root": tmp / "audit", "report": report, "events": events}


def _copy(audit, tmp_path: Path) -> Path:
    dst = tmp_path / "copy"
    shutil.copytree(audit["root"], dst)
    return dst


def _manifest_lines(root: Path) -> list[dict]:
    out = []
    for line in (root / "manifest.jsonl").read_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def _count(target_dir: Path, table: str = "entityMetricEvents") -> int:
    code = ("import clickhouse_connect as c; "
            f"print(c.get_client(dsn='chdb://{target_dir}').query('SELECT count() FROM `{table}`').result_rows[0][0])")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return int(r.stdout.strip())


# --- corruptions of a complete audit directory ----------------------------------------------
def cut_mid_line(env, root: Path, tmp_path: Path) -> None:
    """The manifest cut in the middle of a line: that entry and every later one are lost."""
    data = (root / "manifest.jsonl").read_bytes()
    lines = data.splitlines(keepends=True)
    keep = len(lines) // 2
    (root / "manifest.jsonl").write_bytes(b"".join(lines[:keep]) + lines[keep][: len(lines[keep]) // 2])


def stray_file(env, root: Path, tmp_path: Path) -> None:
    """A Parquet file on disk that no manifest line names."""
    first = sorted(root.glob("*/*.parquet"))[0]
    shutil.copy(first, first.parent / "000999.parquet")


def other_plans_entry(env, root: Path, tmp_path: Path) -> None:
    """A file and its manifest line from another plan's audit of the same packages."""
    other = tmp_path / "other-audit"
    _audit_run(env, other, tmp_path / "other-state", 200)
    foreign = [e for e in _manifest_lines(other) if not (root / e["file"]).exists()]
    assert foreign, "the other plan should have batches this one does not"
    e = foreign[0]
    (root / e["file"]).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(other / e["file"], root / e["file"])
    with open(root / "manifest.jsonl", "a") as m:
        m.write(json.dumps(e) + "\n")


def no_audit_json(env, root: Path, tmp_path: Path) -> None:
    """A directory that does not say which plan it belongs to."""
    (root / "audit.json").unlink(missing_ok=True)


CORRUPTIONS = [
    # (corruption, words the refusal must contain, events loaded by --partial: None = refused too)
    (cut_mid_line, "missing", "prefix"),
    (stray_file, "not in the manifest", "all"),
    (other_plans_entry, "another plan", "all"),
    (no_audit_json, "audit.json", None),
]


@pytest.mark.parametrize(("corrupt", "needle", "partial"), CORRUPTIONS,
                         ids=[c[0].__name__ for c in CORRUPTIONS])
def test_load_refuses_an_incomplete_or_inconsistent_audit_set(env, audit, tmp_path, corrupt,
                                                              needle, partial):
    root = _copy(audit, tmp_path)
    corrupt(env, root, tmp_path)
    table = env.new_table("refused")
    with pytest.raises(UserError, match=needle) as refused:
        load(root, env.ch, table, tmp_path / "load-state")
    assert "\n" not in str(refused.value)
    assert not Target(ClickHouse(env.ch), table).exists(), "nothing is written before the checks"

    if partial is None:
        with pytest.raises(UserError, match=needle):
            load(root, env.ch, table, tmp_path / "load-state", partial=True)
        return
    files, events = load(root, env.ch, table, tmp_path / "load-state", partial=True)
    if partial == "all":
        assert (files, events) == (audit["report"].batches_total, audit["events"])
    else:
        complete = {e["batch"]: e["rows"] for e in _manifest_lines(root)}
        assert 0 < files == len(complete) < audit["report"].batches_total
        assert events == sum(complete.values())


def test_audit_json_records_the_plan_and_every_batch(audit):
    doc = json.loads((audit["root"] / "audit.json").read_text())
    report = audit["report"]
    assert doc["plan_id"] == report.plan_id and doc["fingerprint"]
    assert len(doc["batches"]) == len(set(doc["batches"])) == report.batches_total


def test_a_run_refuses_a_parquet_dir_holding_another_plans_audit(env, audit, tmp_path):
    root = _copy(audit, tmp_path)
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    with pytest.raises(UserError, match="--parquet-dir") as refused:
        _audit_run(env, root, tmp_path / "another-state", 250)
    assert "\n" not in str(refused.value)
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before


def test_a_torn_manifest_tail_is_sealed_before_the_next_entry(tmp_path):
    import pyarrow as pa

    from metric_backfill.sinks import ParquetSink

    sink = ParquetSink(tmp_path)
    events = pa.table({"x": [1, 2, 3]})
    sink.write("p:0", "plan:p:0", events)
    with open(tmp_path / "manifest.jsonl", "ab") as m:
        m.write(b'{"batch": "p:1", "fi')  # a crash in the middle of an append
    sink.write("p:1", "plan:p:1", events)
    assert [e["batch"] for e in _manifest_lines(tmp_path)] == ["p:0", "p:1"]


def test_load_after_a_sigkilled_audit_run_refuses_then_partial_then_resume(env, tmp_path):
    audit_dir, state = tmp_path / "audit", tmp_path / "state"
    run = [*CLI, "run", "--pg", env.pg, "--state", str(state), "--packages", SLOW_PKGS,
           "--batch-size", "40", "--parquet-dir", str(audit_dir), "--no-insert", "--no-progress"]
    proc = subprocess.Popen(run, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    manifest = audit_dir / "manifest.jsonl"
    deadline = time.monotonic() + 120
    while not (manifest.exists() and len(manifest.read_text().splitlines()) >= 4):
        assert proc.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    target = tmp_path / "ch"
    loader = [*CLI, "load", "--parquet-dir", str(audit_dir), "--target", f"chdb://{target}",
              "--state", str(tmp_path / "load-state")]
    r = subprocess.run(loader, capture_output=True, text=True)
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "missing" in r.stderr, r.stderr
    assert not target.exists(), "a refused load writes nothing"

    r = subprocess.run([*loader, "--partial"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "missing" in r.stderr
    partial = {e["batch"]: e["rows"] for e in _manifest_lines(audit_dir)}
    assert _count(target) == sum(partial.values())

    r = subprocess.run([*run, "--resume"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(loader, capture_output=True, text=True)
    assert r.returncode == 2 and "--resume" in r.stderr, r.stderr
    r = subprocess.run([*loader, "--resume"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr

    reference = Runner(RunOptions(target=env.ch, pg=env.pg, packages=SLOW_PKGS.split(","),
                                  state=tmp_path / "ref", dry_run=True, progress=False)).run()
    assert _count(target) == sum(s.events for s in reference.stats.values())


def test_the_load_ledger_belongs_to_its_target_and_table(env, audit, tmp_path):
    everything = (audit["report"].batches_total, audit["events"])
    state = tmp_path / ".metric-backfill" / "load"  # where the CLI's default --state keeps it
    first, second = env.new_table("first"), env.new_table("second")
    assert load(audit["root"], env.ch, first, state) == everything
    assert load(audit["root"], env.ch, second, state) == everything, "another table, another load"
    assert load(audit["root"], env.ch, second, state) == (0, 0)

    for name in ("one", "two"):  # two targets, both with the default --state of this directory
        target = tmp_path / f"ch-{name}"
        r = subprocess.run([*CLI, "load", "--parquet-dir", str(audit["root"]), "--target",
                            f"chdb://{target}"], capture_output=True, text=True, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert _count(target) == audit["events"], (name, r.stderr)


def test_a_load_killed_before_its_first_ledger_line_resumes(env, audit, tmp_path):
    """SIGKILL the moment the first file's part is in the target (inserted, not yet ledgered):
    `load --resume` continues it under the files' tokens (the target's events of the files are
    its own), exactly; without --resume it is refused as an unfinished load."""
    target, state = tmp_path / "ch", tmp_path / "state"
    args = [*CLI, "load", "--parquet-dir", str(audit["root"]), "--target", f"chdb://{target}",
            "--state", str(state)]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    while proc.poll() is None and not [p for p in target.glob("store/*/*/*_*_*_*")
                                       if not p.name.startswith("tmp")]:
        time.sleep(0.001)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert _count(target) > 0, "the kill came before the first insert"
    ledger = state / "load" / "ledger.jsonl"  # the CLI keeps a load's under load/
    assert not any(json.loads(x).get("file") for x in (ledger.read_text().splitlines()
                                                        if ledger.exists() else [])), "too late"
    r = subprocess.run(args, capture_output=True, text=True)
    assert r.returncode == 2 and "--resume" in r.stderr, r.stderr
    r = subprocess.run([*args, "--resume"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert _count(target) == audit["events"]


def test_a_load_stopped_by_sigterm_says_so_in_one_line_and_resumes(env, tmp_path):
    """SIGTERM (a service manager, a timeout) ends a load as Ctrl-C does: exit 130, one line
    naming --resume, not death by the signal; the resume is exact."""
    report = _audit_run(env, tmp_path / "audit", tmp_path / "audit-state", 40)  # many files
    target, state = tmp_path / "ch", tmp_path / "state"
    args = [*CLI, "load", "--parquet-dir", str(tmp_path / "audit"), "--target",
            f"chdb://{target}", "--state", str(state)]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    ledger = state / "load" / "ledger.jsonl"  # the CLI keeps a load's under load/
    while proc.poll() is None and not ledger.exists():  # begun: the first insert is next
        time.sleep(0.001)
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (proc.returncode, err)
    assert err.strip().splitlines()[-1] == "error: interrupted; continue with --resume", err
    r = subprocess.run([*args, "--resume"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert _count(target) == sum(s.events for s in report.stats.values())
