"""The ten legacy metric tables, filled from the synthetic sources and then drifted in known ways.

Each entity with events gets one row per timeframe. ``updatedAt`` is at or up to ten minutes
before the cutoff, and every value is the sum of the entity's events before ``updatedAt``
(``Day``…``Year``: those inside the period before it), so ``compare --as-of row`` finds the
tables equal to the events except where drift was injected on purpose:

- stale rows: ``updatedAt`` well before some of the entity's events (equal as of the row,
  apart as of the cutoff), and a few NULL ``updatedAt`` (taken as the cutoff);
- metrics computed the legacy way (``truth.legacy_way``: distinct users, no review filters,
  no recent self-reactions), which SPEC §6 gives a by-design reason;
- a few values off by a random amount, and a few entities whose rows are missing although
  they have events.

``Drift`` records all of it, and the outcome: every (metric, entity) whose legacy ``AllTime``
value differs from its events before the row's ``updatedAt``. Each table draws from its own
stream, ``child_rng(seed, table name)``, so the source tables are untouched by any of this.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa

from metric_backfill.legacy import LEGACY_TABLES, TIMEFRAME, LegacyTable

from .._util import Picker, child_rng
from ..constants import CUTOFF_MS, DAY_MS
from ..schema import METRIC_TABLES
from . import truth

c = pl.col
PERIODS = {"Day": 1, "Week": 7, "Month": 30, "Year": 365, TIMEFRAME: None}
"""Timeframe → days before ``updatedAt`` it covers (AllTime: everything before)."""
RECENT_MS = 10 * 60_000
"""A fresh row's ``updatedAt`` is at most this long before the cutoff."""


@dataclass(frozen=True)
class Drift:
    """What the generator made differ, and the outcome per metric."""

    unequal: dict[str, dict[int, tuple[int, int]]]
    """Metric → entity → (legacy AllTime value, sum of its events before the row's
    updatedAt, the cutoff without a row or with a NULL updatedAt), wherever the two differ."""
    stale: dict[str, tuple[int, ...]]
    """Table → entities whose updatedAt precedes some of their events."""
    null_updated: dict[str, tuple[int, ...]]
    missing: dict[str, tuple[int, ...]]
    """Table → entities with events whose legacy rows are missing."""
    offsets: dict[str, dict[int, int]]
    """Metric → entity → amount added to its AllTime value."""
    legacy_way: tuple[str, ...]
    """Metrics whose legacy values are computed as the old processors did."""


@dataclass(frozen=True)
class Legacy:
    frames: dict[str, pl.DataFrame]
    drift: Drift


@dataclass
class _Table:
    """One table under construction: its rows (entity, as-of) and what was injected."""

    spec: LegacyTable
    rows: pl.DataFrame
    stale: tuple[int, ...] = ()
    null_updated: tuple[int, ...] = ()
    missing: tuple[int, ...] = ()
    offsets: dict[str, dict[int, int]] | None = None


def generate_legacy(frames: dict[str, pl.DataFrame], ch: dict[str, list[pa.Table]],
                    seed: int) -> Legacy:
    """The legacy tables (DB column names, unset columns take their defaults) and the drift."""
    events = truth.events(frames, ch)
    old = truth.legacy_way(frames)
    out: dict[str, pl.DataFrame] = {}
    parts: list[_Table] = []
    unequal: dict[str, dict[int, tuple[int, int]]] = {}
    for spec in LEGACY_TABLES:
        names = list(spec.columns)
        mine = events.filter((c("entityType") == spec.entity_type) & c("metricType").is_in(names))
        legacy = pl.concat([mine.filter(~pl.format("{}.{}", "entityType", "metricType").is_in(list(old))),
                            *(v for k, v in old.items() if k.split(".")[0] == spec.entity_type)])
        t = _rows(spec, frames, mine, legacy, child_rng(seed, spec.name))
        values = _values(legacy, t.rows)
        values, t.missing, t.offsets = _inject(spec, values, child_rng(seed, spec.name + ".drift"))
        kept = t.rows.filter(~c("entityId").is_in(list(t.missing)))
        out[spec.name] = _frame(spec, values, kept)
        unequal.update(_unequal(spec, values.filter(c("timeframe") == TIMEFRAME), mine, kept))
        parts.append(t)
    drift = Drift(
        unequal=unequal,
        stale={t.spec.name: t.stale for t in parts},
        null_updated={t.spec.name: t.null_updated for t in parts},
        missing={t.spec.name: t.missing for t in parts},
        offsets={m: o for t in parts for m, o in (t.offsets or {}).items()},
        legacy_way=tuple(sorted(old)),
    )
    return Legacy(out, drift)


