"""An insert into chdb goes through a spool file in the chdb directory: a SIGKILL while it is
being inserted leaves the file, and the next open of the path removes it (nothing piles up in
the machine's temp directory, and nothing of it is inserted twice: the batch is not ledgered,
so its retry carries the same token)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

CHILD = textwrap.dedent("""
    import sys, time
    import pyarrow as pa
    from metric_backfill.clickhouse import ClickHouse
    from metric_backfill.events import EVENT_ARROW_SCHEMA
    from metric_backfill.target import Target

    ch = ClickHouse(sys.argv[1])
    target = Target(ch, "events")
    target.ensure()
    real = ClickHouse.command
    def hang(self, sql, settings=None):
        if "FROM INFILE" in sql:
            print("spooled", flush=True)
            time.sleep(600)
        return real(self, sql, settings)
    ClickHouse.command = hang
    rows = {"entityType": ["User"], "entityId": [1], "userId": [2], "metricType": ["followerCount"],
            "metricValue": [1], "createdAt": [0]}
    target.insert(pa.table(rows).cast(EVENT_ARROW_SCHEMA), "t:1")
""")


def test_a_killed_insert_leaves_its_spool_file_to_the_next_open(tmp_path: Path):
    from metric_backfill.clickhouse import insert_spool

    dsn = f"chdb://{tmp_path / 'ch'}"
    child = subprocess.Popen([sys.executable, "-c", CHILD, dsn], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "spooled"
        spool = insert_spool(dsn)
        assert [p.suffix for p in spool.iterdir()] == [".arrows"]
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    time.sleep(0.1)
    script = (f"from metric_backfill.clickhouse import ClickHouse; "
              f"print(ClickHouse({dsn!r}).query_rows('SELECT count() FROM events')[0][0])")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0"
    assert not list(insert_spool(dsn).glob("*"))  # the killed run's file is gone
