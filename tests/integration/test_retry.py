"""What is retried and what is not: the classification of real error texts, and the retry log."""

from __future__ import annotations

import psycopg
import pytest
from clickhouse_connect.driver.exceptions import DatabaseError

from metric_backfill.clickhouse import ClickHouse, classify_ch_error
from metric_backfill.engine import Runner, RunOptions
from metric_backfill.errors import RunFailed, UserError
from metric_backfill.retry import RetryingSource, RetryPolicy
from metric_backfill.sources import ClickHouseSource, TransientSourceError, classify_pg_error

# ConnectorX's pool retries a refused login for 30 s, then words it like this
CX_AUTH = [
    'timed out waiting for connection: db error: FATAL: password authentication failed for user "reader"',
    'timed out waiting for connection: db error: FATAL: role "nobody" does not exist',
    'timed out waiting for connection: db error: FATAL: no pg_hba.conf entry for host "10.0.0.7", '
    'user "reader", database "civitai", no encryption',
]
# clickhouse-connect's wording of the server's authentication errors
CH_AUTH = [
    (516, "Code: 516. DB::Exception: default: Authentication failed: password is incorrect, or there "
          "is no user with such name. (AUTHENTICATION_FAILED)"),
    (194, "Code: 194. DB::Exception: Password required for user default. (REQUIRED_PASSWORD)"),
    (192, "Code: 192. DB::Exception: Unknown user reader. (UNKNOWN_USER)"),
]


@pytest.mark.parametrize("text", CX_AUTH)
def test_postgres_authentication_errors_are_user_errors_never_retried(text):
    calls = []

    def login():
        calls.append(1)
        raise classify_pg_error(RuntimeError(text))

    with pytest.raises(UserError):
        RetryPolicy(retries=3, wait=0.001).call(login)
    assert len(calls) == 1


def test_a_real_refused_login_is_a_user_error(env):
    port = env.pg.rsplit(":", 1)[1].split("/")[0]
    with pytest.raises(psycopg.OperationalError) as e:
        psycopg.connect(f"postgresql://nobody@127.0.0.1:{port}/civitai", connect_timeout=5)
    assert isinstance(classify_pg_error(e.value), UserError)


@pytest.mark.parametrize(("code", "text"), CH_AUTH)
def test_clickhouse_authentication_errors_are_user_errors_never_retried(code, text):
    err = DatabaseError(f"Received ClickHouse exception, code: {code}, server response: {text} "
                        "(for url http://clickhouse:8123)", code=code)
    assert isinstance(classify_ch_error(err), UserError)


def test_each_retry_is_logged_with_its_cause():
    lines: list[str] = []
    closed = ClickHouseSource(ClickHouse("http://default:s3cret-pw@127.0.0.1:1/default"))
    src = RetryingSource(closed, RetryPolicy(retries=2, wait=0.001, log=lines.append))
    with pytest.raises(RunFailed):
        src.fetch("SELECT 1")
    assert [line.split(" in ")[0] for line in lines] == ["retry 1/2", "retry 2/2"], lines
    assert all("Connection refused" in line and "s3cret-pw" not in line for line in lines), lines


def test_retries_are_logged_on_stderr_by_default_and_through_the_runner(capsys):
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 2:
            raise TransientSourceError("Postgres: connection refused\nmore detail")
        return "ok"

    assert RetryPolicy(retries=3, wait=0.001).call(flaky) == "ok"
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("retry 1/3 in ") and "connection refused" in err

    runner = Runner(RunOptions(target="chdb:///nonexistent/ch", pg="postgresql://u@127.0.0.1:1/db",
                               packages=["buzz_tip"]))
    notes: list[str] = []
    runner.log = notes.append
    calls.clear()
    assert runner.policy.call(flaky) == "ok"
    assert len(notes) == 1 and notes[0].startswith("retry 1/5")


def test_serialization_failures_and_recovery_conflicts_are_transient(env):
    """SQLSTATE 40001: a replica cancelling a read that conflicts with recovery, and a
    serialization failure (provoked here on the real server)."""
    recovery = ("db error: ERROR: canceling statement due to conflict with recovery\n"
                "DETAIL:  User query might have needed to see row versions that must be removed.")
    assert isinstance(classify_pg_error(RuntimeError(recovery)), TransientSourceError)

    with psycopg.connect(env.pg, autocommit=True) as admin:
        admin.execute("DROP TABLE IF EXISTS mb_serialization_probe")
        admin.execute("CREATE TABLE mb_serialization_probe (id int PRIMARY KEY, v int)")
        admin.execute("INSERT INTO mb_serialization_probe VALUES (1, 0)")
        try:
            with psycopg.connect(env.pg) as a:
                a.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
                a.execute("SELECT v FROM mb_serialization_probe WHERE id = 1")
                admin.execute("UPDATE mb_serialization_probe SET v = v + 1 WHERE id = 1")
                with pytest.raises(psycopg.errors.SerializationFailure) as e:
                    a.execute("UPDATE mb_serialization_probe SET v = v + 1 WHERE id = 1")
        finally:
            admin.execute("DROP TABLE mb_serialization_probe")
    assert e.value.sqlstate == "40001"
    assert isinstance(classify_pg_error(e.value), TransientSourceError)
    # the same error as ConnectorX words it
    assert isinstance(classify_pg_error(RuntimeError(f"db error: ERROR: {e.value}")), TransientSourceError)