def _rows(spec: LegacyTable, frames: dict[str, pl.DataFrame], mine: pl.DataFrame,
          legacy: pl.DataFrame, rng: np.random.Generator) -> _Table:
    """The entities with a row (existing, with events) and their ``asOf`` (updatedAt, NULL →
    the cutoff): mostly fresh, a few stale, a few NULL."""
    existing = frames[spec.entity_type]["id"].cast(pl.Int64)
    span = pl.concat([mine, legacy]).group_by("entityId").agg(
        c("at").min().alias("first"), c("at").max().alias("last"))
    rows = span.filter(c("entityId").is_in(existing.implode())).sort("entityId")
    n = rows.height
    updated = CUTOFF_MS - rng.integers(0, RECENT_MS, n)
    updated[rng.random(n) < 0.1] = CUTOFF_MS
    first, last = rows["first"].to_numpy(), rows["last"].to_numpy()
    picker = Picker(rng, n)
    stale = picker.pick(max(2, n // 40), first < last)
    updated[stale] = rng.integers(first[stale] + 1, last[stale] + 1)
    null = picker.pick(max(1, n // 100))
    ids = rows["entityId"].to_numpy()
    rows = rows.with_columns(pl.Series("updatedAt", updated, pl.Int64))
    rows = rows.with_columns(
        pl.when(c("entityId").is_in(ids[null].tolist())).then(None).otherwise(c("updatedAt")).alias("updatedAt"))
    rows = rows.with_columns(c("updatedAt").fill_null(CUTOFF_MS).alias("asOf"))
    return _Table(spec, rows, tuple(sorted(int(i) for i in ids[stale])),
                  tuple(sorted(int(i) for i in ids[null])))


def _values(events: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """Per row entity and timeframe, each metric's sum of events inside the timeframe before
    ``asOf``: columns ``entityId, timeframe, <metricType>…`` (zeros where there is none)."""
    joined = events.join(rows.select("entityId", "asOf"), on="entityId")
    before = c("at") < c("asOf")
    sums = joined.group_by("entityId", "metricType").agg(
        (c("value") * (before if days is None else before & (c("at") >= c("asOf") - days * DAY_MS))
         ).sum().alias(tf) for tf, days in PERIODS.items())
    long = sums.unpivot(index=["entityId", "metricType"], on=list(PERIODS),
                        variable_name="timeframe", value_name="v")
    wide = long.pivot(on="metricType", index=["entityId", "timeframe"], values="v")
    grid = rows.select("entityId").join(pl.DataFrame({"timeframe": list(PERIODS)}), how="cross")
    return grid.join(wide, on=["entityId", "timeframe"], how="left").fill_null(0)


def _inject(spec: LegacyTable, values: pl.DataFrame, rng: np.random.Generator
            ) -> tuple[pl.DataFrame, tuple[int, ...], dict[str, dict[int, int]]]:
    """Two AllTime values off by a random amount; one entity with events loses its rows."""
    for m in spec.columns:
        if m not in values.columns:
            values = values.with_columns(pl.lit(0, pl.Int64).alias(m))
    alltime = values.filter(c("timeframe") == TIMEFRAME).sort("entityId")
    cells = alltime.unpivot(index="entityId", on=list(spec.columns), variable_name="metric",
                            value_name="v").filter(c("v") != 0).sort("entityId", "metric")
    picked = cells[Picker(rng, cells.height).pick(min(3, cells.height))].sort("entityId", "metric")
    missing_entity, offsets = picked[-1:] if picked.height > 2 else picked[:0], {}
    for entity, metric, v in picked[: min(2, picked.height)].iter_rows():
        amount = int(rng.integers(1, 20)) * (1 if v < 20 or rng.random() < 0.5 else -1)
        offsets.setdefault(f"{spec.entity_type}.{metric}", {})[int(entity)] = amount
        hit = (c("entityId") == entity) & (c("timeframe") == TIMEFRAME)
        values = values.with_columns(pl.when(hit).then(c(metric) + amount).otherwise(c(metric)).alias(metric))
    missing = tuple(int(e) for e in missing_entity["entityId"] if int(e) not in
                    {e for o in offsets.values() for e in o})
    return values.filter(~c("entityId").is_in(list(missing))), missing, offsets


def _unequal(spec: LegacyTable, alltime: pl.DataFrame, events: pl.DataFrame,
             rows: pl.DataFrame) -> dict[str, dict[int, tuple[int, int]]]:
    """Per metric, the entities whose legacy AllTime value and events as of the row differ."""
    asof = events.join(rows.select("entityId", "asOf"), on="entityId", how="left").with_columns(
        c("asOf").fill_null(CUTOFF_MS))
    sums = asof.filter(c("at") < c("asOf")).group_by("entityId", "metricType").agg(
        c("value").sum().alias("events"))
    out = {}
    for metric in spec.columns:
        legacy = alltime.select("entityId", c(metric).alias("legacy"))
        mine = sums.filter(c("metricType") == metric).select("entityId", "events")
        both = legacy.join(mine, on="entityId", how="full", coalesce=True).fill_null(0)
        differ = both.filter(c("legacy") != c("events")).sort("entityId")
        out[f"{spec.entity_type}.{metric}"] = {
            int(e): (int(lv), int(ev)) for e, lv, ev in differ.select("entityId", "legacy", "events").iter_rows()}
    return out


def _frame(spec: LegacyTable, values: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """The table's rows: id, timeframe, the mapped columns, updatedAt (and createdAt where the
    table has one: the entity's first event), in key order."""
    order = {tf: i for i, tf in enumerate(PERIODS)}
    df = values.join(rows.select("entityId", "updatedAt", "first"), on="entityId").sort(
        "entityId", c("timeframe").replace_strict(order, return_dtype=pl.Int32))
    ddl = {name for name, _ in METRIC_TABLES[spec.name]}
    cols = [c("entityId").cast(pl.Int32).alias(spec.id_column), c("timeframe"),
            *(c(m).cast(pl.Int32).alias(col) for m, col in spec.columns.items()),
            c("updatedAt").cast(pl.Datetime("ms"))]
    if "createdAt" in ddl:
        cols.append(c("first").clip(0).cast(pl.Datetime("ms")).alias("createdAt"))
    return df.select(cols)
