"""Threads vs Dask (2 local worker processes) on the same seeded data: wall clock, events/s,
peak RSS of the coordinator and of each worker.

    python benchmarks/dask_overhead.py --dir /tmp/dbench --scale 10 --repeat 4 --write

The measurement is ``metric_backfill_lab.measure.dask_overhead`` (see its docstring); this file
is its command line. Prints the section for RESULTS.md; ``--write`` puts it there (below the
keep-marker) and the raw figures in DASK.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    from metric_backfill_lab.measure import dask_overhead

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "dbench")
    ap.add_argument("--scale", type=float, default=10.0)
    ap.add_argument("--repeat", type=int, default=4, help="runs of each; the first is kept apart")
    ap.add_argument("--write", action="store_true", help="update RESULTS.md and DASK.json")
    args = ap.parse_args(argv)
    doc = dask_overhead.measure(args.dir.resolve(), args.scale, args.repeat,
                                log=lambda line: print(line, flush=True))
    text = dask_overhead.section(doc, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    print(text)
    if args.write:
        (HERE / "DASK.json").write_text(json.dumps(doc, indent=1))
        dask_overhead.write_section(HERE / "RESULTS.md", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
