"""How a Dask run names what it needs without secrets: the executor's scheduler address, and the
DSN a worker resolves from the masked form a task carries (no cluster, no database)."""

from __future__ import annotations

import pytest

from metric_backfill.cluster import Credentials, resolve
from metric_backfill.dsn import without_password
from metric_backfill.engine import scheduler_address
from metric_backfill.errors import UserError

PG = "postgresql://reader:s3cret@replica1:5432/civitai"
PG2 = "postgresql://reader:0ther@replica2:5432/civitai"


@pytest.mark.parametrize(("given", "address"), [
    ("threads", None),
    ("dask://sched:8786", "tcp://sched:8786"),
    ("dask://10.0.0.7:8786/", "tcp://10.0.0.7:8786"),
    ("dask://[::1]:8786", "tcp://[::1]:8786"),
])
def test_the_executor_names_threads_or_a_scheduler(given, address):
    assert scheduler_address(given) == address


@pytest.mark.parametrize("given", ["", "dask", "dask://sched", "dask://sched:0", "dask://sched:99999",
                                   "tcp://sched:8786", "ray://head:10001", "dask://u:p@sched:8786"])
def test_anything_else_is_a_user_error(given):
    with pytest.raises(UserError, match="expected threads or dask://HOST:PORT"):
        scheduler_address(given)


def test_a_worker_finds_the_dsn_in_its_environment_by_the_masked_form(monkeypatch):
    monkeypatch.setenv("METRIC_BACKFILL_PG", f"{PG} {PG2}")
    assert without_password(PG2) == "postgresql://reader:***@replica2:5432/civitai"
    assert resolve(without_password(PG2), "tcp://w:1") == PG2


def test_shipped_credentials_come_first_and_go_with_their_plugin(monkeypatch):
    monkeypatch.setenv("METRIC_BACKFILL_PG", PG.replace("s3cret", "old"))
    plugin = Credentials([PG])
    plugin.setup(worker=None)
    try:
        assert resolve(without_password(PG), "tcp://w:1") == PG
    finally:
        plugin.teardown(worker=None)
    assert resolve(without_password(PG), "tcp://w:1") == PG.replace("s3cret", "old")


def test_no_credentials_is_a_user_error_naming_the_worker_and_no_password(monkeypatch):
    monkeypatch.delenv("METRIC_BACKFILL_PG", raising=False)
    with pytest.raises(UserError) as e:
        resolve(without_password(PG), "tcp://w:1")
    assert "worker tcp://w:1 has no credentials for postgresql://reader:***@replica1" in str(e.value)
    assert "s3cret" not in str(e.value)


def test_a_dsn_without_a_password_is_its_own_name(monkeypatch):
    monkeypatch.delenv("METRIC_BACKFILL_PG", raising=False)
    plain = "postgresql://reader@replica1:5432/civitai"
    assert resolve(without_password(plain), "tcp://w:1") == plain
