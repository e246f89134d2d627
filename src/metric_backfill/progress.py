"""Progress of a run on stderr: tqdm bars on a terminal, else one line per package at an interval.

A backfill runs for hours under nohup, systemd or CI, where bars are noise and silence looks like
a hang; so without a terminal each package still reports its batches, rows, rate and ETA.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from .ledger import Ledger
from .plan import Batch, Plan


class Progress(Protocol):
    interval: float | None
    """Seconds between ticks the caller should give, or None if ticks are not needed."""

    def advance(self, package: str, rows: int, events: int) -> None: ...
    def tick(self) -> None: ...
    def close(self) -> None: ...


def progress_for(plan: Plan, ledger: Ledger, pending: list[Batch], enabled: bool,
                 interval: float, log: Callable[[str], None]) -> Progress:
    if not enabled or not pending:
        return Lines(interval=None, log=log)
    if sys.stderr.isatty():
        return Bars(plan, ledger, pending)
    return Lines.start(plan, ledger, pending, interval, log)


@dataclass
class _PackageProgress:
    batches: int
    batches_done: int
    rows: int = 0
    events: int = 0
    batches_now: int = 0
    """Batches done by this invocation (the rate and ETA are this invocation's)."""


@dataclass
class Lines:
    """``progress <package>: 12/40 batches, 30,000 rows, 75,000 events, 2,500 events/s, ETA 0:00:11``."""

    interval: float | None
    log: Callable[[str], None]
    packages: dict[str, _PackageProgress] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    last: float = field(default_factory=time.monotonic)

    @classmethod
    def start(cls, plan: Plan, ledger: Ledger, pending: list[Batch], interval: float,
              log: Callable[[str], None]) -> Lines:
        names = {b.package for b in pending}
        packages = {
            name: _PackageProgress(len(p.batches), sum(1 for b in p.batches if b.id in ledger.done))
            for name, p in plan.packages.items() if name in names
        }
        return cls(interval=interval, log=log, packages=packages)

    def advance(self, package: str, rows: int, events: int) -> None:
        t = self.packages.get(package)
        if t is not None:
            t.batches_done += 1
            t.batches_now += 1
            t.rows += rows
            t.events += events
        self.tick()

    def tick(self) -> None:
        now = time.monotonic()
        if self.interval is None or now - self.last < self.interval:
            return
        self.last = now
        elapsed = max(now - self.started, 1e-9)
        for name, t in self.packages.items():
            self.log(f"progress {name}: {t.batches_done}/{t.batches} batches, {t.rows:,} rows, "
                     f"{t.events:,} events, {t.events / elapsed:,.0f} events/s, ETA {_eta(t, elapsed)}")

    def close(self) -> None:
        self.last = 0.0
        self.tick()


def _eta(t: _PackageProgress, elapsed: float) -> str:
    left = t.batches - t.batches_done
    if left == 0:
        return "done"
    if t.batches_now == 0:
        return "?"
    return _clock(int(left * elapsed / t.batches_now))


class Bars:
    """One tqdm bar per package: rows read against the plan's estimate, with events/s."""

    interval = None

    def __init__(self, plan: Plan, ledger: Ledger, pending: list[Batch]) -> None:
        from tqdm import tqdm

        self.bars = {}
        self.events: dict[str, int] = {}
        names = sorted({b.package for b in pending}, key=list(plan.packages).index)
        for pos, name in enumerate(names):
            p = plan.packages[name]
            done_rows = sum(ledger.done[b.id].get("rows", 0) for b in p.batches if b.id in ledger.done)
            self.bars[name] = tqdm(
                total=max(p.rows, done_rows), initial=done_rows, desc=f"{name:<28}", unit=" rows",
                unit_scale=True, position=pos, leave=True, dynamic_ncols=True, file=sys.stderr,
                mininterval=0.5,
            )
            self.events[name] = 0

    def advance(self, package: str, rows: int, events: int) -> None:
        bar = self.bars.get(package)
        if bar is None:
            return
        self.events[package] += events
        elapsed = max(time.monotonic() - bar.start_t, 1e-9)
        bar.set_postfix_str(f"{self.events[package] / elapsed:,.0f} events/s", refresh=False)
        bar.update(rows)

    def tick(self) -> None:
        pass

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


@dataclass
class Steps:
    """verify's progress: the steps of each phase (queries streamed, chunks compared), rows
    streamed and an ETA — a tqdm bar on a terminal, else a line every ``interval`` seconds."""

    enabled: bool = True
    interval: float = 30.0
    log: Callable[[str], None] = field(default=lambda s: print(s, file=sys.stderr))
    name: str = ""
    unit: str = ""
    total: int = 0
    done: int = 0
    streamed: int = 0
    current: str = ""
    started: float = field(default_factory=time.monotonic)
    last: float = field(default_factory=time.monotonic)
    bar: object | None = None

    def phase(self, name: str, total: int, unit: str) -> None:
        self.close()
        self.name, self.total, self.unit, self.done, self.streamed = name, total, unit, 0, 0
        self.started = self.last = time.monotonic()
        if self.enabled and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=name, unit=f" {unit}", file=sys.stderr,
                            dynamic_ncols=True, leave=True)

    def label(self, current: str) -> None:
        self.current = current
        self._show()

    def rows(self, n: int) -> None:
        self.streamed += n
        self._show()

    def step(self) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)  # type: ignore[attr-defined]
        self._show()

    def _show(self) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(f"{self.current}, {self.streamed:,} rows")  # type: ignore[attr-defined]
            return
        now = time.monotonic()
        if not self.enabled or now - self.last < self.interval:
            return
        self.last = now
        elapsed = now - self.started
        eta = "?" if not self.done else _clock(int((self.total - self.done) * elapsed / self.done))
        rows = f"{self.streamed:,} rows streamed, " if self.streamed else ""
        self.log(f"progress {self.name}: {self.done}/{self.total} {self.unit} ({self.current}), "
                 f"{rows}ETA {eta}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()  # type: ignore[attr-defined]
            self.bar = None


def _clock(secs: int) -> str:
    return f"{secs // 3600}:{secs // 60 % 60:02d}:{secs % 60:02d}"
