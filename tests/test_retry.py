"""What is retried and what is not: the classification of real error texts, and the retry log."""

from __future__ import annotations

import psycopg
import pytest
from clickhouse_connect.driver.exceptions import DatabaseError

from metric_backfill.clickhouse import classify_ch_error
from metric_backfill.errors import UserError
from metric_backfill.retry import RetryPolicy
from metric_backfill.sources import classify_pg_error

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
