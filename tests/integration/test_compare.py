"""compare against the synthetic legacy tables: exactly the injected drift and nothing else,
as of each row or of one moment, read-only, in key-range chunks; its exit codes, its notices for
a deployment that dropped legacy tables or columns, and its pictures.

Everything runs in this process on the session's chdb (one path per process), the CLI through
typer's runner; the synthetic drift is recomputed from (scale, seed) by the generator.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime

import polars as pl
import psycopg
import pytest
from typer.testing import CliRunner

from metric_backfill import compare as C
from metric_backfill.cli import app
from metric_backfill.clickhouse import ClickHouse
from metric_backfill.compare import AsOf, CompareReport, compare
from metric_backfill.events import Window
from metric_backfill.expected import stream_into
from metric_backfill.legacy import LEGACY_TABLES, legacy_column
from metric_backfill.sources import PostgresSource
from metric_backfill.target import Target
from metric_backfill_lab.synth.legacy import legacy_for
from metric_backfill_lab.synth.pg_load import load_metric_tables
from tests.helpers import CUTOFF, SCALE, SEED
from tests.integration.test_packaging import NO_PLOTS

MAPPED = [m for t in LEGACY_TABLES for m in t.metric_names()]


@pytest.fixture(scope="module")
def table(env, tmp_path_factory) -> str:
    """Every package backfilled into a fresh table of the session's chdb."""
    from metric_backfill.engine import Runner, RunOptions

    name = env.new_table("compare")
    Runner(RunOptions(target=env.ch, pg=env.pg, table=name, window=Window(cutoff=CUTOFF),
                      state=tmp_path_factory.mktemp("state"), progress=False)).run()
    return name


@pytest.fixture(scope="module")
def legacy():
    return legacy_for(SCALE, SEED)


@pytest.fixture(scope="module")
def row(env, table) -> CompareReport:
    """Every mapped metric compared as of each legacy row's updatedAt (the default)."""
    return _compare(env, table)


def _compare(env, table: str, as_of: AsOf | None = None, pg: str | None = None,
             metrics: list[str] | None = None, log: list[str] | None = None) -> CompareReport:
    return compare(PostgresSource(pg or env.pg), Target(ClickHouse(env.ch), table),
                   metrics or MAPPED, as_of or AsOf("row", CUTOFF), worst=100_000,
                   log=(log.append if log is not None else lambda _: None))


def _ch(env, sql: str) -> list[tuple]:
    return ClickHouse(env.ch).query_rows(sql)


def _found(report: CompareReport) -> dict[str, dict[int, tuple[int, int]]]:
    return {m.name: {w["entityId"]: (w["legacy"], w["events"]) for w in m.worst}
            for m in report.metrics}


def test_compare_reports_exactly_the_injected_drift_and_writes_nothing(env, table, legacy):
    before = _ch(env, f"SELECT count(), sum(metricValue) FROM `{table}`")
    report = _compare(env, table)
    assert [m.name for m in report.metrics] == MAPPED
    found = _found(report)
    for m in report.metrics:
        assert found[m.name] == legacy.drift.unequal.get(m.name, {}), m.name
        assert m.unequal == len(found[m.name]) == m.entities - m.equal
        t, column = legacy_column(m.name)  # type: ignore[misc]
        alltime = legacy.frames[t.name].filter(pl.col("timeframe") == "AllTime")
        assert m.legacy_total == alltime[column].sum(), m.name  # every legacy row read once
    assert _ch(env, f"SELECT count(), sum(metricValue) FROM `{table}`") == before
    assert _ch(env, "SELECT name FROM system.tables WHERE name LIKE 'mb_compare_%'") == []


def test_reason_labels_and_the_summary(row, legacy):
    report = row
    by = {m.name: m for m in report.metrics}
    for metric in legacy.drift.legacy_way:  # computed the legacy way: each has a reason
        assert by[metric].status == "known", metric
    assert by["Model.commentCount"].reasons == ("distinct users",)
    assert by["Model.ratingCount"].reasons == ("review filters",)
    assert by["User.reactionCount"].reasons == ("self-reactions",)
    unexplained = {m for m, d in legacy.drift.unequal.items() if d and not by[m].reasons}
    assert unexplained and {m.name for m in report.metrics if m.status == "unexplained"} == unexplained
    assert report.summary() == (
        f"64 metrics compared as of each legacy row's updatedAt: {report.count('equal')} equal, "
        f"{report.count('known')} drifting with a known reason, {len(unexplained)} drifting "
        f"without one")
    assert report.count("equal") + report.count("known") + len(unexplained) == 64


