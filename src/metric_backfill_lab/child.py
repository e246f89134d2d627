"""The one way the lab runs work in a child process: ``run_child(kind, spec, workdir)``.

The parent writes ``workdir/spec.json`` (the spec, its ``kind`` and the ``out`` file), starts
``python -m metric_backfill_lab.child workdir/spec.json`` with its output in
``workdir/child.log``, and reads back the JSON the child wrote to ``out``. The child looks the
kind up in ``kinds()``, the one registry of child functions, writes the function's result, and
exits.

Why children: chdb allows one data path per process for the process's lifetime, and a path
cannot be open in two processes, so anything that opens chdb (seeding a database, a measured
run, the native statements) runs in a process of its own; a child's ``VmHWM`` is also its own
peak memory, which the parent's is not.

Invariants:
- A child that failed (non-zero exit, or no result file) raises RuntimeError in the parent
  with the last lines of its log; a partial result is never returned.
- A kind that keeps its chdb path (``seed``) exits normally, so chdb shuts down cleanly; the
  others leave at once (``fast_exit``): their chdb path is thrown away, and the interpreter's
  final garbage collection (0.5-1 s after a large run) would only be measured as noise.

``run_process`` is the process runner under it, shared with ``bench.cli`` (which measures the
product's own CLI as a child): wall clock from start to exit and the child's peak RSS.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ChildFn = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Kind:
    """A child function, and whether the child may skip the interpreter's shutdown."""

    fn: ChildFn
    fast_exit: bool = True


def kinds() -> dict[str, Kind]:
    """The registry of child functions. Imported when asked for, not with this module: the
    modules that start children import this one."""
    from . import bench, seeded
    from .measure import chdb_side, native

    return {
        "ping": Kind(ping),
        "seed": Kind(seeded.child_seed, fast_exit=False),
        "e2e": Kind(bench.child_e2e),
        "misc": Kind(chdb_side.child_misc),
        "native": Kind(native.child_native),
    }


def ping(spec: dict[str, Any]) -> dict[str, Any]:
    """A child that does nothing: the protocol's own check."""
    return {"pid": os.getpid(), "echo": spec.get("echo")}


def child_env() -> dict[str, str]:
    """The environment of every measured child: the caller's without ``METRIC_BACKFILL_*``
    settings (each option is given explicitly), UTC, no Rust logging."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("METRIC_BACKFILL_")}
    return {**env, "TZ": "UTC", "RUST_LOG": "off"}


def log_tail(path: Path, lines: int = 15) -> str:
    return "\n".join(path.read_text().strip().splitlines()[-lines:]) if path.exists() else ""


@dataclass(frozen=True)
class Finished:
    """A child process that has exited."""

    exit: int
    seconds: float
    peak_rss_mb: float | None


def _watch_hwm(pid: int, peak: list[float], stop: threading.Event) -> None:
    """Poll a child's ``VmHWM`` until ``stop`` is set; ``peak[0]`` keeps the largest seen."""
    status = Path(f"/proc/{pid}/status")
    while not stop.is_set():
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak[0] = max(peak[0], int(line.split()[1]) / 1024)
        except (OSError, ValueError, IndexError):
            return
        stop.wait(0.05)


def run_process(cmd: Sequence[str], log_file: Path, *, timeout: float | None = None,
                env: dict[str, str] | None = None, cwd: Path | None = None) -> Finished:
    """Run ``cmd`` with its output in ``log_file``: wall clock from before it is started until it
    has exited, and its ``VmHWM`` polled every 50 ms (a lower bound). Killed on timeout."""
    peak = [0.0]
    stop = threading.Event()
    with open(log_file, "w") as log:
        t0 = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdout=log, stderr=subprocess.STDOUT,
                                env=env or child_env(), cwd=cwd)
        watcher = threading.Thread(target=_watch_hwm, args=(proc.pid, peak, stop), daemon=True)
        watcher.start()
        try:
            code = proc.wait(timeout=timeout)
        finally:
            seconds = time.perf_counter() - t0
            stop.set()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        watcher.join()
    return Finished(code, seconds, round(peak[0], 1) or None)


def run_child(kind: str, spec: dict[str, Any], workdir: Path, *, timeout: float | None = None,
              prefix: Sequence[str] = ()) -> dict[str, Any]:
    """Run the child function ``kind`` on ``spec`` in a child process; its result, plus
    ``child_process_seconds`` (the child's whole life). ``prefix`` goes in front of the command
    (a profiler: ``["py-spy", "record", ..., "--"]``)."""
    if kind not in kinds():
        raise ValueError(f"no child kind {kind!r} (known: {', '.join(kinds())})")
    workdir.mkdir(parents=True, exist_ok=True)
    spec_file, out_file, log_file = workdir / "spec.json", workdir / "result.json", workdir / "child.log"
    out_file.unlink(missing_ok=True)
    spec_file.write_text(json.dumps({**spec, "kind": kind, "out": str(out_file)}))
    done = run_process([*prefix, sys.executable, "-m", "metric_backfill_lab.child", str(spec_file)],
                       log_file, timeout=timeout)
    if done.exit != 0 or not out_file.exists():
        raise RuntimeError(f"child {kind} failed (exit {done.exit}):\n{log_tail(log_file)}")
    result = json.loads(out_file.read_text())
    if isinstance(result, dict):
        result["child_process_seconds"] = round(done.seconds, 3)
    return result


def fast_exit() -> None:
    """Leave the child at once, skipping the interpreter's (and chdb's) shutdown."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m metric_backfill_lab.child SPEC.json", file=sys.stderr)
        return 2
    os.environ.setdefault("TZ", "UTC")
    os.environ.setdefault("RUST_LOG", "off")
    spec = json.loads(Path(argv[0]).read_text())
    kind = kinds()[spec["kind"]]
    Path(spec["out"]).write_text(json.dumps(kind.fn(spec), default=str))
    if kind.fast_exit:
        fast_exit()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
