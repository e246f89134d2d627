"""An insert into chdb goes through a spool file in the chdb directory
(``<path>/metric_backfill_spool/<pid>-<thread>.arrows``). A SIGKILL while it is being inserted
leaves the file, and the next open of the path removes it: nothing piles up in the machine's temp
directory, and nothing of it is inserted twice (the batch is not ledgered, so its retry carries the
same token). A second process that opens a path another one holds (a ``verify``, a second ``run``;
chdb then refuses it) must not take the holder's file between its write and its insert."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

HOLDER = textwrap.dedent("""
    import sys
    import pyarrow as pa
    from metric_backfill.clickhouse import ClickHouse
    from metric_backfill.events import EVENT_ARROW_SCHEMA
    from metric_backfill.target import Target

    ch = ClickHouse(sys.argv[1])
    target = Target(ch, "events")
    target.ensure()
    real = ClickHouse.command
    def paused(self, sql, settings=None):
        if "FROM INFILE" in sql:
            print("spooled", flush=True)
            sys.stdin.readline()          # the test lets the insert go on
        return real(self, sql, settings)
    ClickHouse.command = paused
    rows = {"entityType": ["User"], "entityId": [1], "userId": [2], "metricType": ["followerCount"],
            "metricValue": [1], "createdAt": [0]}
    try:
        target.insert(pa.table(rows).cast(EVENT_ARROW_SCHEMA), "t:1")
    except Exception as e:
        print("insert failed:", e, flush=True)
        sys.exit(1)
    print("inserted", ch.query_rows("SELECT count() FROM events")[0][0], flush=True)
""")

OPENER = textwrap.dedent("""
    import sys
    from metric_backfill.clickhouse import ClickHouse
    try:
        ClickHouse(sys.argv[1]).ping("target")
    except Exception as e:
        print("refused:", e)
    else:
        print("opened")
""")


def test_a_killed_insert_leaves_its_spool_file_to_the_next_open(tmp_path: Path):
    from metric_backfill.clickhouse import insert_spool

    dsn = f"chdb://{tmp_path / 'ch'}"
    child = subprocess.Popen([sys.executable, "-c", HOLDER, dsn], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "spooled"
        assert [p.suffix for p in insert_spool(dsn).iterdir()] == [".arrows"]
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    script = (f"from metric_backfill.clickhouse import ClickHouse; "
              f"print(ClickHouse({dsn!r}).query_rows('SELECT count() FROM events')[0][0])")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0"
    assert not list(insert_spool(dsn).glob("*"))  # the killed run's file is gone


def test_a_second_open_of_a_held_chdb_path_leaves_the_holders_spool(tmp_path: Path):
    from metric_backfill.clickhouse import insert_spool

    dsn = f"chdb://{tmp_path / 'ch'}"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, dsn], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline().strip() == "spooled"
        spooled = list(insert_spool(dsn).iterdir())
        assert len(spooled) == 1
        # another process tries the same path (verify, a second run): chdb refuses it
        other = subprocess.run([sys.executable, "-c", OPENER, dsn], capture_output=True,
                               text=True, timeout=120)
        assert other.stdout.startswith("refused"), other.stdout + other.stderr
        assert spooled[0].exists(), "the refused open deleted the running insert's spool file"
        holder.stdin.write("go\n")
        holder.stdin.flush()
        out, _ = holder.communicate(timeout=120)
        assert holder.returncode == 0 and out.strip() == "inserted 1", out
    finally:
        if holder.poll() is None:
            os.kill(holder.pid, signal.SIGKILL)
            holder.wait()
