"""The saved plan and ledger are trusted only when they prove themselves: checksums, a second
copy of the plan to recover from, contiguous batches, and the package definitions they were
made with."""

from __future__ import annotations

import dataclasses
import json

import polars as pl
import pytest

from metric_backfill import registry
from metric_backfill.clickhouse import ClickHouse
from metric_backfill.engine import Runner, RunOptions
from metric_backfill.errors import UserError
from metric_backfill.ledger import Ledger

PKGS = ["buzz_tip", "user_engagement"]


def _opts(env, state, table, **kw):
    return RunOptions(target=env.ch, pg=env.pg, table=table, packages=PKGS, state=state,
                      progress=False, batch_size=400, **kw)


def _sums(env, table):
    return pl.from_arrow(ClickHouse(env.ch).query_arrow(
        f"SELECT entityType, entityId, metricType, sum(metricValue) AS v FROM `{table}` "
        "GROUP BY ALL ORDER BY ALL"))


@pytest.fixture
def interrupted(env, tmp_path):
    """A run stopped after 3 batches: (state dir, its table, a direct run's table)."""
    direct = env.new_table("direct")
    Runner(_opts(env, tmp_path / "direct", direct)).run()
    table = env.new_table("trust")
    state = tmp_path / "state"
    Runner(_opts(env, state, table, limit_batches=3)).run()
    return state, table, direct


def test_a_damaged_plan_is_recovered_from_its_copy_without_reinserting(env, interrupted):
    state, table, direct = interrupted
    text = (state / "plan.json").read_text()
    (state / "plan.json").write_text(text[: len(text) // 2])
    notes: list[str] = []
    runner = Runner(_opts(env, state, table, resume=True))
    runner.log = notes.append
    assert runner.run().complete
    assert any("recovered" in n for n in notes), notes
    assert _sums(env, table).equals(_sums(env, direct))


def test_a_hand_edited_plan_is_refused(env, interrupted):
    state, table, _ = interrupted
    doc = json.loads((state / "plan.json").read_text())
    doc["packages"]["buzz_tip"]["batches"][1][0] = 12
    (state / "plan.json").write_text(json.dumps(doc))
    with pytest.raises(UserError, match="checksum"):
        Runner(_opts(env, state, table, resume=True)).run()


def test_an_overlapping_plan_is_refused_even_with_a_valid_checksum(env, interrupted):
    from metric_backfill.plan import PLAN_FILE, checksum

    state, table, _ = interrupted
    doc = json.loads((state / PLAN_FILE).read_text())
    batches = doc["packages"]["buzz_tip"]["batches"]
    assert len(batches) >= 2
    batches[0][1] = None  # batch 0 now covers every later batch's keys too
    doc["checksum"] = checksum({k: v for k, v in doc.items() if k != "checksum"})
    (state / PLAN_FILE).write_text(json.dumps(doc))
    with pytest.raises(UserError, match="overlap|contiguous"):
        Runner(_opts(env, state, table, resume=True)).run()


def test_a_resume_after_a_package_definition_changed_is_refused(env, interrupted, monkeypatch):
    state, table, _ = interrupted
    packages = dict(registry.all_packages())
    packages["buzz_tip"] = dataclasses.replace(packages["buzz_tip"], row_key=("fromUserId",))
    monkeypatch.setattr(registry, "all_packages", lambda: packages)
    with pytest.raises(UserError, match="buzz_tip") as err:
        Runner(_opts(env, state, table, resume=True)).run()
    assert "definition" in str(err.value)


def test_a_ledger_line_whose_checksum_does_not_match_is_not_trusted(tmp_path):
    led = Ledger.open(tmp_path, "p1")
    led.record("a:0", rows=1)
    led.record("a:1", rows=2)
    lines = led.path.read_text().splitlines()
    lines[1] = lines[1].replace('"a:1"', '"a:7"')  # claims another batch is done
    led.path.write_text("\n".join(lines) + "\n")
    again = Ledger.open(tmp_path, "p1")
    assert set(again.done) == {"a:0"} and again.torn_lines == 1
    assert again.last_write is not None
