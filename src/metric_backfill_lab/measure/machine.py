"""What the figures were taken on: the machine, library versions, and the engine's revision.

Invariant: the revision names the product's code only (``src/metric_backfill`` and
``transforms``), with ``+changes`` when those differ from the commit: a figure belongs to the
engine that produced it, and edits to the lab or the benchmarks do not change what is measured.
"""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
"""The checkout the lab runs from (src/metric_backfill_lab/measure → the repository)."""

VERSIONED = ("polars", "pyarrow", "connectorx", "chdb", "clickhouse-connect", "psycopg",
             "adbc-driver-postgresql", "adbc-driver-manager")


def _first(path: str, prefix: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def machine_info() -> dict[str, Any]:
    mem = _first("/proc/meminfo", "MemTotal:")
    return {
        "engine": engine_revision(),
        "cpu": _first("/proc/cpuinfo", "model name") or platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "ram_gib": round(int(mem.split()[0]) / 1024 / 1024, 1) if mem else None,
        "os": f"{platform.system()} {platform.release()}",
        "versions": versions(),
    }


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()


def engine_revision() -> str | None:
    """The project's git commit, with '+changes' when the engine's files differ from it."""
    try:
        head = _git("rev-parse", "--short", "HEAD")
        dirty = _git("status", "--porcelain", "--", "src/metric_backfill", "transforms")
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+changes" if dirty else "")


def checkout(rev: str, where: Path) -> Path:
    """A worktree of revision ``rev`` at ``where`` (reused when it exists), to run its code."""
    if not where.exists():
        _git("worktree", "add", "--detach", str(where), rev)
    return where


def server_version(dsn: str) -> str:
    import psycopg

    with psycopg.connect(dsn) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]
