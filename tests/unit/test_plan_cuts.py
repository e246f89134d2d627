"""Key-range cuts alone: integer and time ranges cut into batches that are contiguous and
complete, the last key included (on the seeded sources: tests/integration/test_plan.py)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from metric_backfill.plan import cut


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
