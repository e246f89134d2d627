"""Clock, load average, log line and rate: what every measurement stage shares.

Invariant: a rate of nothing measured is None, never a division by zero or an infinity, so a
stage that did not run shows as "–" in the report instead of a made-up figure.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any


def now() -> float:
    return time.perf_counter()


def load() -> list[float]:
    """The load average (1, 5, 15 min): the machine is shared, so it is recorded around every
    phase and a figure taken at a high load reads as pessimistic."""
    return [round(x, 2) for x in os.getloadavg()]


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def rate(n: float, seconds: float) -> float | None:
    return n / seconds if seconds > 0 else None


def window() -> Any:
    """The window every stage reads: the default cutoff, no lower bound (as a plain ``run``)."""
    from metric_backfill.defaults import DEFAULT_CUTOFF
    from metric_backfill.events import Window

    return Window(cutoff=DEFAULT_CUTOFF)
