"""verify at growing scale: seconds and peak RSS of the whole ``metric-backfill verify`` process
(chdb included), optionally beside another revision's verify on the same data.

For each scale: a seeded environment ``DIR/scale-N`` (``seeded.seed_apart``), every package
backfilled into its chdb path once (``run --resume``: a finished plan is a no-op, an
interrupted one continues), then ``metric-backfill verify`` as a child process (``bench.cli``:
wall clock from start to exit, ``VmHWM`` polled every 50 ms). ``before`` runs the verify of a
revision checked out into a worktree, on the same data in the same run.

Invariant: both revisions verify the same target and the same seeded database, one after the
other on the same machine, so their difference is the code's, not the data's or the load's.
"""

from __future__ import annotations

import json
import os
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import bench, seeded
from .machine import ROOT, checkout, engine_revision


@dataclass(frozen=True)
class VerifyScaleJob:
    scales: list[float]
    dir: Path
    before: str | None = None


def prepare(dir_: Path, scale: float) -> seeded.Seeded:
    """Seeded Postgres + chdb sources, every package backfilled once into the chdb path."""
    db = seeded.seed_apart(dir_, scale=scale)
    bench.cli(["run", "--resume", "--pg", db.pg, "--target", db.ch, "--state", str(dir_ / "state"),
               "--no-progress"], dir_ / "backfill")
    return db


def measure(db: seeded.Seeded, workdir: Path, source: Path = ROOT) -> dict[str, Any]:
    """``metric-backfill verify`` of every metric of the checkout ``source`` on ``db``."""
    res = bench.cli(["verify", "--pg", db.pg, "--target", db.ch], workdir, source=source)
    doc = res["report"]
    return {"seconds": round(res["process_seconds"], 1), "peak_rss_mb": round(res["peak_rss_mb"] or 0),
            "ok": doc["ok"], "metrics": len(doc["metrics"]), "months": len(doc.get("months", []))}


def markdown(rows: list[dict]) -> str:
    """The table for RESULTS.md: one line per scale, before and after side by side."""
    out = ["| scale | source rows | seconds | peak RSS MB | before: seconds | before: peak RSS MB |",
           "|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        b = r.get("before", {})
        out.append(f"| {r['scale']:g} | {r['source_rows']:,} | {r['after']['seconds']} | "
                   f"{r['after']['peak_rss_mb']:,} | {b.get('seconds', '')} | {b.get('peak_rss_mb', '')} |")
    return "\n".join(out)


def verify_scale(job: VerifyScaleJob, echo: Any = print) -> dict[str, Any]:
    """Every scale in turn; VERIFY.json's document (each row echoed as it is measured)."""
    before = checkout(job.before, job.dir / f"rev-{job.before}") if job.before else None
    rows = []
    for scale in job.scales:
        dir_ = job.dir / f"scale-{scale:g}"
        with seeded.environment(dir_):
            db = prepare(dir_, scale)
            row = {"scale": scale, "source_rows": sum(db.rows.values()),
                   "after": measure(db, dir_ / "verify-after")}
            if before:
                row["before"] = measure(db, dir_ / "verify-before", before)
        rows.append(row)
        echo(json.dumps(row))
    return {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "revision": engine_revision(), "before": job.before,
            "machine": f"{os.cpu_count()} cores, {platform.machine()}", "rows": rows}
