"""Helpers shared by the tests: the seeded environment and a backfill-then-verify shortcut."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import polars as pl

from metric_backfill.defaults import DEFAULT_CUTOFF
from metric_backfill.events import Window

REPO = Path(__file__).resolve().parents[1]
"""The repository's root (tests may live at any depth below tests/)."""
SCALE = 0.02
SEED = 7
CUTOFF = DEFAULT_CUTOFF
_tables = itertools.count()


@dataclass
class Env:
    root: Path
    pg: str
    ch: str
    counts: dict[str, int] = field(default_factory=dict)

    def new_table(self, prefix: str = "t") -> str:
        return f"{prefix}_{next(_tables)}"


def imported_by_the_product(top_level: tuple[str, ...]) -> list[str]:
    """The modules under ``top_level`` names that importing the product's commands loads, in a
    fresh interpreter (this one has loaded whatever earlier tests needed)."""
    code = ("import json, sys, metric_backfill.cli, metric_backfill.engine, metric_backfill.verify, "
            "metric_backfill.load, metric_backfill.compare, metric_backfill.charts; "
            f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0].startswith({top_level!r}))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def rows_of(schema: dict[str, pl.DataType]) -> Callable[..., pl.DataFrame]:
    """A maker of hand-made batch rows in one package's source schema: ``rows(id=[1], …)``."""
    return lambda **cols: pl.DataFrame(cols, schema=schema)


def ms(text: str) -> datetime:
    return datetime.fromisoformat(text)


def events_of(package: str, rows: pl.DataFrame, cutoff: datetime = CUTOFF,
              since: datetime | None = None, lookups: dict[str, pl.DataFrame] | None = None):
    """Explode hand-made rows through a package; returns (events sorted, skipped)."""
    from metric_backfill.events import explode
    from metric_backfill.package import Context
    from metric_backfill.registry import all_packages

    out = explode(all_packages()[package], rows, Window(cutoff=cutoff, since=since),
                  Context(lookups=lookups or {}))
    return out.events, out.skipped


def backfill_and_verify(env: Env, packages: list[str], tmp_path: Path, since: datetime | None = None,
                        batch_size: int | None = None, **opts):
    """Run the packages into a fresh table of the session's chdb, then verify; returns both reports."""
    from metric_backfill.engine import Runner, RunOptions

    table = env.new_table("e2e")
    window = Window(cutoff=CUTOFF, since=since)
    o = RunOptions(target=env.ch, pg=env.pg, table=table, window=window, packages=packages,
                   state=tmp_path / f"state-{table}", batch_size=batch_size, progress=False,
                   **opts)
    report = Runner(o).run()
    return report, verify_table(env, packages, table, window, o.params)


def verify_table(env: Env, packages: list[str], table: str, window: Window,
                 params: dict | None = None, metrics: list[str] | None = None, **kw):
    """verify, in process, of a table of the session's chdb against the session's sources."""
    from metric_backfill.clickhouse import ClickHouse
    from metric_backfill.defaults import default_params
    from metric_backfill.registry import select
    from metric_backfill.sources import ClickHouseSource, PostgresSource, source_for
    from metric_backfill.target import Target
    from metric_backfill.verify import verify

    pkgs = select(packages)
    pg, ch = PostgresSource(env.pg), ClickHouseSource(ClickHouse(env.ch))
    sources = {p.name: source_for(p, pg, ch) for p in pkgs}
    metrics = metrics or list(dict.fromkeys(m for p in pkgs for m in p.metric_names))
    return verify(pkgs, sources, Target(ClickHouse(env.ch), table), window, metrics,
                  params if params is not None else default_params(), pg=pg, **kw)


def chdb_count(target_dir: Path, table: str = "entityMetricEvents") -> int:
    """Rows in a chdb target other than the session's, read from a child process (chdb allows
    one data path per process)."""
    import subprocess
    import sys

    code = ("import clickhouse_connect as c; "
            f"print(c.get_client(dsn='chdb://{target_dir}').query('SELECT count() FROM `{table}`').result_rows[0][0])")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return int(r.stdout.strip())
