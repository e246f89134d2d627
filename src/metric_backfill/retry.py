"""Retry transient failures with exponential backoff and jitter; never retry permanent ones.

Every retry is logged in one line (which retry, the wait, the redacted cause): a source that is
down shows up at once, not as minutes of silence before the run gives up.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

import polars as pl
from tenacity import (
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from .errors import RunFailed, TransientError, first_line, redact
from .sources import Source

TRANSIENT = TransientError
T = TypeVar("T")


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 5
    wait: float = 1.0
    max_wait: float = 60.0
    log: Callable[[str], None] = field(default=_stderr, compare=False, repr=False)

    def call(self, fn: Callable[[], T]) -> T:
        """fn(), retried on transient errors; after the last retry a RunFailed with a hint."""
        try:
            for attempt in Retrying(
                retry=retry_if_exception_type(TRANSIENT),
                stop=stop_after_attempt(self.retries + 1),
                wait=wait_random_exponential(multiplier=self.wait, max=self.max_wait),
                before_sleep=self._log_retry,
            ):
                with attempt:
                    return fn()
        except RetryError as e:
            last = e.last_attempt.exception()
            raise RunFailed(
                f"{redact(str(last))} (gave up after {self.retries} retries; the ledger is "
                "intact: rerun with --resume)"
            ) from last
        raise AssertionError("unreachable")

    def _log_retry(self, state: RetryCallState) -> None:
        cause = state.outcome.exception() if state.outcome else None
        first = first_line(cause) if cause is not None else "None"
        wait = state.next_action.sleep if state.next_action else 0.0
        self.log(f"retry {state.attempt_number}/{self.retries} in {wait:.1f} s: {first}")


@dataclass(frozen=True)
class RetryingSource:
    """A source whose reads are retried under a policy (same interface as the source)."""

    source: Source
    policy: RetryPolicy

    @property
    def lowest_time(self) -> str:
        return self.source.lowest_time

    def time_literal(self, dt: datetime) -> str:
        return self.source.time_literal(dt)

    def count_nulls(self, expr: str) -> str:
        return self.source.count_nulls(expr)

    def fetch(self, sql: str, settings: dict[str, str] | None = None) -> pl.DataFrame:
        return self.policy.call(lambda: self.source.fetch(sql, settings))
