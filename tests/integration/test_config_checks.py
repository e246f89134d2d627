"""Configuration mistakes fail in seconds, in one line, with exit code 2, before anything is
written: wrong credentials and closed ports are found by a connection check, not by minutes of
retries of an error that cannot pass."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote

import psycopg
import pytest
from typer.testing import CliRunner

from metric_backfill.cli import app
from metric_backfill.clickhouse import ClickHouse
from metric_backfill.target import Target

CLI = [sys.executable, "-m", "metric_backfill.cli"]
ROLE, RIGHT, WRONG = "pw_reader", "right-pw", "wrong-pw"
FAST = 10.0  # seconds: a connection check, not a retry loop
CLOSED_CH = "http://default:@127.0.0.1:1/default"


def invoke(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


def timed_cli(*args: object) -> tuple[subprocess.CompletedProcess[str], float]:
    """The command in a child process, stopped after 60 s (today's retry loops take minutes)."""
    t0 = time.monotonic()
    try:
        r = subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{args[0]} still running after 60 s")
    return r, time.monotonic() - t0


def assert_one_line_exit_2(code: int, stderr: str, needle: str) -> str:
    lines = stderr.strip().splitlines()
    assert code == 2, stderr
    assert len(lines) == 1 and needle in lines[0], stderr
    assert "Traceback" not in stderr
    return lines[0]


def _reload(conn: psycopg.Connection, wrong_dsn: str, refused: bool) -> None:
    """pg_reload_conf() is asynchronous: wait until new connections see the new rules."""
    conn.execute("SELECT pg_reload_conf()")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            psycopg.connect(wrong_dsn, connect_timeout=5).close()
            ok = True
        except psycopg.OperationalError:
            ok = False
        if ok != refused:
            return
        time.sleep(0.05)
    raise AssertionError("pg_hba.conf change not picked up")


@pytest.fixture(scope="module")
def password_role(env):
    """A role that must give its password (the session cluster trusts every other role):
    a pg_hba rule for that role alone, removed afterwards. Yields its correct DSN."""
    port = env.pg.rsplit(":", 1)[1].split("/")[0]
    dsn = f"postgresql://{ROLE}:{RIGHT}@127.0.0.1:{port}/civitai"
    wrong = dsn.replace(RIGHT, WRONG)
    with psycopg.connect(env.pg, autocommit=True) as c:
        if not c.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (ROLE,)).fetchone():
            c.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{RIGHT}'")
        hba = Path(c.execute("SHOW hba_file").fetchone()[0])
        original = hba.read_text()
        hba.write_text(f"host all {ROLE} 127.0.0.1/32 scram-sha-256\n{original}")
        _reload(c, wrong, refused=True)
    yield dsn
    with psycopg.connect(env.pg, autocommit=True) as c:
        hba.write_text(original)
        _reload(c, wrong, refused=False)


@pytest.mark.parametrize("command", ["plan", "verify", "run"])
def test_wrong_postgres_password_fails_in_seconds_with_exit_2(tmp_path, password_role, command):
    wrong = password_role.replace(RIGHT, WRONG)
    r, secs = timed_cli(command, "--pg", wrong, "--target", f"chdb://{tmp_path / 'ch'}",
                        "--state", tmp_path / "state", "--packages", "buzz_tip,user_engagement")
    line = assert_one_line_exit_2(r.returncode, r.stderr, "password authentication failed")
    assert WRONG not in r.stdout + r.stderr
    assert "--resume" not in line
    assert secs < FAST, f"{command} took {secs:.1f} s"
    assert not (tmp_path / "state").exists() and not (tmp_path / "ch").exists()


@pytest.mark.parametrize("command", ["plan", "verify", "run"])
def test_closed_clickhouse_target_port_is_one_line_exit_2_before_any_write(env, tmp_path, command):
    t0 = time.monotonic()
    r = invoke(command, "--pg", env.pg, "--target", CLOSED_CH, "--state", tmp_path / "state",
               "--packages", "buzz_tip")
    assert_one_line_exit_2(r.exit_code, r.stderr, "--target")
    assert "Connection refused" in r.stderr
    assert time.monotonic() - t0 < FAST
    assert not (tmp_path / "state").exists()


@pytest.mark.parametrize("command", ["plan", "verify", "run"])
def test_closed_clickhouse_source_port_is_one_line_exit_2_before_any_write(env, tmp_path, command):
    table = env.new_table("closedch")
    r = invoke(command, "--pg", env.pg, "--ch", CLOSED_CH, "--target", env.ch, "--table", table,
               "--state", tmp_path / "state", "--packages", "model_version_events")
    assert_one_line_exit_2(r.exit_code, r.stderr, "--ch")
    assert "Connection refused" in r.stderr
    assert not (tmp_path / "state").exists()
    assert not Target(ClickHouse(env.ch), table).exists()


