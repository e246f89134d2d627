"""Batch-size × concurrency sweep on seeded synthetic data (until the CLI's `bench batch-sizes`).

    python benchmarks/sweep.py [--scale 1] [--packages a,b] [--batch-sizes 10000,100000]
                               [--concurrency 1,2,4] [--dir DIR] [--png FILE] [--md FILE]

Starts (or reuses, with --dir) an embedded Postgres seeded like benchmarks/run.py, then calls
``metric_backfill_lab.bench.sweep``: every setting is a Runner run in a child process with a fresh
chdb target. Writes a markdown table (default benchmarks/SWEEP.md), its JSON and the chart.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    from metric_backfill import registry
    from metric_backfill_lab import seeded
    from metric_backfill_lab.bench import RSS_LIMIT_MB, sweep, sweep_table
    from metric_backfill_lab.measure.common import load, log
    from metric_backfill_lab.measure.machine import machine_info
    from metric_backfill_lab.measure.setup import SEED

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=None,
                    help="data scale (default: the scale --dir was seeded at, else 1)")
    ap.add_argument("--packages", default=None, help="default: every Postgres package")
    ap.add_argument("--batch-sizes", default="10000,30000,100000,300000")
    ap.add_argument("--concurrency", default="1,2,4")
    ap.add_argument("--repeat", type=int, default=1, help="runs per setting (median kept)")
    ap.add_argument("--dir", default=None)
    ap.add_argument("--png", type=Path, default=HERE / "sweep.png")
    ap.add_argument("--md", type=Path, default=HERE / "SWEEP.md")
    args = ap.parse_args(argv)
    packages = args.packages.split(",") if args.packages else [
        p.name for p in registry.all_packages().values() if p.source == "postgres"]
    load_start = load()
    with seeded.environment(Path(args.dir) if args.dir else None) as work:
        work.chmod(0o755)
        if args.scale is None:
            args.scale = (seeded.recorded(work) or {}).get("scale", 1.0)
        data = seeded.seed_apart(work, scale=args.scale, seed=SEED)
        rows = sweep(data.pg, packages, [int(x) for x in args.batch_sizes.split(",")],
                     [int(x) for x in args.concurrency.split(",")], work / "runs", args.png,
                     repeat=args.repeat)
    m = machine_info()
    best = next((r for r in rows if r["recommended"]), None)
    doc = {"machine": m, "scale": args.scale, "packages": packages, "rows": rows,
           "load_avg": {"start": load_start, "end": load()}, "recommended": best}
    args.md.with_suffix(".json").write_text(json.dumps(doc, indent=1))
    text = [
        f"# Batch-size sweep (scale {args.scale}, {len(packages)} Postgres packages)", "",
        f"`python benchmarks/sweep.py {' '.join(sys.argv[1:])}` — {m['cpu']}, {m['cores']} cores, "
        f"{m['ram_gib']} GiB; load average {load_start} at start, {doc['load_avg']['end']} at end "
        "(shared machine). Each row is one Runner run (wall time of `run()`, all packages) in a "
        "child process with a fresh chdb target; peak RSS of that child"
        + (f"; median of {args.repeat} runs per setting." if args.repeat > 1 else "; one run per setting."), "",
        "```", sweep_table(rows), "```", "",
        (f"Recommended (fastest with peak RSS < {RSS_LIMIT_MB:,.0f} MB): `--batch-size {best['batch_size']} "
         f"--concurrency {best['concurrency']}`." if best else "No setting stayed under the RSS limit."),
        "", f"![sweep]({args.png.name})" if args.png.exists() else "", "",
    ]
    args.md.write_text("\n".join(text))
    log(f"wrote {args.md}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
