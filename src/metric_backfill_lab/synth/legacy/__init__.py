"""The legacy ``*Metric`` tables (SPEC §6) of the synthetic database, for ``compare``.

``generate_legacy`` computes them from the generated source frames and ClickHouse tables;
``legacy_drift(scale, seed)`` recomputes what a database seeded at (scale, seed) holds, so a
test can assert that ``compare`` reports exactly the injected drift.
"""

from __future__ import annotations

from .tables import Drift, Legacy, generate_legacy

__all__ = ["Drift", "Legacy", "generate_legacy", "legacy_drift", "legacy_for"]


def legacy_for(scale: float, seed: int) -> Legacy:
    """The legacy tables and drift of the synthetic data at (scale, seed)."""
    from ..clickhouse import generate_clickhouse
    from ..pg import generate_pg

    frames = generate_pg(scale, seed)
    mv = frames["ModelVersion"]
    return generate_legacy(frames, generate_clickhouse(scale, seed, mv["id"], mv["modelId"]), seed)


def legacy_drift(scale: float, seed: int) -> Drift:
    return legacy_for(scale, seed).drift
