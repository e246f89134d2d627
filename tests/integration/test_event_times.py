"""Every event is dated by a source time: for each package, on every path, the event
``createdAt`` values are a subset of the timestamps its source tables hold (read as text by
the source database itself, so no client-side conversion is trusted), plus the documented
1970-01-01 fallback. A misread unit (seconds as milliseconds) or a time-zone shift fails here
even when every sum is right.
"""

from __future__ import annotations

import pytest

from metric_backfill.clickhouse import ClickHouse
from metric_backfill.engine import Runner, RunOptions
from metric_backfill.events import Window
from metric_backfill.package import Package
from metric_backfill.registry import all_packages
from metric_backfill.sources import PostgresSource
from tests.helpers import CUTOFF

EPOCH = "1970-01-01 00:00:00.000"
PATHS = [(name, None) for name, p in all_packages().items() if p.source == "postgres"] + [
    (name, pushdown) for name, p in all_packages().items() if p.source == "clickhouse"
    for pushdown in (True, False)
]


def _pg_times(env, pkg: Package) -> set[str]:
    pg = PostgresSource(env.pg)
    listed = ", ".join(f"'{t}'" for t in pkg.tables)
    cols = pg.fetch(
        "SELECT table_name AS t, column_name AS c FROM information_schema.columns "
        f"WHERE table_name IN ({listed}) AND (data_type LIKE 'timestamp%' OR data_type = 'date')"
    ).rows()
    times: set[str] = set()
    for table, col in cols:
        if col not in pkg.tables[table]:
            continue
        frame = pg.fetch(f"""SELECT DISTINCT to_char("{col}", 'YYYY-MM-DD HH24:MI:SS.MS') AS v
                             FROM "{table}" WHERE "{col}" IS NOT NULL""")
        times |= set(frame["v"].to_list())
    return times


def _ch_times(env, pkg: Package) -> set[str]:
    ch = ClickHouse(env.ch)
    times: set[str] = set()
    for table, wanted in pkg.tables.items():
        db, name = table.split(".")
        cols = ch.query_rows(
            f"SELECT name FROM system.columns WHERE database = '{db}' AND table = '{name}' "
            "AND type LIKE '%Date%'")
        for (col,) in cols:
            if col in wanted:
                rows = ch.query_rows(
                    f"SELECT DISTINCT toString(toDateTime64({col}, 3, 'UTC')) FROM {table}")
                times |= {v for (v,) in rows}
    return times


@pytest.mark.parametrize(("name", "pushdown"), PATHS)
def test_event_times_are_source_times(env, tmp_path, name, pushdown):
    pkg = all_packages()[name]
    table = env.new_table("times")
    opts = RunOptions(target=env.ch, pg=env.pg, table=table, packages=[name], progress=False,
                      state=tmp_path / "state", window=Window(cutoff=CUTOFF), pushdown=pushdown)
    report = Runner(opts).run()
    assert report.complete and sum(s.events for s in report.stats.values()) > 0
    events = {v for (v,) in ClickHouse(env.ch).query_rows(
        f"SELECT DISTINCT toString(createdAt) FROM `{table}`")}
    source = (_pg_times if pkg.source == "postgres" else _ch_times)(env, pkg) | {EPOCH}
    strays = sorted(events - source)
    assert not strays, f"{name}: {len(strays)} event times not in the source, e.g. {strays[:3]}"
