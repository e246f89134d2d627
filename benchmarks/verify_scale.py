"""verify at growing scale: peak RSS of the whole process (chdb included) and seconds.

For each scale: seed (or reuse) ``--dir/scale-N`` with ``db up``, backfill every package into
its chdb once, then time ``metric-backfill verify`` in a child process that reports its own
``VmHWM`` at exit. ``--before REV`` also measures the verify of another revision on the same
data (checked out into a temporary worktree), so before and after come from one run.

    python benchmarks/verify_scale.py --scales 2,10,30 --dir /tmp/vbench --before a0f728f
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "metric_backfill.cli"]
# the child prints its high-water mark when verify exits (atexit runs on typer's SystemExit)
MEASURED = (
    "import atexit, sys; from metric_backfill_lab.bench import peak_rss_mb; "
    "atexit.register(lambda: print(f'PEAK_RSS_MB {peak_rss_mb():.0f}', file=sys.stderr)); "
    "sys.argv = ['metric-backfill', *sys.argv[1:]]; from metric_backfill.cli import main; main()"
)


def _env(src: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": f"{src / 'src'}:{src}", "TZ": "UTC", "RUST_LOG": "off"}


def prepare(dir_: Path, scale: float) -> str:
    """Seeded Postgres + chdb sources, every package backfilled once; returns the DSN."""
    up = subprocess.run([*CLI, "db", "up", "--dir", str(dir_), "--scale", str(scale)],
                        capture_output=True, text=True, env=_env(ROOT), check=True)
    dsn = up.stdout.strip()
    done = dir_ / "backfilled"
    if not done.exists():
        t0 = time.monotonic()
        subprocess.run([*CLI, "run", "--pg", dsn, "--target", f"chdb://{dir_ / 'ch'}",
                        "--state", str(dir_ / "state"), "--no-progress"],
                       env=_env(ROOT), check=True, capture_output=True, text=True)
        done.write_text(f"{time.monotonic() - t0:.1f}\n")
    return dsn


def measure(src: Path, dsn: str, dir_: Path) -> dict:
    out = dir_ / "verify.json"
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-c", MEASURED, "verify", "--pg", dsn,
                        "--target", f"chdb://{dir_ / 'ch'}", "--json", str(out)],
                       capture_output=True, text=True, env=_env(src), cwd=src)  # -c puts the cwd first on sys.path
    seconds = time.monotonic() - t0
    peak = [line for line in r.stderr.splitlines() if line.startswith("PEAK_RSS_MB")]
    if r.returncode != 0 or not peak:
        raise SystemExit(f"verify failed ({r.returncode}): {r.stderr[-2000:]}")
    doc = json.loads(out.read_text())
    return {"seconds": round(seconds, 1), "peak_rss_mb": int(peak[-1].split()[1]),
            "ok": doc["ok"], "metrics": len(doc["metrics"]), "months": len(doc.get("months", []))}


def source_rows(dir_: Path) -> int:
    return sum(json.loads((dir_ / "seeded.json").read_text())["rows"].values())


def markdown(rows: list[dict]) -> str:
    """The table for RESULTS.md: one line per scale, before and after side by side."""
    out = ["| scale | source rows | seconds | peak RSS MB | before: seconds | before: peak RSS MB |",
           "|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        b = r.get("before", {})
        out.append(f"| {r['scale']:g} | {r['source_rows']:,} | {r['after']['seconds']} | "
                   f"{r['after']['peak_rss_mb']:,} | {b.get('seconds', '')} | {b.get('peak_rss_mb', '')} |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default="2,10,30")
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "vbench")
    ap.add_argument("--before", help="also measure this revision's verify on the same data")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "VERIFY.json")
    args = ap.parse_args()
    before = None
    if args.before:
        before = args.dir / f"rev-{args.before}"
        if not before.exists():
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(before),
                            args.before], check=True, capture_output=True)
    rows = []
    for scale in (float(s) for s in args.scales.split(",")):
        dir_ = args.dir / f"scale-{scale:g}"
        dsn = prepare(dir_, scale)
        try:
            row = {"scale": scale, "source_rows": source_rows(dir_), "after": measure(ROOT, dsn, dir_)}
            if before:
                row["before"] = measure(before, dsn, dir_)
        finally:
            subprocess.run([*CLI, "db", "down", "--dir", str(dir_)], env=_env(ROOT),
                           capture_output=True)
        rows.append(row)
        print(json.dumps(row), flush=True)
    print(markdown(rows))
    rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True).stdout.strip()
    args.out.write_text(json.dumps({
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "revision": rev,
        "before": args.before, "machine": f"{os.cpu_count()} cores, {platform.machine()}",
        "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
