"""Markdown for the benchmark reports: cells, tables, and the report file that keeps what
others wrote below its marker.

Invariant: ``write_report`` replaces only what is above ``KEPT_BELOW``; everything from the
marker line on (comparisons of revisions, verify at scale, hand-written notes) is carried over
byte for byte, so regenerating the report never loses a section someone else wrote.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def fmt(v: Any, digits: int = 0) -> str:
    """A report cell: "–" for nothing measured, yes/no, numbers with thousands separators
    (floats to ``digits`` places)."""
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int | float):
        return format(v, f",.{digits}f" if isinstance(v, float) else ",")
    return str(v)


def md_table(headers: list[str], rows: list[list[Any]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---:" if i else "---" for i in range(len(headers))) + "|"]
    out += ["| " + " | ".join(fmt(c) if not isinstance(c, str) else c for c in row) + " |" for row in rows]
    return "\n".join(out)


def scales(values: list[float]) -> str:
    return ", ".join(f"{x:g}" for x in values)


KEPT_BELOW = "<!-- Sections below this line are written by hand or by other tools: run.py keeps them. -->"


def write_report(md: Path, text: str) -> None:
    """The report, with whatever an earlier report kept below ``KEPT_BELOW`` (comparisons of
    revisions, verify at scale) carried over unchanged."""
    old = md.read_text() if md.exists() else ""
    kept = old[old.index(KEPT_BELOW):] if KEPT_BELOW in old else KEPT_BELOW + "\n"
    md.write_text(text.rstrip("\n") + "\n\n" + kept)
