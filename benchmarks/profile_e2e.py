"""Where the end-to-end time goes: one package, stage timers and a py-spy profile.

    python benchmarks/profile_e2e.py [--package image_reaction] [--scale 1] [--dir DIR]
                                     [--concurrency 1,2] [--no-py-spy] [--md FILE]

The measurement is ``metric_backfill_lab.measure.profile`` (see its docstring); this file is its
command line. Writes a markdown report (default benchmarks/PROFILE.md) and its JSON beside it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    from metric_backfill_lab.measure.common import log
    from metric_backfill_lab.measure.profile import ProfileJob, profile, render

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--package", default="image_reaction", help="a package, or several: a,b")
    ap.add_argument("--scale", type=float, default=None,
                    help="data scale (default: the scale --dir was seeded at, else 1)")
    ap.add_argument("--dir", type=Path, default=None, help="work directory (kept, reused when seeded)")
    ap.add_argument("--concurrency", default="1,2")
    ap.add_argument("--batch-size", type=int, default=None)
    ap.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    ap.add_argument("--no-py-spy", action="store_true")
    ap.add_argument("--md", type=Path, default=HERE / "PROFILE.md")
    ap.add_argument("--raw", type=Path, default=None,
                    help="also keep py-spy's raw stacks here (for flamegraph.pl / speedscope)")
    args = ap.parse_args(argv)
    out = profile(ProfileJob(
        packages=args.package.split(","), scale=args.scale, dir=args.dir,
        concurrency=[int(c) for c in args.concurrency.split(",")], batch_size=args.batch_size,
        rate=args.rate, py_spy=not args.no_py_spy, raw=args.raw))
    args.md.with_suffix(".json").write_text(json.dumps(out, indent=1, default=str))
    args.md.write_text(render(out))
    log(f"wrote {args.md}")
    print(render(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
