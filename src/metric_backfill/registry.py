"""Finds migration packages: every module of ``metric_backfill.transforms`` that defines ``PACKAGE``.

The modules live in ``transforms/`` at the top of the repository; ``src/metric_backfill/transforms``
is a symlink to it, so the wheel and the editable install both see them as
``metric_backfill.transforms`` (no top-level ``transforms`` package is installed)."""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from functools import cache

from .errors import UserError
from .package import Package


@cache
def all_packages() -> dict[str, Package]:
    from . import transforms

    found: dict[str, Package] = {}
    for info in sorted(pkgutil.iter_modules(transforms.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{transforms.__name__}.{info.name}")
        pkg = getattr(module, "PACKAGE", None)
        if isinstance(pkg, Package):
            found[pkg.name] = pkg
    return found


def select(names: list[str] | None) -> list[Package]:
    """The packages named (in registry order), or all; unknown names get a did-you-mean."""
    packages = all_packages()
    if not names:
        return list(packages.values())
    unknown = [n for n in names if n not in packages]
    if unknown:
        hints = []
        for n in unknown:
            close = difflib.get_close_matches(n, packages, n=1)
            hints.append(f"{n!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise UserError(f"unknown package {', '.join(hints)}; see 'metric-backfill list'")
    return [p for name, p in packages.items() if name in names]


def all_metrics() -> list[str]:
    seen: dict[str, None] = {}
    for pkg in all_packages().values():
        for m in pkg.metric_names:
            seen[m] = None
    return list(seen)
