"""A SIGKILL between chdb's deduplication-log record and its part rename must not lose the part.

ClickHouse appends a block id to ``deduplication_logs/`` and only then renames ``tmp_insert_*``
to the part; a crash in between keeps the id but not the part, and the retry under the same
token was dropped as a duplicate. The unit tests build that state by hand; the end-to-end test
makes chdb itself die at the rename (strace fault injection), then retries.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from metric_backfill.chdbdedup import chdb_path, rearm_lost_blocks


def _table(root: Path, parts: list[str], log: str) -> Path:
    table = root / "store" / "abc" / "abc-uuid"
    (table / "deduplication_logs").mkdir(parents=True)
    (table / "detached").mkdir()
    (table / "format_version.txt").write_text("1")
    for p in parts:
        (table / p).mkdir()
    (table / "deduplication_logs" / "deduplication_log_1.txt").write_text(log)
    return table


def test_block_whose_part_is_gone_is_rearmed_once(tmp_path):
    log = ("1\t202201_1_1_0\t202201_a_0\n"       # committed, then merged into 202201_1_3_1
           "1\t202201_3_3_0\t202201_b_0\n"
           "1\t202202_2_2_0\t202202_a_0\n"       # committed, still on disk
           "1\t202203_4_4_0\t202203_c_0\n"       # lost: tmp_insert_* only
           "1\t202204_5_5_0\t202204_d_0\n"       # dropped afterwards (DROP record)
           "2\t202204_5_5_0\t202204_d_0\n")
    table = _table(tmp_path, ["202201_1_3_1", "202202_2_2_0", "tmp_insert_202203_3_3_0"], log)
    lost = rearm_lost_blocks(tmp_path)
    assert [(r.part, r.block_id) for r in lost] == [("202203_4_4_0", "202203_c_0")]
    text = (table / "deduplication_logs" / "deduplication_log_1.txt").read_text()
    assert text == log + "2\t202203_4_4_0\t202203_c_0\n"
    assert rearm_lost_blocks(tmp_path) == []  # idempotent


def test_unreadable_log_or_old_format_is_left_alone(tmp_path):
    table = _table(tmp_path, [], "1\t202203_4_4_0\t202203_c_0\n1\t2022")
    assert rearm_lost_blocks(tmp_path) == []
    (table / "deduplication_logs" / "deduplication_log_1.txt").write_text("1\t202203_4_4_0\tx\n")
    (table / "format_version.txt").write_text("0")
    assert rearm_lost_blocks(tmp_path) == []


def test_chdb_path():
    assert chdb_path("chdb:///srv/ch") == Path("/srv/ch")
    assert chdb_path("chdb:///srv/ch?x=1") == Path("/srv/ch")
    assert chdb_path("chdb://:memory:") is None


_INSERT = textwrap.dedent("""
    import datetime as dt, sys
    import pyarrow as pa
    from metric_backfill.clickhouse import ClickHouse
    from metric_backfill.events import EVENT_ARROW_SCHEMA
    from metric_backfill.target import Target
    t = Target(ClickHouse("chdb://" + sys.argv[1]), "entityMetricEvents")
    t.ensure()
    n = 900
    tab = pa.table({"entityType": ["A"] * n, "entityId": list(range(n)), "userId": [1] * n,
                    "metricType": ["m"] * n, "metricValue": [1] * n,
                    "createdAt": [dt.datetime(2022, 1 + i % 3, 5) for i in range(n)]})
    t.insert(tab.cast(EVENT_ARROW_SCHEMA), sys.argv[2])
    print(t.ch.query_rows("SELECT count() FROM entityMetricEvents")[0][0])
""")


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace for fault injection")
@pytest.mark.parametrize("rename", [1, 2, 3])
def test_sigkill_before_a_part_rename_then_retry_is_exactly_once(tmp_path, rename):
    target = tmp_path / "ch"

    def insert(token: str, *wrap: str) -> subprocess.CompletedProcess:
        return subprocess.run([*wrap, sys.executable, "-c", _INSERT, str(target), token],
                              capture_output=True, text=True)

    assert insert("batch-a").stdout.split() == ["900"]
    # three monthly parts; die as the n-th is renamed, after its block id was logged
    killed = insert("batch-b", "strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=rename",
                    "-e", f"inject=rename:signal=SIGKILL:when={rename}")
    assert killed.returncode != 0
    retry = insert("batch-b")
    assert retry.returncode == 0, retry.stderr
    assert retry.stdout.split() == ["1800"], retry.stderr
    assert "re-armed" in retry.stderr
    again = insert("batch-b")
    assert again.stdout.split() == ["1800"]  # and the token still deduplicates


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace to hold a rename open")
def test_a_second_process_never_repairs_a_path_another_process_has_open(tmp_path):
    """A verify opening a live run's chdb must not re-arm the token of a part being renamed."""
    target = tmp_path / "ch"
    run = [sys.executable, "-c", _INSERT, str(target)]
    assert subprocess.run([*run, "batch-a"], capture_output=True, text=True).returncode == 0
    slow = subprocess.Popen(["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=rename",
                             "-e", "inject=rename:delay_enter=3000000:when=1", *run, "batch-b"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    logs = list(target.glob("store/*/*/deduplication_logs/*.txt"))
    before = sum(p.read_text().count("\n") for p in logs)
    import time

    deadline = time.monotonic() + 30
    while sum(p.read_text().count("\n") for p in logs) == before and time.monotonic() < deadline:
        time.sleep(0.05)  # batch-b logged its first block; its part rename is held
    other = subprocess.run([*run, "batch-c"], capture_output=True, text=True)
    assert other.returncode != 0  # chdb refuses a path open elsewhere
    assert "re-armed" not in other.stderr
    slow.communicate(timeout=60)
    again = subprocess.run([*run, "batch-b"], capture_output=True, text=True)
    assert again.stdout.split() == ["1800"], again.stderr  # batch-b still deduplicates
