"""Batching: every row of the filtered source falls in exactly one batch."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from metric_backfill.events import Window
from metric_backfill.plan import Plan, cut, plan_package
from metric_backfill.registry import all_packages
from metric_backfill.sources import PostgresSource, window_sql
from tests.helpers import CUTOFF


def _covers(intervals, lo, hi, step):
    assert intervals[0][0] == lo
    assert intervals[-1][1] > hi
    for (a, b), (c, _) in zip(intervals, intervals[1:], strict=False):
        assert b == c, "intervals must be contiguous"
        assert a < b
    assert all(a + step <= b for a, b in intervals)


@pytest.mark.parametrize("seed", range(50))
def test_integer_cut_is_contiguous_and_complete(seed):
    r = random.Random(seed)
    lo = r.randint(-100, 1000)
    hi = lo + r.randint(0, 5000)
    rows = r.randint(1, 10_000)
    size = r.choice([1, 7, 100, 100_000])
    _covers(cut(lo, hi, rows, size), lo, hi, 1)


def test_one_key_range_is_one_batch_and_last_key_is_included():
    assert cut(5, 5, 1, 100) == [(5, 6)]
    last_lo, last_hi = cut(1, 10, 10, 3)[-1]
    assert last_lo <= 10 < last_hi


@pytest.mark.parametrize("seed", range(20))
def test_time_cut_is_contiguous_to_the_millisecond(seed):
    r = random.Random(seed)
    lo = datetime(2022, 1, 1) + timedelta(milliseconds=r.randint(0, 10**9))
    hi = lo + timedelta(milliseconds=r.randint(0, 10**10))
    _covers(cut(lo, hi, r.randint(1, 10_000), r.choice([1, 7, 1000])), lo, hi, timedelta(milliseconds=1))


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
