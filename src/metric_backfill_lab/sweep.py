"""The batch-size sweep behind ``metric-backfill bench batch-sizes``: the Runner for every
(batch size, concurrency), each run in a child process with a fresh chdb target, and the
recommendation::

    rows = sweep(pg_dsn, ["image_reaction"], [1_000, 10_000, 100_000], [1, 2, 4],
                 Path("/tmp/sweep"), png=Path("sweep.png"))

Invariant: the recommended setting is the fastest (events/s) whose peak RSS, the child's whole
process with chdb, stays below ``RSS_LIMIT_MB``; with ``repeat`` > 1 a setting's figures are
its median run's, and its peak RSS the largest of its runs, so one quiet run cannot
recommend a setting that usually needs more memory.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .bench import e2e
from .measure.common import load
from .measure.machine import machine_info

RSS_LIMIT_MB = 1500.0
"""Peak RSS a recommended setting must stay below (1.5 GB)."""

SWEEP_HEADERS = ["batch size", "concurrency", "rows", "events", "seconds", "rows/s", "events/s",
                 "peak RSS MB", ""]
Echo = Callable[[str], None]


def sweep(
    pg_dsn: str,
    packages: list[str] | None,
    batch_sizes: list[int],
    concurrencies: list[int],
    workdir: Path | None,
    png: Path | None = None,
    *,
    ch: str | None = None,
    rss_limit_mb: float = RSS_LIMIT_MB,
    repeat: int = 1,
    echo: Echo = print,
) -> list[dict[str, Any]]:
    """Run the backfill for every (batch size, concurrency); print a table, draw ``png`` and
    return one dict per setting: ``batch_size, concurrency, rows, events, seconds, rows_per_s,
    events_per_s, peak_rss_mb, load_avg, runs, recommended`` (see ``recommend``).

    ``packages`` empty or None means every Postgres package (plus the ClickHouse ones when
    ``ch`` is given). ``workdir`` None uses a temporary directory, removed afterwards.
    """
    if not batch_sizes or not concurrencies:
        raise ValueError("sweep needs at least one batch size and one concurrency")
    packages = selected(packages, ch)
    with _workdir(workdir) as work:
        rows = [setting(pg_dsn, packages, bs, conc, work, ch=ch, repeat=repeat, echo=echo)
                for bs in batch_sizes for conc in concurrencies]
    best = recommend(rows, rss_limit_mb)
    if best is not None:
        best["recommended"] = True
    echo("")
    echo(summary(rows, best, rss_limit_mb))
    if png is not None:
        echo(plot_sweep(rows, png))
    return rows


def selected(packages: list[str] | None, ch: str | None) -> list[str]:
    """The packages swept; unknown names fail here, before any run."""
    from metric_backfill import registry

    if not packages:
        packages = [p.name for p in registry.all_packages().values() if p.source == "postgres" or ch]
    registry.select(packages)
    return packages


@contextmanager
def _workdir(workdir: Path | None) -> Iterator[Path]:
    if workdir is not None:
        yield Path(workdir)
        return
    work = Path(tempfile.mkdtemp(prefix="metric-backfill-sweep-"))
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def setting(pg_dsn: str, packages: list[str], bs: int, conc: int, work: Path, *,
            ch: str | None, repeat: int, echo: Echo) -> dict[str, Any]:
    """One (batch size, concurrency): its median run by events/s, peak RSS the largest."""
    runs = [e2e(pg_dsn, packages, work / f"bs{bs}-c{conc}", batch_size=bs, concurrency=conc, ch=ch)
            for _ in range(max(1, repeat))]
    runs.sort(key=lambda x: x["events_per_s"] or 0)
    r = runs[len(runs) // 2]
    row = {k: r[k] for k in ("rows", "events", "seconds", "rows_per_s", "events_per_s")}
    row = {"batch_size": bs, "concurrency": conc, **row,
           "peak_rss_mb": max(x["peak_rss_mb"] for x in runs), "load_avg": r["load_avg_after"][0],
           "runs": len(runs), "recommended": False}
    echo(f"batch size {bs:>9,}  concurrency {conc}: {row['events_per_s'] or 0:>12,.0f} events/s, "
         f"peak RSS {row['peak_rss_mb']:,.0f} MB")
    return row


def recommend(rows: list[dict[str, Any]], rss_limit_mb: float = RSS_LIMIT_MB) -> dict[str, Any] | None:
    """The fastest row (events/s) whose peak RSS is below the limit; ties go to fewer threads."""
    ok = [r for r in rows if r["peak_rss_mb"] < rss_limit_mb and r["events_per_s"]]
    if not ok:
        return None
    return max(ok, key=lambda r: (r["events_per_s"], -r["concurrency"], -r["batch_size"]))


def sweep_table(rows: list[dict[str, Any]]) -> str:
    from metric_backfill.report import table

    return table(SWEEP_HEADERS, [
        [r["batch_size"], r["concurrency"], r["rows"], r["events"], round(r["seconds"], 2),
         int(r["rows_per_s"] or 0), int(r["events_per_s"] or 0), round(r["peak_rss_mb"]),
         "← recommended" if r.get("recommended") else ""]
        for r in rows
    ], right={0, 1, 2, 3, 4, 5, 6, 7})


def summary(rows: list[dict[str, Any]], best: dict[str, Any] | None, rss_limit_mb: float) -> str:
    if best is None:
        return f"{sweep_table(rows)}\n\nno setting stayed below {rss_limit_mb:,.0f} MB peak RSS"
    return (f"{sweep_table(rows)}\n\nrecommended: --batch-size {best['batch_size']} --concurrency "
            f"{best['concurrency']} ({best['events_per_s']:,.0f} events/s, peak RSS "
            f"{best['peak_rss_mb']:,.0f} MB < {rss_limit_mb:,.0f} MB)")


def plot_sweep(rows: list[dict[str, Any]], png: Path) -> str:
    """events/s and peak RSS against batch size, one line per concurrency; returns a note.
    matplotlib comes with the lab (and alone with the ``[plots]`` extra)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for conc in sorted({r["concurrency"] for r in rows}):
        pts = sorted((r for r in rows if r["concurrency"] == conc), key=lambda r: r["batch_size"])
        xs = [r["batch_size"] for r in pts]
        ax1.plot(xs, [(r["events_per_s"] or 0) / 1e6 for r in pts], marker="o", label=f"concurrency {conc}")
        ax2.plot(xs, [r["peak_rss_mb"] for r in pts], marker="o", label=f"concurrency {conc}")
    best = next((r for r in rows if r.get("recommended")), None)
    if best is not None:
        ax1.scatter([best["batch_size"]], [best["events_per_s"] / 1e6], s=160, facecolors="none",
                    edgecolors="red", linewidths=2, label="recommended", zorder=5)
    ax2.axhline(RSS_LIMIT_MB, color="red", linestyle="--", linewidth=1, label="1.5 GB limit")
    _style(ax1, ax2, sorted({r["batch_size"] for r in rows}))
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return f"chart written to {png}"


