"""What a migration package declares: its source query, batching key, metrics and checks.

A package is data, not code paths: the engine builds every batch query, explodes rows into
events and counts skips from these declarations, so adding a package means adding one module
in ``transforms/`` that defines ``PACKAGE``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from typing import Literal

import polars as pl

Source = Literal["postgres", "clickhouse"]
KeyKind = Literal["int", "time"]


@dataclass(frozen=True)
class Metric:
    """One (entityType, metricType) family produced from the batch rows.

    ``metric_type`` is a fixed name or an expression over the rows (e.g. the reaction enum);
    ``names`` then lists the values it can take. Rows where ``where`` holds become events;
    among those, a NULL entity id is not an event: it is a skip, counted under ``skip_null``
    (default "NULL entity id").
    """

    entity_type: str
    metric_type: str | pl.Expr
    _: KW_ONLY  # three expressions of one type: named, so they cannot be swapped unnoticed
    entity_id: pl.Expr
    user_id: pl.Expr
    created_at: pl.Expr
    value: pl.Expr = field(default_factory=lambda: pl.lit(1))
    where: pl.Expr | None = None
    names: tuple[str, ...] = ()
    skip_null: str | None = None

    @property
    def metric_names(self) -> tuple[str, ...]:
        if isinstance(self.metric_type, str):
            return (self.metric_type,)
        if not self.names:
            raise ValueError(f"{self.entity_type}: an expression metricType needs names=")
        return self.names

    @property
    def qualified(self) -> tuple[str, ...]:
        return tuple(f"{self.entity_type}.{n}" for n in self.metric_names)


@dataclass(frozen=True)
class Expected:
    """An independent SQL aggregate for verify.

    The query must return columns ``entityType, entityId, metricType, month, value``: sums
    per entity and per month of the event time (the first day of the month, a DATE, UTC), so
    verify can compare both per entity and per month. It may use ``{since}`` / ``{cutoff}``
    placeholders (SQL timestamp literals) and ``{exclude_versions}``.
    It runs on the package's source (Postgres or ClickHouse) and must not share code with
    the Polars transform: it is the second, independent statement of the metric.
    """

    metrics: tuple[str, ...]
    sql: str
    remap: str | None = None
    """Name of a package lookup ``(id, mapped)``: entityId is replaced by ``mapped`` (rows whose
    id is missing from the lookup drop out), e.g. ModelVersion id → modelId for Model sums
    computed in ClickHouse."""


INDEX_JOINS: dict[str, str] = {"enable_hashjoin": "off", "enable_mergejoin": "off"}
"""``Package.pg_settings`` for a package whose parents' keys do not follow its batch key: each
batch looks its parents up by primary key (an index nested loop, memoized) instead of hashing
or merging them whole — a cost per batch that follows the batch, not the parent's size."""


@dataclass(frozen=True)
class Context:
    """What a package's ``prepare`` may use besides the batch: lookups loaded once per run
    (``Package.lookups``: name → Postgres query) and run parameters (e.g. excluded versions)."""

    lookups: dict[str, pl.DataFrame] = field(default_factory=dict)
    params: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Package:
    """A migration package: one source query family → long-format metric events.

    The batch query is ``SELECT columns FROM from_sql WHERE <key range> AND <window> [AND where]``,
    a plain range read with no ORDER BY: the engine orders the rows by ``row_key`` (the result
    columns naming one source row), then every other column. ``time_filter`` lists the
    event-time expressions the window applies to (a row qualifies if any is inside).

    Skips and substitutions (SPEC §2) are counted per reason in the run report's ``skipped``:
    ``skips`` maps a reason to a boolean expression and counts the rows where it holds (rows
    that are not events, or whose user id is substituted); ``skips_by`` maps a reason to an
    expression and counts rows per value, as ``"<reason>: <value>"`` (NULL: not counted).
    """

    name: str
    source: Source
    description: str
    from_sql: str
    columns: str
    key: str
    key_kind: KeyKind
    time_filter: tuple[str, ...]
    metrics: tuple[Metric, ...]
    expected: tuple[Expected, ...]
    where: str | None = None
    tables: dict[str, tuple[str, ...]] = field(default_factory=dict)
    prepare: Callable[[pl.DataFrame, Context], pl.DataFrame] | None = None
    lookups: dict[str, str] = field(default_factory=dict)
    skips: dict[str, pl.Expr] = field(default_factory=dict)
    skips_by: dict[str, pl.Expr] = field(default_factory=dict)
    key_also: tuple[str, ...] = ()
    """Expressions an INNER JOIN makes equal to ``key`` (a parent's primary key): the batch's
    key range is stated for them too, so the parent is read by its primary-key range rather
    than scanned whole for every batch (the planner does not carry a range across a join)."""
    probe_from: str | None = None
    """The FROM of the plan's key-range probe (min, max, count over the window) when the
    driving table alone answers it: an inner join that a foreign key keeps from dropping rows,
    with the key and the window on the driving table. The probe then reads one table instead
    of joining two whole ones; the count only sizes the batches."""
    pg_settings: dict[str, str] = field(default_factory=dict)
    """Postgres settings for this package's batch reads (e.g. ``INDEX_JOINS``)."""
    row_key: tuple[str, ...] = ("id",)
    """Result columns that name one source row: the batch's row order and error messages."""
    default_batch_size: int = 250_000
    pushdown: str | None = None
    """ClickHouse packages only: the events as one ClickHouse SELECT (columns in event order),
    run server-side as ``INSERT INTO target SELECT …`` when source and target are the same
    ClickHouse. Placeholders: ``{filter}`` (the batch's key range, window and ``where``),
    ``{model_versions}`` (a table holding the ModelVersion lookup), ``{exclude_versions}``."""

    @property
    def definition(self) -> str:
        """A version of what decides a batch's rows and events' order: key, batch SQL and
        pushdown SQL. A plan made under another definition must not be resumed."""
        parts = (self.source, self.from_sql, self.columns, self.key, self.key_also, self.key_kind,
                 self.time_filter, self.where, self.row_key, self.pushdown)
        return hashlib.sha256(repr(parts).encode()).hexdigest()[:12]

    @property
    def metric_names(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for m in self.metrics:
            for q in m.qualified:
                seen[q] = None
        return tuple(seen)
