"""A batch that
``run --parquet-dir`` both inserted and wrote as an audit file is inserted again when ``load``
puts that file into the same target under the same token (``--allow-existing``).

The run inserts its batch as one Arrow chunk; ``load`` inserts ``pq.read_table(file)``, which
comes back in read batches of 131,072 rows. ClickHouse derives each block's deduplication id
from the token *and* the input chunks it was squashed from, so any batch of more than 131,072
events (measured: 200k and 1.2M both go in twice; 250k source rows per batch is the default)
is given other block ids by the load than by the run: they are not recognised as duplicates."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

CHILD = textwrap.dedent("""
    import sys
    from pathlib import Path
    import polars as pl
    from metric_backfill.load import read_audit_file
    from metric_backfill.clickhouse import ClickHouse
    from metric_backfill.events import EVENT_ARROW_SCHEMA
    from metric_backfill.sinks import ClickHouseSink, ParquetSink
    from metric_backfill.target import Target

    ch = ClickHouse(sys.argv[1])
    target = Target(ch, "events")
    target.ensure()
    n = 1_200_000
    events = pl.DataFrame({
        "entityType": ["Image"] * n, "entityId": list(range(n)), "userId": [7] * n,
        "metricType": ["Like"] * n, "metricValue": [1] * n,
        "createdAt": pl.datetime_range(pl.datetime(2024, 1, 1), pl.datetime(2024, 1, 2),
                                       interval="50ms", eager=True)[:n].dt.cast_time_unit("ms"),
    }).to_arrow().cast(EVENT_ARROW_SCHEMA).combine_chunks()
    token = "plan-1:image_reaction:0"
    audit = ParquetSink(Path(sys.argv[2]))
    for sink in (ClickHouseSink(target), audit):          # run --parquet-dir DIR (with insert)
        sink.write("image_reaction:0", token, events)
    # load --parquet-dir DIR --allow-existing into the same target: what load.py inserts
    back = read_audit_file(audit.path_for("image_reaction:0"))
    target.insert(back, token)
    print(ch.query_rows("SELECT count() FROM events")[0][0])
""")


def test_loading_a_runs_own_audit_into_its_target_is_deduplicated(tmp_path: Path):
    out = subprocess.run([sys.executable, "-c", CHILD, f"chdb://{tmp_path / 'ch'}",
                          str(tmp_path / "audit")], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1200000", f"the batch went in twice: {out.stdout.strip()} events"
