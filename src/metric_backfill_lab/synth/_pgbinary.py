"""Polars frame → Postgres ``COPY ... (FORMAT binary)`` stream, built with numpy (no row loop).

Postgres parses binary COPY 2-3x faster than CSV (no timestamp or integer text parsing), which
is most of what a bulk load costs. Every row is ``int16 nfields`` then, per field, ``int32
length`` (-1 = NULL) and the value's bytes in network order; rows have different lengths when
a text column is present, so each field's bytes are scattered to computed offsets.

Handles Int32/Int64 (integer or bigint by the DDL), Boolean, Datetime('ms') (timestamp),
Date and String (text, citext and enum labels). List columns are not handled: callers use CSV.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"
_PG_EPOCH_MS = 946_684_800_000  # 2000-01-01, the zero of Postgres' binary timestamps and dates
_PG_EPOCH_DAYS = 10_957


def supported(df: pl.DataFrame) -> bool:
    """Whether every column of ``df`` has a binary encoding here."""
    ok = (pl.Int32, pl.Int64, pl.Boolean, pl.Date, pl.String)
    return all(
        isinstance(t, pl.Datetime) and t.time_unit == "ms" and t.time_zone is None
        or t in ok
        for t in df.schema.values()
    )


def _scatter(buf: np.ndarray, pos: np.ndarray, mat: np.ndarray) -> None:
    """Write row i of ``mat`` (k × w bytes) at ``buf[pos[i]:pos[i]+w]``."""
    if len(pos):
        buf[(pos[:, None] + np.arange(mat.shape[1])).ravel()] = mat.ravel()


def _fixed(s: pl.Series, bigint: bool) -> np.ndarray:
    """Values as a (n × width) big-endian byte matrix (NULL rows hold zeros)."""
    t = s.dtype
    if isinstance(t, pl.Datetime):
        v = (s.cast(pl.Int64).fill_null(_PG_EPOCH_MS).to_numpy() - _PG_EPOCH_MS) * 1000
        arr = v.astype(">i8")
    elif t == pl.Date:
        arr = (s.cast(pl.Int32).fill_null(0).to_numpy() - _PG_EPOCH_DAYS).astype(">i4")
    elif t == pl.Boolean:
        arr = s.fill_null(False).cast(pl.UInt8).to_numpy().astype("u1")
    else:
        values = s.fill_null(0).to_numpy()
        if not bigint and len(values) and (values.min() < -(2**31) or values.max() >= 2**31):
            raise ValueError(f"column {s.name!r} has values outside the integer range")
        arr = values.astype(">i8" if bigint else ">i4")
    return np.ascontiguousarray(arr).view(np.uint8).reshape(len(s), -1)


def _text(s: pl.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(byte lengths, source offsets, data bytes) of a string column."""
    arr = s.to_arrow()
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = arr.cast(pa.large_string())
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset: arr.offset + len(arr) + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8) if arr.buffers()[2] else np.zeros(0, np.uint8)
    return np.diff(offsets), offsets[:-1], data


def _columns(df: pl.DataFrame, bigint: set[str] | frozenset[str]) -> list[tuple[Any, ...]]:
    """Per column: (NULL mask, payload byte lengths, payload) — a byte matrix, or text buffers."""
    out: list[tuple[Any, ...]] = []
    for name in df.columns:
        s = df[name]
        null = s.is_null().to_numpy()
        if s.dtype == pl.String:
            lens, src, data = _text(s)
            out.append((null, np.where(null, 0, lens), (src, data)))
        else:
            mat = _fixed(s, name in bigint)
            out.append((null, np.where(null, 0, mat.shape[1]), mat))
    return out


def _field_header(null: np.ndarray, lens: np.ndarray) -> np.ndarray:
    return np.where(null, -1, lens).astype(">i4").view(np.uint8).reshape(len(lens), 4)


def _copy_text(out: np.ndarray, dst: np.ndarray, lens: np.ndarray, src: np.ndarray,
               data: np.ndarray) -> None:
    """out[dst[i] : dst[i] + lens[i]] = data[src[i] : src[i] + lens[i]] for every row i."""
    rows = np.flatnonzero(lens > 0)
    k = lens[rows]
    total = int(k.sum())
    if total:
        first = np.zeros(len(rows), np.int64)
        np.cumsum(k[:-1], out=first[1:])
        j = np.arange(total) - np.repeat(first, k)
        out[np.repeat(dst[rows], k) + j] = data[np.repeat(src[rows], k) + j]


def encode(df: pl.DataFrame, bigint: set[str] | frozenset[str] = frozenset()) -> bytes:
    """The tuples of ``df`` in binary COPY format (no header or trailer).

    Rows go into a (rows × widest-row) byte matrix, text padded to its column's longest value,
    and a boolean mask drops the padding: one pass, row-major, exactly the stream Postgres
    expects. Very long text would make the matrix huge; that falls back to byte scattering.
    """
    n = df.height
    cols = _columns(df, bigint)
    widths = [
        int(lens.max(initial=0)) if isinstance(payload, tuple) else payload.shape[1]
        for _, lens, payload in cols
    ]
    width = 2 + sum(4 + w for w in widths)
    real = 2 * n + sum(4 * n + int(lens.sum()) for _, lens, _ in cols)
    if n * width > 4 * real + (1 << 20):
        return _encode_scattered(n, cols)
    mat = np.zeros((n, width), np.uint8)
    keep: np.ndarray | None = None
    mat[:, 0:2] = np.full(n, len(cols), ">i2").view(np.uint8).reshape(n, 2)
    at = 2
    for (null, lens, payload), w in zip(cols, widths, strict=True):
        mat[:, at:at + 4] = _field_header(null, lens)
        at += 4
        if isinstance(payload, tuple):
            src, data = payload
            _copy_text(mat.reshape(-1), np.arange(n) * width + at, lens, src, data)
        else:
            mat[:, at:at + w] = payload
        if isinstance(payload, tuple) or null.any():
            if keep is None:
                keep = np.ones((n, width), bool)
            keep[:, at:at + w] = np.arange(w) < lens[:, None]
        at += w
    return (mat if keep is None else mat[keep]).tobytes()


def _encode_scattered(n: int, cols: list[tuple[Any, ...]]) -> bytes:
    """The same stream, each field scattered to its computed offset (any text length)."""
    row_len = 2 + sum(4 + lens for _, lens, _ in cols) if cols else np.full(n, 2)
    starts = np.zeros(n, np.int64)
    np.cumsum(row_len[:-1], out=starts[1:])
    buf = np.empty(int(row_len.sum()), np.uint8)
    _scatter(buf, starts, np.full(n, len(cols), ">i2").view(np.uint8).reshape(n, 2))
    pos = starts + 2
    for null, lens, payload in cols:
        _scatter(buf, pos, _field_header(null, lens))
        body = pos + 4
        if isinstance(payload, tuple):
            _copy_text(buf, body, lens, *payload)
        else:
            _scatter(buf, body[~null], payload[~null])
        pos = body + lens
    return buf.tobytes()


def chunks(df: pl.DataFrame, bigint: set[str] | frozenset[str] = frozenset(),
           rows: int = 100_000) -> Iterator[bytes]:
    """The whole COPY stream (header, tuples, trailer) in pieces of ``rows`` rows."""
    yield HEADER
    for start in range(0, df.height, rows):
        yield encode(df.slice(start, rows), bigint)
    yield TRAILER
