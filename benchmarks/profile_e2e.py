"""Where the end-to-end time goes: one package, stage timers and a py-spy profile.

    python benchmarks/profile_e2e.py [--package image_reaction] [--scale 1] [--dir DIR]
                                     [--concurrency 1,2] [--no-py-spy] [--md FILE]

Seeds (or reuses, with --dir) an embedded Postgres + chdb like benchmarks/run.py, then runs the
Runner on the package in a child process (fresh chdb target) once per concurrency with stage
timers (wall seconds spent in read / explode / insert, summed over batches), and once more at
concurrency 1 under ``py-spy record --threads --idle --native``. The samples are attributed to
phases by their Python frames (imports, preflight, plan probes, read, transform, to-Arrow,
insert, ledger) and, inside each phase, to the code that was running at the leaf: the Python
interpreter (Python overhead), ConnectorX, Polars, pyarrow, chdb, libpq/psycopg, or waiting.
Writes a markdown report (default benchmarks/PROFILE.md) and its JSON beside it.
"""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import SEED, load, log, machine_info, md_table, seed_db, seeded_scale  # noqa: E402

HERE = Path(__file__).resolve().parent

# phase of a sample: inside Runner.process the batch stages, elsewhere the run's phases; the
# first listed marker found anywhere in the stack wins.
PHASE_MARKERS = [
    ("imports", ("_find_and_load",)),
    ("preflight", ("Runner.preflight",)),
    ("guard (existing events)", ("Runner.guard_existing",)),
    ("plan (key-range probes)", ("Runner.make_plan", "plan_package")),
    ("lookups", ("Runner._context", "load_lookups")),
]
BATCH_MARKERS = [
    ("insert", ("Target.insert", "insert_arrow", "ClickHouseSink.write")),
    ("to-Arrow cast", ("to_arrow", "combine_chunks", "Table.cast", "cast (pyarrow")),
    ("transform (explode)", ("explode", "normalize_times", "_check_int32")),
    ("read", ("PostgresSource.fetch", "ClickHouseSource.fetch", "read_sql")),
]
LEAF_LIBS = [
    ("ConnectorX", ("connectorx",)),
    ("Polars", ("polars",)),
    ("pyarrow", ("libarrow", "pyarrow", "_compute", "lib.cpython")),
    ("chdb", ("chdb", "libchdb", "_chdb")),
    ("libpq / psycopg", ("libpq", "psycopg")),
    ("kernel / libc (I/O, waits)", ("libc.so", "libpthread", "ld-linux", "vdso")),
    ("Python interpreter", ("libpython", "python3")),
]


def classify(frames: list[str]) -> tuple[str, str, str]:
    """(thread, phase, leaf) of one sampled stack (root first)."""
    thread = frames[0]
    body = frames[1:]
    joined = ";".join(body)
    phase = None
    in_batch = "Runner.process" in joined
    for name, marks in BATCH_MARKERS if in_batch else PHASE_MARKERS:
        if any(m in joined for m in marks):
            phase = f"batch: {name}" if in_batch else name
            break
    if phase is None:
        if in_batch:
            phase = "batch: other (sinks, ledger, retry wrappers)"
        elif "gc_collect_main" in joined and ".py:" not in joined:
            phase = "interpreter exit (garbage collection)"
        elif "_execute" in joined and ("wait (" in joined or "Condition.wait" in joined):
            phase = "main: waiting for batch threads"
        elif "_execute" in joined:
            phase = "main: scheduling, ledger, report"
        elif "_worker" in joined and ("SimpleQueue" in joined or "_worker (concurrent" in joined):
            phase = "pool thread idle"
        else:
            phase = "other (start-up, shutdown)"
    leaf = body[-1] if body else ""
    kind = "Python code" if ".py:" in leaf or leaf.endswith(".py)") else None
    if kind is None:
        for name, marks in LEAF_LIBS:
            if any(m in leaf for m in marks):
                kind = name
                break
    return thread, phase, kind or "other native"


def aggregate(raw: Path, rate: int) -> dict[str, Any]:
    per_thread_phase: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    per_phase_leaf: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for line in raw.read_text().splitlines():
        if not line.strip():
            continue
        stack, n = line.rsplit(" ", 1)
        frames = stack.split(";")
        thread, phase, leaf = classify(frames)
        tname = "main thread" if "MainThread" in thread else "worker threads (batches, plan probes)"
        per_thread_phase[tname][phase] += int(n)
        per_phase_leaf[phase][leaf] += int(n)
    return {
        "rate": rate,
        "threads": {t: {p: n / rate for p, n in c.most_common()} for t, c in per_thread_phase.items()},
        "leaves": {p: {k: n / rate for k, n in c.most_common()} for p, c in per_phase_leaf.items()},
    }