def test_legacy_rows_read_in_many_key_ranges_and_compared_in_many_chunks_give_the_same(
        env, table, row, monkeypatch):
    monkeypatch.setattr(C, "READ_ROWS", 60)
    monkeypatch.setattr(C, "CHUNK_ROWS", 1000)
    reads = []
    monkeypatch.setattr(C, "stream_into", lambda *a, **k: (reads.append(a[2]), stream_into(*a, **k)))
    chunked = _compare(env, table)
    assert [m.to_json() for m in chunked.metrics] == [m.to_json() for m in row.metrics]
    image = [sql for sql in reads if '"ImageMetric"' in sql]
    assert len(image) >= 5
    assert '"imageId" >=' not in image[0] and '"imageId" <' not in image[-1]  # open-ended


def _events_between(env, table: str, dated: pl.DataFrame, until: datetime) -> dict[str, int]:
    """Independently: per metric, the sum of events of each dated entity created between its
    row's updatedAt and ``until``."""
    events = pl.from_arrow(ClickHouse(env.ch).query_arrow(
        f"SELECT toString(entityType) AS entityType, toInt64(entityId) AS entityId, "
        f"toString(metricType) AS metricType, metricValue, createdAt FROM `{table}`"))
    events = events.with_columns(pl.col("createdAt").cast(pl.Datetime("ms")).dt.replace_time_zone(None))
    joined = events.join(dated, on=["entityType", "entityId"]).filter(
        (pl.col("createdAt") >= pl.col("updatedAt")) & (pl.col("createdAt") < until))
    sums = joined.group_by("entityType", "metricType").agg(pl.col("metricValue").sum())
    return {f"{e}.{m}": int(v) for e, m, v in sums.iter_rows()}


def _dated_rows(env) -> pl.DataFrame:
    frames = []
    with psycopg.connect(env.pg) as conn:
        for t in LEGACY_TABLES:
            rows = conn.execute(f'SELECT "{t.id_column}", "updatedAt" FROM "{t.name}" '
                                "WHERE timeframe = 'AllTime' AND \"updatedAt\" IS NOT NULL").fetchall()
            frames.append(pl.DataFrame(rows, schema={"entityId": pl.Int64, "updatedAt": pl.Datetime("ms")},
                                       orient="row").with_columns(entityType=pl.lit(t.entity_type)))
    return pl.concat(frames)


def test_as_of_cutoff_differs_from_row_exactly_by_the_events_between(env, table, row, legacy):
    cut = {m.name: m for m in _compare(env, table, AsOf("cutoff", CUTOFF)).metrics}
    between = _events_between(env, table, _dated_rows(env), CUTOFF)
    for m in row.metrics:
        name = m.name
        assert cut[name].legacy_total == m.legacy_total, name
        assert cut[name].events_total - m.events_total == between.get(name, 0), name
    assert sum(between.values()) > 0
    stale = {(t, e) for t, es in legacy.drift.stale.items() for e in es}
    apart = {(m.table, w["entityId"]) for m in cut.values() for w in m.worst} & stale
    assert apart, "stale rows are equal as of their updatedAt, apart as of the cutoff"


def test_as_of_a_timestamp_counts_every_event_before_it(env, table):
    moment = datetime(2024, 1, 1)
    report = _compare(env, table, AsOf("time", moment))
    sums = dict(((f"{e}.{m}", int(v)) for e, m, v in _ch(
        env, f"SELECT entityType, metricType, sum(metricValue) FROM `{table}` "
             f"WHERE createdAt < '2024-01-01 00:00:00' GROUP BY entityType, metricType")))
    for m in report.metrics:
        assert m.events_total == sums.get(m.name, 0), m.name
    assert report.summary().startswith("64 metrics compared as of 2024-01-01 00:00:00.000: ")


def _cli(env, table: str, *args: str, pg: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["compare", "--pg", pg or env.pg, "--target", env.ch,
                                      "--table", table, "--no-progress", *args])
    return result.exit_code, result.stdout, result.stderr


