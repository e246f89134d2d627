"""The transform alone: ``explode`` and ``event_table`` (the engine's cast to the event Arrow
schema), over batches read beforehand, timed apart.

Invariant: the two steps are the engine's own functions, called as ``Runner.process`` calls
them, never a copy: a change to the transform or the cast is measured as it is. The event
tables are written to disk (one Arrow IPC file per batch) so the insert stage, in another
process, inserts exactly these tables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .common import now, window


def measure_transform(pkg: Any, src: Any, frames: list[Any], pdir: Path) -> dict[str, Any]:
    """explode + cast to Arrow over the pre-read batches; the event tables go to ``pdir``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from metric_backfill.defaults import default_params
    from metric_backfill.events import event_table, explode
    from metric_backfill.package import Context
    from metric_backfill.sources import load_lookups

    w = window()
    ctx = Context(lookups=load_lookups([pkg], src), params=default_params())
    tables = []
    t_explode = t_arrow = 0.0
    for rows in frames:
        t0 = now()
        ex = explode(pkg, rows, w, ctx)
        t1 = now()
        tables.append(event_table(pkg, ex.events))
        t_arrow += now() - t1
        t_explode += t1 - t0
    write_tables(tables, pdir)
    return {
        "explode_seconds": t_explode, "to_arrow_seconds": t_arrow,
        "transform_seconds": t_explode + t_arrow, "events": sum(t.num_rows for t in tables),
        "metric_value_sum": int(sum(
            pc.sum(t.column("metricValue").cast(pa.int64())).as_py() or 0 for t in tables
        )),
    }


def write_tables(tables: list[Any], pdir: Path) -> None:
    import pyarrow as pa

    pdir.mkdir(parents=True, exist_ok=True)
    for i, t in enumerate(tables):
        with pa.OSFile(str(pdir / f"{i:06d}.arrow"), "wb") as f, pa.ipc.new_file(f, t.schema) as wr:
            wr.write_table(t)


def read_tables(pdir: Path) -> list[Any]:
    """The tables ``write_tables`` wrote, each as one chunk (as the engine inserts them)."""
    import pyarrow as pa

    tables = [pa.ipc.open_file(pa.memory_map(str(f))).read_all() for f in sorted(pdir.glob("*.arrow"))]
    return [pa.Table.from_batches(t.combine_chunks().to_batches(), schema=t.schema) for t in tables]
