"""House style: no function over 60 lines in the product, its transforms, the lab or the
benchmarks' entry points. A longer one hides steps that deserve names."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers import REPO

LIMIT = 60


def _functions(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text())
    return [(f"{path.relative_to(REPO)}:{n.lineno} {n.name}", n.end_lineno - n.lineno + 1)
            for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def test_no_function_over_60_lines() -> None:
    roots = [REPO / "src" / "metric_backfill_lab", REPO / "transforms", REPO / "benchmarks"]
    files = sorted((REPO / "src" / "metric_backfill").glob("*.py"))  # its transforms/ is a link
    files += [f for root in roots for f in sorted(root.rglob("*.py"))]
    long = [(name, n) for f in files for name, n in _functions(f) if n > LIMIT]
    assert not long, long
