"""Retry transient failures with exponential backoff and jitter; never retry permanent ones."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import polars as pl
from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from .clickhouse import TransientClickHouseError
from .errors import RunFailed, redact
from .sources import Source, TransientSourceError

TRANSIENT = (TransientSourceError, TransientClickHouseError)
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 5
    wait: float = 1.0
    max_wait: float = 60.0

    def call(self, fn: Callable[[], T]) -> T:
        """fn(), retried on transient errors; after the last retry a RunFailed with a hint."""
        try:
            for attempt in Retrying(
                retry=retry_if_exception_type(TRANSIENT),
                stop=stop_after_attempt(self.retries + 1),
                wait=wait_random_exponential(multiplier=self.wait, max=self.max_wait),
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

    def fetch(self, sql: str) -> pl.DataFrame:
        return self.policy.call(lambda: self.source.fetch(sql))
