"""End to end over all packages: the scale curve, verify after it, and the concurrency curve.

- scale curve: the Runner over all Postgres packages (``bench.e2e``: one child, peak RSS of
  that child) at every curve scale, smallest first, then the ClickHouse packages likewise;
- verify: ``metric-backfill verify`` (``bench.cli``) on the target the main-scale run left;
- concurrency curve: all Postgres packages at the main scale with every ``--concurrency-curve``
  value; the run at ``--concurrency`` is the scale curve's, not run twice.

Invariant: every run starts from a fresh chdb target in a child of its own, so no run inherits
another's data, cache or memory; only the main-scale Postgres run keeps its target, for verify,
which removes it afterwards.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from .. import bench
from .common import load, log
from .setup import Setup

RUN_KEYS = ("rows", "events", "seconds", "batch_phase_seconds", "events_per_s", "peak_rss_mb",
            "cpu_seconds", "concurrency")


def run_curves(result: dict[str, Any], s: Setup) -> None:
    """The scale curve, verify and the concurrency curve, into ``result``."""
    e2e = result.setdefault("e2e", {})
    e2e["pg"], e2e["ch"] = scale_curve(s)
    result["load_avg"]["after_scale_curve"] = load()
    if not s.pg_names:
        return
    result["verify"] = verify_run(s.main.pg, s.runs / f"pg_{s.key}", s.pg_names, s.key)
    result["load_avg"]["after_verify"] = load()
    result["concurrency_runs"] = concurrency_curve(s, e2e["pg"].get(s.key))
    result["load_avg"]["after_concurrency"] = load()


def scale_curve(s: Setup) -> tuple[dict[str, Any], dict[str, Any]]:
    """All Postgres packages (then the ClickHouse ones) end to end at every scale, smallest
    first; the main-scale run keeps its target for verify."""
    pg_runs: dict[str, Any] = {}
    ch_runs: dict[str, Any] = {}
    for key, db in s.dbs.items():
        if s.pg_names:
            log(f"end to end: Postgres packages at scale {key}")
            pg_runs[key] = bench.e2e(db.pg, s.pg_names, s.runs / f"pg_{key}",
                                     keep=key == s.key, **s.common)
        if s.ch_names:
            log(f"end to end: ClickHouse packages at scale {key}")
            ch_runs[key] = bench.e2e(db.pg, s.ch_names, s.runs / f"ch_{key}", ch=db.ch, **s.common)
    return pg_runs, ch_runs


def verify_run(dsn: str, run_dir: Path, names: list[str], key: str) -> dict[str, Any]:
    """``metric-backfill verify`` on the target an end-to-end run left in ``run_dir``."""
    log(f"verify: `metric-backfill verify` on the target of the scale-{key} end-to-end run")
    try:
        res = bench.cli(["verify", "--pg", dsn, "--target", f"chdb://{run_dir / 'ch'}",
                         "--state", str(run_dir / "state"), "--packages", ",".join(names),
                         "--no-progress"], run_dir / "verify", ok_codes=(0, 1, 2))
    finally:
        shutil.rmtree(run_dir / "ch", ignore_errors=True)
    rep = res["report"] or {}
    out = {"ok": rep.get("ok", False), "mismatches": rep.get("mismatches"),
           "seconds": res["process_seconds"], "exit": res["exit"], "peak_rss_mb": res["peak_rss_mb"],
           "metrics": len(rep.get("metrics", [])), "scale": key}
    if res["exit"] not in (0, 1) or "error" in rep:
        out["error"] = rep.get("error") or res.get("log_tail")
    return out


def concurrency_curve(s: Setup, main_run: dict[str, Any] | None) -> dict[str, Any]:
    """All Postgres packages at the main scale with each ``--concurrency-curve`` value (the
    scale-curve run stands for ``--concurrency``)."""
    out: dict[str, Any] = {}
    for c in s.concurrency_curve:
        reused = c == s.args.concurrency and main_run is not None
        if reused:
            run = main_run
        else:
            log(f"end to end: Postgres packages at scale {s.key}, concurrency {c}")
            run = bench.e2e(s.main.pg, s.pg_names, s.runs / f"conc_{c}",
                            batch_size=s.args.batch_size, concurrency=c)
        out[str(c)] = {**{k: run.get(k) for k in RUN_KEYS}, "from_scale_curve": reused}
    return out