def _style(ax1: Any, ax2: Any, sizes: list[int]) -> None:
    from matplotlib.ticker import NullFormatter

    for ax, title, ylabel in ((ax1, "throughput", "million events/s"), (ax2, "peak RSS", "MB")):
        ax.set_xscale("log")
        ax.set_xticks(sizes, [f"{x:,}" for x in sizes])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("batch size (source rows)")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    ax2.set_ylim(bottom=0)


# ----------------------------------------------------------------------------------------
# the command: on a given Postgres or a seeded environment, with its report files


@dataclass(frozen=True)
class SweepJob:
    """``metric-backfill bench batch-sizes``'s options. ``seeded`` (a directory) instead of
    ``pg``: the lab's embedded Postgres there, seeded at ``scale``/``seed`` on first use."""

    packages: list[str] | None
    batch_sizes: list[int]
    concurrencies: list[int]
    pg: str | None = None
    ch: str | None = None
    seeded: Path | None = None
    scale: float | None = None
    seed: int | None = None
    workdir: Path | None = None
    png: Path | None = None
    md: Path | None = None
    json: Path | None = None
    repeat: int = 1
    command: str = ""


def batch_sizes(job: SweepJob, echo: Echo = print) -> list[dict[str, Any]]:
    """The sweep of ``job``; writes its ``--md`` / ``--json`` reports when asked."""
    load_start = load()
    if job.seeded is None:
        data: dict[str, Any] = {}
        rows = sweep(job.pg or "", job.packages, job.batch_sizes, job.concurrencies, job.workdir,
                     job.png, ch=job.ch, repeat=job.repeat, echo=echo)
    else:
        data, rows = _on_seeded(job, job.seeded.resolve(), echo)
    doc = {"machine": machine_info(), **data, "packages": selected(job.packages, job.ch),
           "rows": rows, "load_avg": {"start": load_start, "end": load()},
           "recommended": next((r for r in rows if r["recommended"]), None)}
    if job.json is not None:
        job.json.write_text(json.dumps(doc, indent=1))
    if job.md is not None:
        job.md.write_text(markdown(doc, job))
        echo(f"wrote {job.md}")
    return rows


def _on_seeded(job: SweepJob, root: Path, echo: Echo) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The sweep on the seeded directory's Postgres; a cluster this started is stopped after
    (its data kept), one that was running is left running."""
    from . import seeded

    was_running = seeded.running(root)
    try:
        db = seeded.seed_apart(root, scale=job.scale, seed=job.seed)
        rows = sweep(db.pg, job.packages, job.batch_sizes, job.concurrencies,
                     job.workdir or root / "sweep", job.png, ch=job.ch, repeat=job.repeat, echo=echo)
    finally:
        if not was_running:
            seeded.stop(root)
    return {"scale": db.scale, "seed": db.seed}, rows


def markdown(doc: dict[str, Any], job: SweepJob) -> str:
    """SWEEP.md: the command, the machine, the table, the recommendation and the chart."""
    m, best = doc["machine"], doc["recommended"]
    on = f"scale {doc['scale']}, " if "scale" in doc else ""
    runs = f"; median of {job.repeat} runs per setting." if job.repeat > 1 else "; one run per setting."
    chart = f"![sweep]({_relative(job.png, job.md)})" if job.png and job.md and job.png.exists() else ""
    return "\n".join([
        f"# Batch-size sweep ({on}{len(doc['packages'])} packages)", "",
        f"`{job.command}` — {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB; load average "
        f"{doc['load_avg']['start']} at start, {doc['load_avg']['end']} at end (shared machine). "
        "Each row is one Runner run (wall time of `run()`, all packages) in a child process with "
        "a fresh chdb target; peak RSS of that child" + runs, "",
        "```", sweep_table(doc["rows"]), "```", "",
        (f"Recommended (fastest with peak RSS < {RSS_LIMIT_MB:,.0f} MB): `--batch-size "
         f"{best['batch_size']} --concurrency {best['concurrency']}`." if best
         else "No setting stayed under the RSS limit."),
        "", chart, "",
    ])


def _relative(png: Path, md: Path) -> str:
    try:
        return str(png.resolve().relative_to(md.resolve().parent))
    except ValueError:
        return str(png.resolve())