def main(argv: list[str] | None = None) -> int:
    from metric_backfill_lab import bench, pgserver

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--package", default="image_reaction", help="a package, or several: a,b")
    ap.add_argument("--scale", type=float, default=None,
                    help="data scale (default: the scale --dir was seeded at, else 1)")
    ap.add_argument("--dir", default=None, help="work directory (kept, reused when seeded)")
    ap.add_argument("--concurrency", default="1,2")
    ap.add_argument("--batch-size", type=int, default=None)
    ap.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    ap.add_argument("--no-py-spy", action="store_true")
    ap.add_argument("--md", type=Path, default=HERE / "PROFILE.md")
    ap.add_argument("--raw", type=Path, default=None,
                    help="also keep py-spy's raw stacks here (for flamegraph.pl / speedscope)")
    args = ap.parse_args(argv)

    own = args.dir is None
    work = Path(tempfile.mkdtemp(prefix="metric-backfill-prof-")) if own else Path(args.dir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    work.chmod(0o755)
    if args.scale is None:
        args.scale = seeded_scale(work) or 1.0
    out: dict[str, Any] = {"machine": machine_info(), "package": args.package, "scale": args.scale,
                           "load_avg_start": load(), "runs": {}}
    try:
        root_dsn, _ = pgserver.start(work)
        data = seed_db(work, root_dsn, "civitai", args.scale, SEED)
        dsn = data["dsn"]
        for conc in [int(c) for c in args.concurrency.split(",")]:
            log(f"{args.package}: stage timers at concurrency {conc}")
            out["runs"][str(conc)] = bench.e2e(dsn, args.package.split(","), work / "runs" / f"c{conc}",
                                               concurrency=conc, batch_size=args.batch_size,
                                               stage_timers=True)
        spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        if not args.no_py_spy and Path(spy).exists():
            raw = work / "py-spy.txt"
            log(f"{args.package}: py-spy at concurrency 1")
            prefix = [spy, "record", "-r", str(args.rate), "--threads", "--idle", "--native",
                      "-f", "raw", "-o", str(raw), "--"]
            out["py_spy_run"] = bench.e2e(dsn, args.package.split(","), work / "runs" / "spy", concurrency=1,
                                          batch_size=args.batch_size, prefix=prefix)
            out["py_spy"] = aggregate(raw, args.rate)
            if args.raw:
                shutil.copy(raw, args.raw)
    finally:
        pgserver.stop(work)
        if own:
            if (work / "pg").is_symlink():
                shutil.rmtree((work / "pg").resolve(), ignore_errors=True)
            shutil.rmtree(work, ignore_errors=True)
    out["load_avg_end"] = load()
    args.md.with_suffix(".json").write_text(json.dumps(out, indent=1, default=str))
    args.md.write_text(render(out))
    log(f"wrote {args.md}")
    print(render(out))
    return 0


def render(out: dict[str, Any]) -> str:
    m = out["machine"]
    lines = [f"# Profile: {out['package']} end to end, scale {out['scale']}", "",
             f"{m['cpu']}, {m['cores']} cores; load average at start {out['load_avg_start']}, "
             f"at end {out['load_avg_end']} (other jobs share the machine).", "",
             "## Stage timers (wall seconds, summed over batches)", ""]
    rows = []
    for conc, r in out["runs"].items():
        st = {k: v["seconds"] for k, v in (r.get("stages") or {}).items()}
        pk = r.get("packages", {}).values()
        read = sum(p.get("read_seconds", 0) for p in pk)
        transform = sum(p.get("transform_seconds", 0) for p in pk)
        write = sum(p.get("write_seconds", 0) for p in pk)
        batch = st.get("batch total (process)", 0.0)
        startup = (r.get("child_process_seconds") or 0) - r["seconds"]
        rows.append([conc, r["rows"], r["events"], f"{startup:.2f}", f"{r['seconds']:.2f}",
                     f"{st.get('preflight', 0):.2f}", f"{st.get('plan (key-range probes)', 0):.2f}",
                     f"{st.get('lookups', 0):.2f}", f"{r.get('batch_phase_seconds') or 0:.2f}",
                     f"{read:.2f}", f"{transform:.2f}", f"{st.get('transform (explode)', 0):.2f}",
                     f"{write:.2f}", f"{batch - read - transform - write:.2f}",
                     f"{r['events_per_s']:,.0f}", f"{r.get('cpu_seconds', 0):.1f}", f"{r['peak_rss_mb']:.0f}"])
    lines.append(md_table(["concurrency", "rows", "events", "process start + exit s", "run() wall s",
                           "preflight s", "plan s", "lookups s", "batch phase wall s", "read s",
                           "transform s", "of which explode s", "write s", "other in batch s",
                           "events/s", "client CPU s", "peak RSS MB"], rows))
    lines += ["", "read / transform / write are the engine's own per-batch timers (summed over batches; "
              "transform includes the cast to Arrow, write is the chdb insert incl. waiting for the chdb "
              "lock); at concurrency > 1 they overlap, so their sum exceeds the batch phase's wall time. "
              "'process start + exit' is the child's lifetime outside `run()` (imports, chdb start; the "
              "benchmark child skips the interpreter's final garbage collection). Client CPU covers "
              "every thread of the process (ConnectorX, Polars, chdb), not the Postgres server.", ""]
    spy = out.get("py_spy")
    if spy:
        lines += ["## py-spy (concurrency 1; seconds of samples)", ""]
        for thread, phases in spy["threads"].items():
            lines += [f"**{thread}**", ""]
            lines.append(md_table(["phase", "seconds"], [[p, f"{s:.2f}"] for p, s in phases.items()]))
            lines.append("")
        lines += ["**What was running at the leaf, per phase** (Python code / interpreter = Python overhead)", ""]
        rows = []
        for phase, leaves in spy["leaves"].items():
            total = sum(leaves.values())
            rows.append([phase, f"{total:.2f}", "; ".join(f"{k} {v:.2f}" for k, v in leaves.items())])
        lines.append(md_table(["phase", "seconds", "leaf breakdown"], rows))
        lines.append("")
    return "\n".join(lines)



if __name__ == "__main__":
    raise SystemExit(main())
