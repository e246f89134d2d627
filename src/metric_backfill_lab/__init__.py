"""The lab around metric-backfill: the synthetic Civitai generator, an embedded Postgres server
and the benchmark building blocks. Tests, ``demo``, ``db`` and the benchmarks use it; a
production backfill never imports it.

It ships in the same wheel but counts as installed only with its extra
(``pip install 'metric-backfill[lab]'``): without the extra's packages, importing it fails with
that instruction, which the CLI's lab commands turn into one line and exit 2."""

from importlib.util import find_spec

EXTRA = ("matplotlib", "adbc_driver_postgresql")
"""Packages that come only with the ``[lab]`` extra: their presence is the lab's."""


def _absent(module: str) -> bool:
    try:
        return find_spec(module) is None
    except (ImportError, ValueError):  # a module blocked or half-imported
        return True


_missing = [m for m in EXTRA if _absent(m)]
if _missing:
    raise ModuleNotFoundError(
        f"the lab needs its extra ({', '.join(_missing)} missing): "
        "pip install 'metric-backfill[lab]'", name="metric_backfill_lab")
