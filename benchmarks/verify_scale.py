"""verify at growing scale: peak RSS of the whole process (chdb included) and seconds.

    python benchmarks/verify_scale.py --scales 2,10,30 --dir /tmp/vbench --before a0f728f

The measurement is ``metric_backfill_lab.measure.verify_scale`` (see its docstring); this file
is its command line. Prints one JSON line per scale and the markdown table for RESULTS.md, and
writes VERIFY.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    from metric_backfill_lab.measure.verify_scale import VerifyScaleJob, markdown, verify_scale

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default="2,10,30")
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "vbench")
    ap.add_argument("--before", help="also measure this revision's verify on the same data")
    ap.add_argument("--out", type=Path, default=HERE / "VERIFY.json")
    args = ap.parse_args(argv)
    doc = verify_scale(VerifyScaleJob(scales=[float(s) for s in args.scales.split(",")],
                                      dir=args.dir.resolve(), before=args.before),
                       echo=lambda line: print(line, flush=True))
    print(markdown(doc["rows"]))
    args.out.write_text(json.dumps(doc, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
