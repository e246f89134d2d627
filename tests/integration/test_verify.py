"""verify against the real embedded Postgres and chdb: every alteration is found, and named.

One backfill of every package feeds the module. For each package, one event of one of its
metrics is altered — moved to another entity, given another value, or moved to another month —
in a copy of that metric's events, and verify must report exactly that: the entities or months
that changed, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from metric_backfill.clickhouse import ClickHouse
from metric_backfill.registry import all_packages
from tests.helpers import CUTOFF, Window, verify_table

WINDOW = Window(cutoff=CUTOFF)


@pytest.fixture(scope="module")
def backfilled(env, tmp_path_factory):
    from metric_backfill.defaults import default_params
    from metric_backfill.engine import Runner, RunOptions

    table = env.new_table("verify_base")
    Runner(RunOptions(target=env.ch, pg=env.pg, table=table, window=WINDOW,
                      state=tmp_path_factory.mktemp("state"), progress=False,
                      params=default_params())).run()
    return table


def _own_metric(package: str) -> str:
    """A metric only this package emits (so verifying it reads this package alone)."""
    others = {m for name, p in all_packages().items() if name != package for m in p.metric_names}
    return next(m for m in all_packages()[package].metric_names if m not in others)


@dataclass
class Event:
    entity_id: int
    user_id: int
    value: int
    created_at: datetime
    copies: int


def _altered_copy(ch: ClickHouse, base: str, table: str, metric: str, how: str) -> Event:
    """``table`` = the metric's events of ``base`` with one event altered ``how``."""
    et, mt = metric.split(".")
    where = f"entityType = '{et}' AND metricType = '{mt}'"
    row = ch.query_rows(
        f"SELECT entityId, userId, metricValue, createdAt, count() FROM {base} "
        f"WHERE {where} AND metricValue != 0 AND createdAt >= '2000-03-01' "
        f"GROUP BY ALL ORDER BY entityId, createdAt, userId LIMIT 1")
    assert row, f"no event of {metric} to alter"
    ev = Event(*row[0])
    ch.command(f"CREATE TABLE {table} AS {base}")
    same = (f"entityId = {ev.entity_id} AND userId = {ev.user_id} AND metricValue = {ev.value} "
            f"AND createdAt = toDateTime64('{ev.created_at:%Y-%m-%d %H:%M:%S.%f}', 3)")
    ch.command(f"INSERT INTO {table} SELECT * FROM {base} WHERE {where} AND NOT ({same})")
    entity, value, at = ev.entity_id, ev.value, ev.created_at
    if how == "entity":
        entity = 2_000_000_000
    elif how == "value":
        value = ev.value + 7
    else:
        at = ev.created_at - timedelta(days=62)
    rows = [(ev.entity_id, ev.value, ev.created_at)] * (ev.copies - 1) + [(entity, value, at)]
    values = ", ".join(f"('{et}', {e}, {ev.user_id}, '{mt}', {v}, "
                       f"toDateTime64('{t:%Y-%m-%d %H:%M:%S.%f}', 3))" for e, v, t in rows)
    ch.command(f"INSERT INTO {table} VALUES {values}")
    return ev


@pytest.mark.parametrize("how", ["entity", "value", "month"])
@pytest.mark.parametrize("package", sorted(all_packages()))
def test_one_altered_event_is_reported_exactly(env, backfilled, package, how):
    ch = ClickHouse(env.ch)
    metric = _own_metric(package)
    table = env.new_table(f"alt_{how}")
    ev = _altered_copy(ch, backfilled, table, metric, how)

    report = verify_table(env, [package], table, WINDOW, metrics=[metric])

    [m] = report.metrics
    month = f"{ev.created_at:%Y-%m}"
    off_months = {s.month: s.actual - s.expected for s in report.months if s.expected != s.actual}
    if how == "entity":
        assert (m.mismatches, m.month_mismatches) == (2, 0), m
        assert {w["entityId"]: w["actual"] - w["expected"] for w in m.worst} == {
            ev.entity_id: -ev.value, 2_000_000_000: ev.value}
    elif how == "value":
        assert (m.mismatches, m.month_mismatches) == (1, 1), m
        assert [(w["entityId"], w["actual"] - w["expected"]) for w in m.worst] == [(ev.entity_id, 7)]
        assert off_months == {month: 7}
    else:
        assert (m.mismatches, m.month_mismatches) == (0, 2), m
        earlier = f"{ev.created_at - timedelta(days=62):%Y-%m}"
        assert off_months == {month: -ev.value, earlier: ev.value}
    assert m.expected_total + (ev.value if how == "entity" else 0) != 0
    assert not report.ok


def test_an_untouched_target_verifies_per_entity_and_per_month(env, backfilled):
    report = verify_table(env, sorted(all_packages()), backfilled, WINDOW)
    assert report.ok, [m for m in report.metrics if m.mismatches or m.month_mismatches]
    assert len(report.metrics) == 73
    assert sum(m.entities for m in report.metrics) > 1000
    months = {(s.entity_type, s.metric_type) for s in report.months}
    assert len(months) == sum(1 for m in report.metrics if m.actual_total or m.entities)
    assert all(len(s.month) == 7 for s in report.months)


def test_a_sample_is_reproducible_and_smaller(env, backfilled):
    pkgs = ["image_reaction", "comment_v2"]
    full = verify_table(env, pkgs, backfilled, WINDOW)
    first = verify_table(env, pkgs, backfilled, WINDOW, sample=5)
    again = verify_table(env, pkgs, backfilled, WINDOW, sample=5)
    assert first.ok and first.sample == 5
    assert [m.to_json() for m in first.metrics] == [m.to_json() for m in again.metrics]
    for f, s in zip(full.metrics, first.metrics, strict=True):
        if f.entities > 20:
            assert 0 < s.entities < f.entities / 2, (f.name, f.entities, s.entities)
