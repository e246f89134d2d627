"""An existing target is checked before the first write: an engine or a TTL that can drop, merge
away or expire events is refused; insert tokens that the table would ignore are named with the
exact fix; a resume later than the table's deduplication window is refused."""

from __future__ import annotations

import time

import pytest

from metric_backfill.clickhouse import ClickHouse
from metric_backfill.engine import Runner, RunOptions
from metric_backfill.errors import UserError
from metric_backfill.events import Window
from tests.helpers import CUTOFF

COLUMNS = ("entityType LowCardinality(String), entityId Int32, userId Int32, "
           "metricType LowCardinality(String), metricValue Int32, createdAt DateTime64(3)")

REFUSED = [
    ("ENGINE = ReplacingMergeTree ORDER BY (entityType, entityId)", "ReplacingMergeTree"),
    ("ENGINE = SummingMergeTree ORDER BY (entityType, entityId, createdAt)", "SummingMergeTree"),
    ("ENGINE = AggregatingMergeTree ORDER BY (entityType, entityId, createdAt)", "AggregatingMergeTree"),
    ("ENGINE = Memory", "Memory"),
    ("ENGINE = Log", "Log"),
    ("ENGINE = Null", "Null"),
    ("ENGINE = MergeTree ORDER BY (entityType, entityId, createdAt) "
     "TTL toDateTime(createdAt) + INTERVAL 1 DAY", "TTL"),
    ("ENGINE = MergeTree ORDER BY (entityType, entityId, createdAt) "
     "TTL toDateTime(createdAt) + INTERVAL 1 DAY WHERE metricType = 'x'", "TTL"),
]


def _opts(env, tmp_path, table, **kw):
    return RunOptions(target=env.ch, pg=env.pg, table=table, packages=["buzz_tip"],
                      state=tmp_path / f"state-{table}", progress=False, batch_size=500, **kw)


def _count(env, table):
    return ClickHouse(env.ch).query_rows(f"SELECT count() FROM `{table}`")[0][0]


@pytest.mark.parametrize(("ddl", "named"), REFUSED)
def test_a_target_that_can_lose_events_is_refused_before_any_write(env, tmp_path, ddl, named):
    table = env.new_table("engine")
    ClickHouse(env.ch).command(f"CREATE TABLE `{table}` ({COLUMNS}) {ddl}")
    with pytest.raises(UserError, match=named) as err:
        Runner(_opts(env, tmp_path, table)).run()
    assert "\n" not in str(err.value)
    if named != "Null":
        assert _count(env, table) == 0
    assert not (tmp_path / f"state-{table}" / "plan.json").exists()


def test_a_column_ttl_is_refused(env, tmp_path):
    table = env.new_table("engine")
    cols = COLUMNS.replace("metricValue Int32", "metricValue Int32 TTL toDateTime(createdAt) + INTERVAL 1 DAY")
    ClickHouse(env.ch).command(
        f"CREATE TABLE `{table}` ({cols}) ENGINE = MergeTree ORDER BY (entityType, entityId, createdAt)")
    with pytest.raises(UserError, match="TTL"):
        Runner(_opts(env, tmp_path, table)).run()


def test_civitai_shaped_table_is_accepted_and_a_missing_window_is_named_with_its_fix(env, tmp_path):
    table = env.new_table("civitai")
    ClickHouse(env.ch).command(
        f"CREATE TABLE `{table}` ({COLUMNS}) ENGINE = MergeTree ORDER BY (entityType, entityId, createdAt)")
    notes: list[str] = []
    runner = Runner(_opts(env, tmp_path, table))
    runner.log = notes.append
    assert runner.run().complete
    fixes = [n for n in notes if "MODIFY SETTING" in n]
    assert len(fixes) == 1, notes
    assert f"ALTER TABLE `default`.`{table}` MODIFY SETTING non_replicated_deduplication_window = " in fixes[0]
    ClickHouse(env.ch).command(fixes[0][fixes[0].index("ALTER TABLE"):].rstrip(")"))
    from metric_backfill.targetcheck import TableInfo, dedup_window

    assert dedup_window(TableInfo.read(ClickHouse(env.ch), table)).blocks > 0


