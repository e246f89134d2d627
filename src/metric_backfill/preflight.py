"""Checks made before the first write: sources reachable, tables and columns present."""

from __future__ import annotations

from .clickhouse import ClickHouse, string_literal
from .defaults import LEGACY_IMAGE_METRICS
from .errors import UserError
from .events import Window
from .package import Package
from .sources import ClickHouseSource, PostgresSource
from .target import Target


def check_connections(pg: PostgresSource | None, clickhouses: dict[str, ClickHouse]) -> None:
    """Every server the command talks to answers and accepts its credentials (``clickhouses``
    by flag). A wrong password or a closed port is then one line and exit 2 within seconds,
    where the first query would have retried an error that cannot pass for minutes."""
    if pg is not None:
        pg.ping()
    pinged: set[str] = set()
    for flag, ch in clickhouses.items():
        if ch.dsn not in pinged:  # --ch defaults to the target: one check is enough
            pinged.add(ch.dsn)
            ch.ping(flag)


def check_sources(packages: list[Package], src: PostgresSource | ClickHouseSource) -> None:
    """Every table and column the packages read exists (one query, one readable line)."""
    needed = {(t, c) for p in packages for t, cols in p.tables.items() for c in cols}
    if not needed:
        return
    tables = sorted({t for t, _ in needed})
    if isinstance(src, PostgresSource):
        listed = ", ".join(f"'{t}'" for t in tables)
        sql = (
            "SELECT table_name AS t, column_name AS c FROM information_schema.columns "
            f"WHERE table_schema = ANY (current_schemas(false)) AND table_name IN ({listed})"
        )
        where = "Postgres"
    else:
        conds = " OR ".join(
            f"(database = {string_literal(t.split('.')[0])} AND table = {string_literal(t.split('.')[1])})"
            if "." in t else f"(database = currentDatabase() AND table = {string_literal(t)})"
            for t in tables
        )
        sql = (
            "SELECT if(database = currentDatabase(), table, '') AS bare, "
            f"concat(database, '.', table) AS qualified, name AS c FROM system.columns WHERE {conds}"
        )
        where = "ClickHouse"
    present: set[tuple[str, str]] = set()
    for row in src.fetch(sql).iter_rows():
        if len(row) == 2:
            present.add((row[0], row[1]))
        else:
            bare, qualified, col = row
            present.add((qualified, col))
            if bare:
                present.add((bare, col))
    present_tables = {t for t, _ in present}
    missing_tables = [t for t in tables if t not in present_tables]
    if missing_tables:
        users = sorted({p.name for p in packages for t in missing_tables if t in p.tables})
        raise UserError(
            f"{where}: missing table {', '.join(missing_tables)} (needed by {', '.join(users)})"
        )
    missing = sorted(f"{t}.{c}" for t, c in needed - present)
    if missing:
        raise UserError(f"{where}: missing column {', '.join(missing)}")


def legacy_image_events(target: Target, window: Window, emitted: list[str]) -> dict[str, int]:
    """Legacy-named Image events already in the target window (SPEC §3.1), for the report.

    A legacy name this run also emits (``Image.Collection``) is left to the double-backfill
    guard: counting it here would report the run's own events on every resume.
    """
    legacy = [f"Image.{m}" for m in LEGACY_IMAGE_METRICS]
    return target.count_existing([m for m in legacy if m not in emitted], window)