def test_max_drift_exit_codes_and_the_json(env, table, tmp_path):
    out = tmp_path / "compare.json"
    code, stdout, stderr = _cli(env, table, "--json", str(out))
    assert code == 0, stderr  # drift found, no threshold: still 0
    doc = json.loads(out.read_text())
    assert doc["ok"] and doc["summary"]["compared"] == 64 and doc["max_drift"] is None
    assert len(doc["new_metrics"]) == 9
    worst = max(m["unequal_pct"] for m in doc["metrics"] if not m["reasons"])
    assert "64 metrics compared" in stdout and "by design (SPEC §6):" in stdout
    code, _, stderr = _cli(env, table, "--max-drift", str(worst + 0.01))
    assert code == 0, stderr
    code, stdout, _ = _cli(env, table, "--max-drift", str(worst - 0.01), "--json", str(out))
    assert code == 1
    over = json.loads(out.read_text())["over_max_drift"]
    assert over and all(f"over --max-drift {worst - 0.01:g} %: {m} has" in stdout for m in over)
    by_design = max(m["unequal_pct"] for m in doc["metrics"] if m["reasons"])
    assert by_design > worst  # a metric with a by-design reason is never over the threshold


def test_bad_input_is_one_line_and_exit_2(env, table, tmp_path):
    (tmp_path / "file").write_text("")
    for args, says in ((["--as-of", "yesterday"], "--as-of: expected row, cutoff or a UTC timestamp"),
                       (["--metrics", "Post.reactionCount"], "no metric selected has a legacy column"),
                       (["--metrics", "Image.Likes"], "--metrics: Image.Likes"),
                       (["--png", str(tmp_path / "file")], "--png: cannot write into"),
                       (["--json", str(tmp_path / "no" / "c.json")], "--json: cannot write"),
                       (["--table", "missing_table"], "target table missing_table does not exist")):
        code, _, stderr = _cli(env, table, *args)
        lines = stderr.strip().splitlines()
        assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), (args, stderr)
        assert says in stderr, (args, stderr)
    code, _, stderr = _cli(env, table, "--max-drift", "-1")
    assert code == 2 and "--max-drift" in stderr
    result = CliRunner().invoke(app, ["compare", "--target", env.ch, "--table", table])
    assert result.exit_code == 2 and "compare needs --pg" in result.stderr


@pytest.fixture(scope="module")
def dropped(env, legacy) -> str:
    """A database holding only the legacy tables, of which one table, one column and one
    updatedAt are gone (a deployment that dropped them)."""
    return _legacy_database(env, legacy, "compare_dropped", 'DROP TABLE "TagMetric"',
                            'ALTER TABLE "ModelMetric" DROP COLUMN "earnedAmount"',
                            'ALTER TABLE "UserMetric" DROP COLUMN "updatedAt"')