def _info(engine: str, settings: str = "", ttl: str = ""):
    from metric_backfill.targetcheck import TableInfo

    full = f"{engine} ORDER BY (entityType, entityId, createdAt){ttl}{settings}"
    return TableInfo(database="db", name="t", engine=engine.split("(")[0], engine_full=full,
                     create_table_query=f"CREATE TABLE db.t ({COLUMNS}) ENGINE = {full}",
                     defaults={"non_replicated_deduplication_window": "0",
                               "replicated_deduplication_window": "1000",
                               "replicated_deduplication_window_seconds": "3600"})


def test_replicated_and_shared_windows_are_read_from_the_table_or_the_server_defaults():
    from metric_backfill.targetcheck import check_engine, dedup_window

    replicated = _info("ReplicatedMergeTree('/t/{shard}', '{replica}')")
    check_engine(replicated)
    w = dedup_window(replicated)
    assert (w.blocks, w.seconds, w.setting) == (1000, 3600, "replicated_deduplication_window")
    shared = _info("SharedMergeTree", " SETTINGS replicated_deduplication_window_seconds = 86400")
    assert dedup_window(shared).seconds == 86400
    plain = _info("MergeTree", " SETTINGS index_granularity = 8192, non_replicated_deduplication_window = 500")
    assert (dedup_window(plain).blocks, dedup_window(plain).seconds) == (500, None)
    check_engine(_info("MergeTree", ttl=" TTL toDateTime(createdAt) + toIntervalYear(1) TO VOLUME 'cold'"))
    with pytest.raises(UserError, match="TTL"):
        check_engine(_info("MergeTree", ttl=" TTL toDateTime(createdAt) + toIntervalYear(1) TO VOLUME 'cold', "
                                             "toDateTime(createdAt) + toIntervalYear(5)"))


def test_a_resume_later_than_the_replicated_window_is_refused():
    from metric_backfill.targetcheck import dedup_window

    w = dedup_window(_info("ReplicatedMergeTree('/t', 'r')"))
    now = time.time()
    assert w.expired(last_write=now - 600, now=now) is False
    assert w.expired(last_write=now - 3 * 3600, now=now) is True
    assert dedup_window(_info("MergeTree", " SETTINGS non_replicated_deduplication_window = 9")).expired(
        last_write=now - 10 * 86400, now=now) is False


def test_load_checks_the_target_like_run(env, tmp_path):
    from metric_backfill.load import load

    audit = tmp_path / "audit"
    Runner(_opts(env, tmp_path, env.new_table("unused"), parquet_dir=audit, no_insert=True)).run()
    table = env.new_table("engine")
    ClickHouse(env.ch).command(f"CREATE TABLE `{table}` ({COLUMNS}) ENGINE = Memory")
    with pytest.raises(UserError, match="Memory"):
        load(audit, env.ch, table, tmp_path / "load-state")
    assert _count(env, table) == 0


def test_metric_names_from_audit_files_are_escaped(env):
    from metric_backfill.target import Target

    target = Target(ClickHouse(env.ch), env.new_table("names"))
    target.ensure()
    ClickHouse(env.ch).command(f"INSERT INTO {target.quoted} VALUES "
                               "('User', 1, 0, 'it''s', 1, '2024-01-01 00:00:00.000')")
    window = Window(cutoff=CUTOFF)
    assert target.count_existing(["User.it's", "User.x') OR ('1'='1"], window) == {"User.it's": 1}


def test_a_window_smaller_than_the_blocks_in_flight_is_named_and_refuses_a_resume(env, tmp_path):
    table = env.new_table("smallwin")
    ClickHouse(env.ch).command(
        f"CREATE TABLE `{table}` ({COLUMNS}) ENGINE = MergeTree ORDER BY (entityType, entityId, createdAt) "
        "SETTINGS non_replicated_deduplication_window = 3")
    notes: list[str] = []
    runner = Runner(_opts(env, tmp_path, table, limit_batches=1))
    runner.log = notes.append
    runner.run()
    assert [n for n in notes if "MODIFY SETTING non_replicated_deduplication_window" in n], notes
    with pytest.raises(UserError, match="--no-dedup-check"):
        Runner(_opts(env, tmp_path, table, resume=True)).run()
