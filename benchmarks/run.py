"""The metric-backfill benchmark: every stage measured on the same data, in the same run.

    python benchmarks/run.py [--quick] [--scale S] [--json FILE] [--md FILE] [--packages a,b]
                             [--dir DIR] [--curve-scales 3,10,30] [--concurrency-curve 1,2,4]
                             [--repeat 3] [--solo-repeat 1]

The stages are ``metric_backfill_lab.measure`` (see its docstring and benchmarks/README.md);
this file is their command line. It writes ``results.json`` and ``RESULTS.md`` (by default
here), keeping every section of RESULTS.md below its marker line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TZ", "UTC")
os.environ.setdefault("RUST_LOG", "off")

HERE = Path(__file__).resolve().parent


def parser() -> argparse.ArgumentParser:
    from metric_backfill_lab.measure import setup as d

    ap = argparse.ArgumentParser(description="metric-backfill benchmark (see benchmarks/RESULTS.md)")
    ap.add_argument("--quick", action="store_true", help=f"scale {d.QUICK_SCALE} (≈ 1 M source rows)")
    ap.add_argument("--scale", type=float, default=None,
                    help=f"synthetic data scale (default {d.DEFAULT_SCALE}, or {d.QUICK_SCALE} with --quick)")
    ap.add_argument("--json", type=Path, default=HERE / "results.json", help="results file")
    ap.add_argument("--md", type=Path, default=None, help="report (default: RESULTS.md beside --json)")
    ap.add_argument("--packages", default=None, help="comma-separated packages (default: all)")
    ap.add_argument("--dir", default=None, help="work directory (kept; a seeded one is reused)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary work directory")
    ap.add_argument("--batch-size", type=int, default=None, help="source rows per batch (default: per package)")
    ap.add_argument("--concurrency", type=int, default=2, help="batches in flight end to end (default 2)")
    ap.add_argument("--rowwise-rows", type=int, default=d.ROWWISE_ROWS, help="row-wise baseline sample size")
    ap.add_argument("--curve-scales", default=None,
                    help="scales of the end-to-end scale curve, e.g. 3,10,30 (default: "
                         + ",".join(f"{x:g}" for x in d.CURVE_SCALES)
                         + " at the default scale, else a quarter of --scale and --scale)")
    ap.add_argument("--concurrency-curve", default=None,
                    help="--concurrency values of the concurrency curve (default "
                         + ",".join(map(str, d.CONCURRENCY_CURVE)) + ", or "
                         + ",".join(map(str, d.QUICK_CONCURRENCY_CURVE)) + " with --quick)")
    ap.add_argument("--repeat", type=int, default=d.REPEAT,
                    help=f"runs of the headline end to end and of native; the median counts (default {d.REPEAT})")
    ap.add_argument("--solo-repeat", type=int, default=1,
                    help="runs of each native package alone through the CLI (default 1)")
    return ap


def main(argv: list[str] | None = None) -> int:
    from metric_backfill.errors import UserError
    from metric_backfill_lab.measure.common import log
    from metric_backfill_lab.measure.harness import benchmark
    from metric_backfill_lab.measure.markdown import write_report
    from metric_backfill_lab.measure.render import render

    ap = parser()
    args = ap.parse_args(sys.argv[1:] if argv is None else argv)
    if args.repeat < 1 or args.solo_repeat < 1:
        ap.error("--repeat and --solo-repeat must be at least 1")
    try:
        result = benchmark(args)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1, default=str))
    md = args.md or args.json.with_name("RESULTS.md")
    text = render(result)
    write_report(md, text)
    log(f"wrote {args.json} and {md}")
    print(text.split("## Per Postgres package")[0])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
