"""``bench batch-sizes`` takes its Postgres source as the other commands do: the first of several
``--pg`` (METRIC_BACKFILL_PG may hold replicas, space-separated, for ``run``), and ``--seeded``
names the source even when METRIC_BACKFILL_PG is set (an explicit option beats the
environment's default; both given on the command line is still refused). Checked up to the
first error after the source: no database is reached."""

from __future__ import annotations

from typer.testing import CliRunner

from metric_backfill.cli import app

DSN = "postgresql://backfill:secret@127.0.0.1:5/civitai"
REPEAT_ERROR = "error: --repeat must be > 0 (got 0)"


def _bench(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["bench", "batch-sizes", "--repeat", "0", *args], env=env)
    return result.exit_code, result.stderr.strip()


def test_several_dsns_in_the_environment_are_the_first_of_several(tmp_path):
    assert _bench(env={"METRIC_BACKFILL_PG": f"{DSN} {DSN.replace('civitai', 'replica')}"}) == (2, REPEAT_ERROR)


def test_seeded_beats_the_environment(tmp_path):
    assert _bench("--seeded", str(tmp_path), env={"METRIC_BACKFILL_PG": DSN}) == (2, REPEAT_ERROR)


def test_pg_and_seeded_on_the_command_line_are_refused(tmp_path):
    code, err = _bench("--pg", DSN, "--seeded", str(tmp_path))
    assert code == 2 and err.startswith("error: give the Postgres source"), err
