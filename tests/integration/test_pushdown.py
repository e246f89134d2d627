"""A pushed-down batch (server-side INSERT … SELECT) must form the same insert blocks every
time it runs, whatever the server's profile, or its deduplication token cannot drop a retry."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from metric_backfill.clickhouse import ClickHouse
from metric_backfill.defaults import default_params
from metric_backfill.events import Window
from metric_backfill.plan import Batch
from metric_backfill.pushdown import Pushdown
from metric_backfill.registry import all_packages
from metric_backfill.sources import ClickHouseSource, PostgresSource, load_lookups
from metric_backfill.target import Target
from tests.helpers import CUTOFF

# A server profile that parallelises INSERT … SELECT into small blocks (many-core defaults).
PARALLEL_PROFILE = {"max_threads": 8, "max_insert_threads": 8, "max_block_size": 100}


@pytest.fixture
def parallel_server(env) -> Iterator[ClickHouse]:
    ch = ClickHouse(env.ch)
    client = ch.client()
    for name, value in PARALLEL_PROFILE.items():
        client.set_client_setting(name, value)
    try:
        yield ch
    finally:
        for name in PARALLEL_PROFILE:
            client._client_settings.pop(name, None)


@pytest.mark.parametrize("name", ["model_version_events", "orchestration_jobs"])
def test_a_pushed_down_batch_repeated_with_its_token_inserts_once(env, parallel_server, name):
    pkg = all_packages()[name]
    target = Target(parallel_server, env.new_table("pushdown"))
    target.ensure()
    pushdown = Pushdown(target, ClickHouseSource(parallel_server), default_params())
    pushdown.load_lookups(load_lookups([pkg], PostgresSource(env.pg)))
    whole = Batch(name, 0, None, None)
    counts = []
    for _ in range(20):
        _rows, events, _s = pushdown.run(pkg, whole, Window(cutoff=CUTOFF), "plan:repeat:0")
        counts.append(parallel_server.query_rows(f"SELECT count() FROM {target.quoted}")[0][0])
    assert events > 1000, "the batch must span several blocks for this test to mean anything"
    assert counts == [events] * len(counts), f"inserted {counts}, one batch has {events} events"
