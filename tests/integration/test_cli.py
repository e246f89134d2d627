"""The command line, in-process with typer's runner, against the session's Postgres and chdb."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from metric_backfill.cli import app
from metric_backfill.clickhouse import ClickHouse
from metric_backfill.registry import all_metrics, all_packages
from metric_backfill.target import Target

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_help_on_every_command():
    for cmd in ([], ["list"], ["plan"], ["run"], ["verify"], ["compare"], ["demo"], ["db"], ["db", "up"],
                ["db", "down"]):
        r = invoke(*cmd, "--help")
        assert r.exit_code == 0, (cmd, r.output)
        assert "Usage" in r.output


def test_list_json_shows_every_package_and_metric():
    r = invoke("list", "--json")
    assert r.exit_code == 0
    doc = json.loads(r.stdout)
    assert [d["package"] for d in doc] == list(all_packages())
    listed = {m for d in doc for m in d["metrics"]}
    assert listed == set(all_metrics())
    assert all({"package", "source", "key", "metrics"} <= set(d) for d in doc)


def _common(env, tmp_path, table):
    return ["--pg", env.pg, "--target", env.ch, "--table", table, "--state", tmp_path / "state",
            "--packages", "buzz_tip,user_engagement,image_reaction", "--no-progress"]


def test_run_then_verify_then_guards(env, tmp_path):
    table = env.new_table("cli")
    common = _common(env, tmp_path, table)
    r = invoke("run", *common, "--json", tmp_path / "run.json", "--batch-size", "500")
    assert r.exit_code == 0, r.output
    doc = json.loads((tmp_path / "run.json").read_text())
    assert doc["complete"] and doc["packages"]["image_reaction"]["events"] > 0
    assert "image_reaction" in r.stdout

    vcommon = [a for a in common if a != "--no-progress"]
    r = invoke("verify", *vcommon, "--json", tmp_path / "verify.json")
    assert r.exit_code == 0, r.output
    v = json.loads((tmp_path / "verify.json").read_text())
    assert v["ok"] and v["mismatches"] == 0 and len(v["metrics"]) == 27
    assert all(m["expected_total"] == m["actual_total"] for m in v["metrics"])
    assert sum(m["actual_total"] for m in v["metrics"]) > 0

    # the same plan again: a no-op that says so
    r = invoke("run", *common, "--batch-size", "500")
    assert r.exit_code == 0 and "already complete" in r.stderr

    # a fresh plan into a table that already has these events: refused
    r = invoke("run", *common, "--batch-size", "600")
    assert r.exit_code == 2
    assert "already holds" in r.stderr and "--resume" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1

    # resume with other options: refused
    r = invoke("run", *common, "--batch-size", "600", "--resume")
    assert r.exit_code == 2 and "batch_size" in r.stderr


def test_verify_detects_a_tampered_target(env, tmp_path):
    table = env.new_table("cli")
    common = _common(env, tmp_path, table)
    assert invoke("run", *common).exit_code == 0
    ClickHouse(env.ch).command(
        f"INSERT INTO `{table}` VALUES ('User', 1, 0, 'followerCount', 1, '2024-01-01 00:00:00.000')"
    )
    r = invoke("verify", *[a for a in common if a != "--no-progress"])
    assert r.exit_code == 1
    assert "MISMATCH" in r.stdout and "User.followerCount worst" in r.stdout


BAD_INPUTS = [
    (["--batch-size", "0"], "--batch-size"),
    (["--concurrency", "0"], "--concurrency"),
    (["--cutoff", "yesterday"], "--cutoff"),
    (["--since", "2024-09-01"], "--since"),
    (["--packages", "buzz_tips"], "did you mean 'buzz_tip'"),
    (["--exclude-metrics", "User.nope"], "unknown metric"),
    (["--target", "mysql://x"], "unsupported DSN"),
]


@pytest.mark.parametrize(("extra", "needle"), BAD_INPUTS)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(env, tmp_path, extra, needle):
    table = env.new_table("bad")
    args = ["run", "--pg", env.pg, "--target", env.ch, "--table", table, "--state", tmp_path / "s",
            "--no-progress", *extra]
    r = invoke(*args)
    assert r.exit_code == 2, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], r.stderr
    assert "Traceback" not in r.output
    assert not Target(ClickHouse(env.ch), table).exists()


@pytest.mark.parametrize("pg", [
    "postgresql://backfill:s3cret-pw@127.0.0.1:1/civitai",
    "postgresql://backfill:s3cret-pw@127.0.0.1:{port}/no_such_db",
])
def test_unreachable_or_wrong_postgres_never_prints_the_password(env, tmp_path, pg):
    port = env.pg.rsplit(":", 1)[1].split("/")[0]
    table = env.new_table("bad")
    r = invoke("run", "--pg", pg.format(port=port), "--target", env.ch, "--table", table,
               "--state", tmp_path / "s", "--no-progress")
    assert r.exit_code == 2
    assert "s3cret-pw" not in r.output
    assert len(r.stderr.strip().splitlines()) == 1
    assert not Target(ClickHouse(env.ch), table).exists()


def test_missing_source_table_is_named(env, tmp_path):
    import psycopg

    pg = env.pg.rsplit("/", 1)[0] + "/half_empty"
    with psycopg.connect(env.pg, autocommit=True) as c:
        if not c.execute("SELECT 1 FROM pg_database WHERE datname = 'half_empty'").fetchone():
            c.execute("CREATE DATABASE half_empty")
    with psycopg.connect(pg, autocommit=True) as c:
        c.execute('CREATE TABLE IF NOT EXISTS "BuzzTip" ("entityType" text, "entityId" int)')
    table = env.new_table("bad")
    r = invoke("run", "--pg", pg, "--target", env.ch, "--table", table, "--state", tmp_path / "s",
               "--packages", "user_engagement", "--no-progress")
    assert r.exit_code == 2
    assert "missing table UserEngagement" in r.stderr
    r = invoke("run", "--pg", pg, "--target", env.ch, "--table", table, "--state", tmp_path / "s",
               "--packages", "buzz_tip", "--no-progress")
    assert r.exit_code == 2
    assert "missing column BuzzTip.amount" in r.stderr
    assert not Target(ClickHouse(env.ch), table).exists()
