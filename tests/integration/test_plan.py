"""Plans over the seeded sources: the batches partition the filtered source exactly, and a plan
round-trips through the state directory (the key-range cuts alone: tests/unit/test_plan_cuts.py)."""

from __future__ import annotations

from datetime import datetime

import pytest

from metric_backfill.events import Window
from metric_backfill.plan import Plan, plan_package
from metric_backfill.registry import all_packages
from metric_backfill.sources import PostgresSource, window_sql
from tests.helpers import CUTOFF


def _count(conn, sql: str) -> int:
    return conn.execute(f"SELECT count(*) FROM ({sql}) q").fetchone()[0]


@pytest.mark.parametrize("batch_size", [1, 7, None])
@pytest.mark.parametrize("name", [n for n, p in all_packages().items() if p.source == "postgres"])
def test_batches_partition_the_filtered_source(env, name, batch_size):
    import psycopg

    pkg = all_packages()[name]
    src = PostgresSource(env.pg)
    window = Window(cutoff=CUTOFF, since=datetime(2023, 6, 1))
    plan = plan_package(pkg, src, window, batch_size or pkg.default_batch_size)
    with psycopg.connect(env.pg) as conn:
        total = _count(conn, f"SELECT 1 FROM {pkg.from_sql} WHERE {window_sql(pkg, src, window)}")
        per_batch = [_count(conn, b.sql(pkg, src, window)) for b in plan.batches]
    assert total > 0
    assert sum(per_batch) == total == plan.rows


def test_plan_round_trips_through_the_state_dir(env, tmp_path):
    pkg = all_packages()["buzz_tip"]
    src = PostgresSource(env.pg)
    pp = plan_package(pkg, src, Window(cutoff=CUTOFF), 50)
    plan = Plan("p1", "f1", {"a": 1}, {"buzz_tip": pp}, "now")
    plan.save(tmp_path)
    back = Plan.load(tmp_path)
    assert back is not None
    assert back.all_batches() == plan.all_batches()
    assert isinstance(back.packages["buzz_tip"].lo, datetime)
