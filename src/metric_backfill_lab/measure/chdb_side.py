"""The chdb side, in one child process (kind ``misc``): the insert alone, the ClickHouse
packages stage by stage, and the row-wise baseline.

- insert: ``Target.insert`` (insert_arrow with a dedup token, as the engine) of the event
  tables the transform stage wrote, one insert per batch, into a fresh chdb table;
- ClickHouse packages: read (``ClickHouseSource.fetch``), transform (``explode`` +
  ``event_table``) and insert, per package, on the engine's batch queries;
- row-wise: see ``rowwise``.

Invariant: the child opens one chdb path, a copy of the seeded one made for it (chdb allows one
path per process and one process per path), so the seeded data is never written to.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .common import now, window
from .rowwise import measure_rowwise
from .transform import read_tables


def child_misc(spec: dict[str, Any]) -> dict[str, Any]:
    """Insert alone, the ClickHouse packages' read/transform/insert and row-wise."""
    from metric_backfill.clickhouse import ClickHouse

    ch = ClickHouse(f"chdb://{spec['ch']}")
    out: dict[str, Any] = {"chdb_version": ch.query_rows("SELECT version()")[0][0]}
    out["insert"] = measure_insert(ch, Path(spec["events_dir"]), spec["pg_packages"])
    out["clickhouse_packages"] = measure_ch_packages(ch, spec["pg"], spec["ch_packages"], spec["batch_size"])
    out["rowwise"] = {
        name: measure_rowwise(ch, spec["pg"], name, spec["rowwise_rows"]) for name in spec["rowwise"]
    }
    return out


def measure_insert(ch: Any, events_dir: Path, names: list[str]) -> dict[str, Any]:
    """insert_arrow of the pre-built event tables, one insert per batch with a token (as the engine)."""
    from metric_backfill.target import Target

    target = Target(ch, "bench_insert")
    target.ensure()
    out: dict[str, Any] = {}
    for name in names:
        tables = read_tables(events_dir / name)
        events = sum(t.num_rows for t in tables)
        t0 = now()
        for i, t in enumerate(tables):
            target.insert(t, f"bench-insert:{name}:{i}")
        out[name] = {"events": events, "seconds": now() - t0, "inserts": len(tables)}
        del tables
    out["_count"] = ch.query_rows("SELECT count() FROM bench_insert")[0][0]
    return out


def measure_ch_packages(ch: Any, pg: str, names: list[str], batch_size: int | None) -> dict[str, Any]:
    """The ClickHouse packages: reader (query_arrow → Polars), transform, insert, per package."""
    from metric_backfill import registry
    from metric_backfill.defaults import default_params
    from metric_backfill.events import event_table, explode
    from metric_backfill.package import Context
    from metric_backfill.plan import plan_package
    from metric_backfill.sources import ClickHouseSource, PostgresSource, load_lookups
    from metric_backfill.target import Target

    w = window()
    src = ClickHouseSource(ch)
    target = Target(ch, "bench_insert_ch")
    target.ensure()
    out: dict[str, Any] = {}
    for name in names:
        pkg = registry.all_packages()[name]
        plan = plan_package(pkg, src, w, batch_size or pkg.default_batch_size)
        sqls = [b.sql(pkg, src, w) for b in plan.batches]
        t0 = now()
        frames = [src.fetch(sql) for sql in sqls]
        t_read = now() - t0
        ctx = Context(lookups=load_lookups([pkg], PostgresSource(pg)), params=default_params())
        t0 = now()
        tables = [event_table(pkg, explode(pkg, f, w, ctx).events) for f in frames]
        t_transform = now() - t0
        t0 = now()
        for i, t in enumerate(tables):
            target.insert(t, f"bench-ch:{name}:{i}")
        out[name] = {
            "rows": sum(f.height for f in frames), "events": sum(t.num_rows for t in tables),
            "batches": len(sqls), "reader_seconds": t_read, "transform_seconds": t_transform,
            "insert_seconds": now() - t0,
        }
    return out