def _legacy_database(env, legacy, db: str, *changes: str) -> str:
    """A database of the session's server holding only the legacy tables, then ``changes``."""
    cluster = env.pg.rsplit("/", 1)[0]
    with psycopg.connect(f"{cluster}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}"')
        conn.execute(f'CREATE DATABASE "{db}"')
    dsn = f"{cluster}/{db}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("""CREATE TYPE "MetricTimeframe" AS ENUM ('Day', 'Week', 'Month', 'Year', 'AllTime')""")
    load_metric_tables(dsn, legacy.frames)
    with psycopg.connect(dsn, autocommit=True) as conn:
        for change in changes:
            conn.execute(change)
    return dsn


def test_a_missing_table_or_column_skips_its_metrics_with_one_notice_each(env, table, dropped):
    log: list[str] = []
    report = _compare(env, table, pg=dropped, log=log)
    notes = [line for line in log if not line.startswith(("note: default.mb_", "note: dropped"))]
    assert notes == [
        "note: legacy column ModelMetric.earnedAmount is missing: Model.earnedAmount not compared",
        "note: legacy table TagMetric is missing: Tag.followerCount, Tag.hiddenCount not compared",
        "note: legacy table UserMetric has no updatedAt: its values are compared as of the cutoff",
    ]
    assert sorted(report.skipped) == ["Model.earnedAmount", "Tag.followerCount", "Tag.hiddenCount"]
    assert len(report.metrics) == 61
    code, stdout, stderr = _cli(env, table, pg=dropped)  # --pg repeats (replicas): the first is read
    assert code == 0 and "Traceback" not in stderr
    assert "not compared (legacy table TagMetric is missing): Tag.followerCount, Tag.hiddenCount" in stdout


def test_one_titled_labelled_picture_per_entity_type(env, table, tmp_path):
    from PIL import Image

    code, _, stderr = _cli(env, table, "--png", str(tmp_path / "pictures"),
                           "--metrics", "Model.commentCount,Model.thumbsDownCount,Tag.followerCount")
    assert code == 0, stderr
    pictures = sorted(p.name for p in (tmp_path / "pictures").iterdir())
    assert pictures == ["compare_Model.png", "compare_Tag.png"]
    with Image.open(tmp_path / "pictures" / "compare_Model.png") as img:
        assert img.text["Title"] == ("Models: how far the new metric values are from today's "
                                     "(as of each legacy row's updatedAt)")
        assert "share of models whose new value" in img.text["Description"]
        assert img.size[0] > 800


def test_pictures_without_matplotlib_name_the_plots_extra_and_exit_2_before_any_work(env, tmp_path):
    out = subprocess.run([sys.executable, "-c", NO_PLOTS, "compare", "--pg", env.pg, "--target",
                          f"chdb://{tmp_path / 'ch'}", "--png", str(tmp_path / "p")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip() == "error: --png needs matplotlib: pip install 'metric-backfill[plots]'"
    assert not (tmp_path / "ch").exists() and not (tmp_path / "p").exists()


def test_the_generated_reaction_counts_and_the_loaded_rows(env, legacy):
    with psycopg.connect(env.pg) as conn:
        generated = conn.execute(
            "SELECT table_name FROM information_schema.columns WHERE column_name = 'reactionCount' "
            "AND is_generated = 'ALWAYS' ORDER BY 1").fetchall()
        assert generated == [("ImageMetric",), ("PostMetric",)]
        ok = conn.execute('SELECT bool_and("reactionCount" = "likeCount" + "heartCount" + '
                          '"laughCount" + "cryCount") FROM "ImageMetric"').fetchone()
        assert ok == (True,)
        for name, df in legacy.frames.items():
            assert conn.execute(f'SELECT count(*) FROM "{name}"').fetchone() == (df.height,), name


def test_as_of_a_year_before_1000_counts_no_event(env):
    """A moment written with a year of fewer than four digits is the same moment on both sides:
    an entity without a legacy row does not get its 1999 event counted as of the year 1."""
    table = env.new_table("compare_early")
    target = Target(ClickHouse(env.ch), table)
    target.ensure()
    ClickHouse(env.ch).command(f"INSERT INTO {target.quoted} VALUES "
                               "('Article', 2000000000, 0, 'Like', 1, '1999-06-01 00:00:00.000')")
    report = compare(PostgresSource(env.pg), target, ["Article.Like"], AsOf("time", datetime(1, 1, 1)),
                     log=lambda _: None)
    (like,) = report.metrics
    assert like.events_total == 0 and like.only_in_events == 0


def test_a_worst_too_large_for_the_target_is_bad_input(env, table):
    code, _, stderr = _cli(env, table, "--worst", "16777216")
    lines = stderr.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: --worst"), stderr


def test_a_postgres_error_while_the_legacy_rows_stream_is_one_line(env, table, legacy):
    """The legacy read fails after it started (here a value no bigint holds; on a replica, a
    cancelled statement): one error line, no traceback, no scratch table left."""
    dsn = _legacy_database(env, legacy, "compare_unreadable",
                           'ALTER TABLE "ArticleMetric" ALTER COLUMN "likeCount" TYPE numeric',
                           'UPDATE "ArticleMetric" SET "likeCount" = 1e30 WHERE "articleId" = '
                           '(SELECT max("articleId") FROM "ArticleMetric")')
    code, _, stderr = _cli(env, table, "--metrics", "Article.Like", pg=dsn)
    lines = stderr.strip().splitlines()
    assert code == 1 and len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert _ch(env, "SELECT name FROM system.tables WHERE name LIKE 'mb_compare_%'") == []
