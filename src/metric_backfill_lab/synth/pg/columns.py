"""Polars columns and frames from the numpy arrays the generation steps draw.

The arrays hold epoch milliseconds, positions and category codes, because drawing and looking
up rows is plain array indexing that way; these builders turn them into the column types the
loader writes (Datetime('ms') naive UTC, Int32, enum labels as text, text arrays), NULL where a
mask says so, and put every frame's columns in DDL order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from .._util import Array
from ..schema import TABLES


def ts_series(name: str, ms: Array, null: Array | None = None) -> pl.Series:
    """A ``Datetime('ms')`` column (naive UTC) from epoch ms, NULL where ``null``."""
    d = np.asarray(ms, dtype=np.int64).astype("datetime64[ms]")
    if null is not None:
        d = d.copy()
        d[null] = np.datetime64("NaT")
    return pl.Series(name, d)


def int_series(name: str, values: Array, null: Array | None = None,
               dtype: type[pl.DataType] = pl.Int32) -> pl.Series:
    """An integer column, NULL where ``null``."""
    values = np.asarray(values, dtype=np.int64)
    if null is not None and null.any():
        return pl.Series(name, np.ma.masked_array(values, null), dtype=dtype)
    return pl.Series(name, values, dtype=dtype)


def cat_series(name: str, codes: Array, labels: Sequence[str], null: Array | None = None
               ) -> pl.Series:
    """A text column of enum labels from category codes."""
    s = pl.Series(name, list(labels), dtype=pl.String).gather(np.asarray(codes, dtype=np.int64))
    if null is not None and null.any():
        s = s.scatter(np.flatnonzero(null), None)
    return s


def lists(name: str, options: list[list[str]], codes: Array) -> pl.Series:
    return pl.Series(name, options, dtype=pl.List(pl.String)).gather(
        np.asarray(codes, dtype=np.int64)
    )


def frame(table: str, cols: list[pl.Series]) -> pl.DataFrame:
    """Columns in DDL order (the loader names them explicitly anyway)."""
    order = {c: i for i, (c, _) in enumerate(TABLES[table])}
    return pl.DataFrame(sorted(cols, key=lambda s: order.get(s.name, len(order))))


def ddl_order(table: str, df: pl.DataFrame) -> list[str]:
    return [c for c, _ in TABLES[table] if c in df.columns]