# a space, @, :, /, a percent-encoded space, quotes, and all of them at once
PASSWORDS = ["my Secret9", "p@ss9", "co:lon9", "sl/ash9", "pct%20pw9", "q'uo\"te9", "a b@c:d/e%20f'g\"9"]


def _secrets(pw: str) -> set[str]:
    return {pw, unquote(pw)}


@pytest.mark.parametrize("pw", PASSWORDS)
@pytest.mark.parametrize("flag", ["--pg", "--target", "--ch"])
def test_no_password_is_printed_whatever_its_characters(env, tmp_path, flag, pw):
    table = env.new_table("pw")
    args = {"--pg": env.pg, "--target": env.ch, "--packages": "buzz_tip"}
    if flag == "--pg":
        args["--pg"] = f"postgresql://backfill:{pw}@127.0.0.1:1/civitai"
    else:
        args[flag] = f"http://default:{pw}@127.0.0.1:1/default"
        args["--packages"] = "buzz_tip,model_version_events"
    for command in ("run", "verify"):
        r = invoke(command, *[x for kv in args.items() for x in kv], "--table", table,
                   "--state", tmp_path / "state")
        assert r.exit_code == 2, r.output
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
        for secret in _secrets(pw):
            assert secret not in r.output, (command, r.output)


@pytest.mark.parametrize("pw", PASSWORDS)
def test_redact_hides_every_password_it_was_given(pw):
    from metric_backfill.dsn import register_passwords
    from metric_backfill.errors import redact

    register_passwords(f"postgresql://reader:{pw}@db:5432/civitai", None)
    text = f"could not connect with {pw!r}; the server saw '{unquote(pw)}' (password={pw})"
    out = redact(text)
    for secret in _secrets(pw):
        assert secret not in out, out


@pytest.mark.parametrize("pw", PASSWORDS)
def test_the_saved_plan_never_holds_the_target_password(pw):
    import json

    from metric_backfill.engine import RunOptions

    saved = json.dumps(RunOptions(target=f"https://default:{pw}@ch:8443/default").fingerprint_options([]))
    for secret in _secrets(pw):
        assert secret not in saved, saved


@pytest.mark.parametrize("pw", ["my Secret9", "p@ss9", "sl/ash9", "a b@c:d/e%20f'g\"9"])
@pytest.mark.parametrize("flag", ["--pg", "--target", "--ch"])
def test_a_password_the_url_parsers_would_cut_is_refused_without_any_part_of_it(env, tmp_path, flag, pw):
    """Postgres and ClickHouse clients cut a raw space, @ or / out of a URL password and print
    the pieces (`failed to resolve host 'ss9@127.0.0.1'`): refused up front instead."""
    args = {"--pg": env.pg, "--target": env.ch, "--packages": "buzz_tip,model_version_events"}
    args[flag] = (f"postgresql://backfill:{pw}@127.0.0.1:1/civitai" if flag == "--pg"
                  else f"http://default:{pw}@127.0.0.1:1/default")
    r = invoke("run", *[x for kv in args.items() for x in kv], "--table", env.new_table("pw"),
               "--state", tmp_path / "state")
    line = assert_one_line_exit_2(r.exit_code, r.stderr, "percent-encode")
    assert line.startswith(f"error: {flag}"), line
    for secret in _secrets(pw):
        assert secret not in r.output


BAD_TABLES = ["x' OR '1'='1", "1abc", "a.b.c", "a-b", "t`x", "db.", ".t", "e;DROP TABLE t", ""]


def _catalog(ch: ClickHouse) -> set[tuple]:
    return set(ch.query_rows("SELECT database, name FROM system.tables")) | set(
        ch.query_rows("SELECT name, '' FROM system.databases"))


@pytest.mark.parametrize("table", BAD_TABLES)
@pytest.mark.parametrize("command", ["run", "plan", "verify"])
def test_table_must_be_an_identifier(env, tmp_path, command, table):
    ch = ClickHouse(env.ch)
    before = _catalog(ch)
    r = invoke(command, "--pg", env.pg, "--target", env.ch, "--table", table,
               "--state", tmp_path / "state", "--packages", "buzz_tip")
    assert_one_line_exit_2(r.exit_code, r.stderr, "--table")
    assert _catalog(ch) == before
    assert not (tmp_path / "state").exists()


