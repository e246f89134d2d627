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

import pytest

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