def test_a_table_in_another_database_is_created_and_verified(env, tmp_path):
    table = f"mb_other.{env.new_table('db')}"
    common = ["--pg", env.pg, "--target", env.ch, "--table", table, "--packages", "buzz_tip"]
    r = invoke("run", *common, "--state", tmp_path / "state", "--no-progress")
    assert r.exit_code == 0, r.output
    r = invoke("verify", *common)
    assert r.exit_code == 0, r.output
    assert Target(ClickHouse(env.ch), table).exists()


TEXTS = ["x' OR '1'='1", "back\\slash", "\\'", "tab\there", "`tick`", "ünï", "a.b"]


@pytest.mark.parametrize("text", TEXTS)
def test_literals_and_identifiers_are_escaped(env, text):
    from metric_backfill.clickhouse import quote_ident, string_literal

    got = ClickHouse(env.ch).query_arrow(f"SELECT {string_literal(text)} AS {quote_ident(text)}")
    assert got.column_names == [text]
    assert got.column(0).to_pylist() == [text]


@pytest.mark.parametrize("where", ["a file", "under a file"])
def test_a_state_that_cannot_be_a_directory_is_refused_before_anything_is_written(env, tmp_path, where):
    (tmp_path / "file").write_text("not a directory")
    state = tmp_path / "file" if where == "a file" else tmp_path / "file" / "state"
    table = env.new_table("state")
    r = invoke("run", "--pg", env.pg, "--target", env.ch, "--table", table, "--state", state,
               "--packages", "buzz_tip", "--no-progress")
    assert_one_line_exit_2(r.exit_code, r.stderr, "--state")
    assert not Target(ClickHouse(env.ch), table).exists()


@pytest.mark.parametrize("command", ["run", "plan", "verify"])
def test_a_key_value_postgres_dsn_is_refused_with_the_url_form(env, tmp_path, command):
    port = env.pg.rsplit(":", 1)[1].split("/")[0]
    dsn = f"host=127.0.0.1 port={port} dbname=civitai user=backfill password='my secret'"
    table = env.new_table("kv")
    r = invoke(command, "--pg", dsn, "--target", env.ch, "--table", table,
               "--state", tmp_path / "state", "--packages", "buzz_tip")
    line = assert_one_line_exit_2(r.exit_code, r.stderr, "postgresql://")
    assert line.startswith("error: --pg"), line
    assert "my secret" not in r.output
    assert not Target(ClickHouse(env.ch), table).exists()


@pytest.mark.parametrize("extra", [["--packages", ""], ["--packages", " , "],
                                   ["--exclude-metrics", ""], ["--exclude-metrics", ","]])
@pytest.mark.parametrize("command", ["plan", "verify", "run"])
def test_an_explicitly_empty_list_is_an_error(env, tmp_path, command, extra):
    table = env.new_table("empty")
    r = invoke(command, "--pg", env.pg, "--target", env.ch, "--table", table,
               "--state", tmp_path / "state", *extra)
    assert_one_line_exit_2(r.exit_code, r.stderr, extra[0])
    assert not Target(ClickHouse(env.ch), table).exists()


def test_an_empty_environment_list_is_an_error_too(env, tmp_path):
    import os
    import subprocess
    import sys

    for var in ("METRIC_BACKFILL_PACKAGES", "METRIC_BACKFILL_EXCLUDE_METRICS"):
        r = subprocess.run([sys.executable, "-m", "metric_backfill.cli", "plan", "--pg", env.pg,
                            "--target", f"chdb://{tmp_path / 'ch'}", "--state", str(tmp_path / "s")],
                           capture_output=True, text=True, env={**os.environ, var: ""})
        assert r.returncode == 2 and "empty" in r.stderr, (var, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1, (var, r.stderr)


def test_a_parquet_dir_that_is_a_file_is_refused_before_anything_is_written(env, tmp_path):
    from typer.testing import CliRunner

    from metric_backfill.cli import app

    afile = tmp_path / "afile"
    afile.write_text("")
    r = CliRunner().invoke(app, ["run", "--pg", env.pg, "--target", env.ch, "--table",
                                 env.new_table("pq"), "--state", str(tmp_path / "s"),
                                 "--packages", "article", "--parquet-dir", str(afile),
                                 "--no-insert", "--no-progress"])
    assert r.exit_code == 2, r.output
    assert len(r.stderr.strip().splitlines()) == 1 and "--parquet-dir" in r.stderr
    assert not (tmp_path / "s" / "plan.json").exists()
