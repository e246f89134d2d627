"""``compare --png``: one histogram picture per entity type, for readers who are not engineers.

Each picture has one small panel per metric: the share of entities whose new value (the sum of
events) is equal to today's value (the legacy table), a little or a lot lower or higher, or
exists only in the new data. Titles and labels say that in words; a metric that differs by
design says so in its panel title. The title is also stored in the PNG's metadata.

matplotlib is an optional dependency (the ``[plots]`` extra): it is imported here, when a
picture is drawn; the command refuses ``--png`` before any work when it is missing.
"""

from __future__ import annotations

import math
from pathlib import Path

from .compare import BINS, CompareReport, MetricDrift

PLURALS = {"Article": "articles", "Bounty": "bounties", "BountyEntry": "bounty entries",
           "Collection": "collections", "Image": "images", "Model": "models",
           "ModelVersion": "model versions", "Post": "posts", "Tag": "tags", "User": "users"}
_COLORS = ["#b2182b", "#ef8a62", "#fddbc7", "#d9f0d3", "#1b7837", "#d9f0d3", "#fddbc7",
           "#ef8a62", "#b2182b", "#878787"]
"""Red for far apart, green for equal or nearly so, grey for entities with no old value."""
_LABELS = ["50 %+ lower", "10–50 % lower", "1–10 % lower", "< 1 % lower", "equal", "< 1 % higher",
           "1–10 % higher", "10–50 % higher", "50 %+ higher", "no old value"]
"""``compare.BINS`` in the few words a panel has room for."""


def drift_charts(report: CompareReport, directory: Path) -> list[Path]:
    """Write ``compare_<EntityType>.png`` per entity type compared; the paths written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    directory.mkdir(parents=True, exist_ok=True)
    by_type: dict[str, list[MetricDrift]] = {}
    for m in report.metrics:
        by_type.setdefault(m.entity_type, []).append(m)
    written = []
    for entity_type, metrics in by_type.items():
        fig = _figure(plt, entity_type, metrics, report)
        path = directory / f"compare_{entity_type}.png"
        fig.savefig(path, dpi=100, metadata={"Title": title(entity_type, report),
                                             "Description": _caption(entity_type)})
        plt.close(fig)
        written.append(path)
    return written


def title(entity_type: str, report: CompareReport) -> str:
    things = PLURALS.get(entity_type, entity_type)
    return (f"{things[0].upper()}{things[1:]}: how far the new metric values are from today's "
            f"({report.as_of.describe()})")


def _caption(entity_type: str) -> str:
    things = PLURALS.get(entity_type, entity_type)
    return (f"For each metric, the share of {things} whose new value (the sum of events) is equal "
            f"to today's value (the old metric table), lower or higher by how much, or only in "
            f"the new data. Panels marked 'differs by design' are expected to differ.")


def _figure(plt: object, entity_type: str, metrics: list[MetricDrift], report: CompareReport) -> object:
    things = PLURALS.get(entity_type, entity_type)
    cols = min(3, len(metrics))
    rows = math.ceil(len(metrics) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.9 * rows + 1.0),  # type: ignore[attr-defined]
                             squeeze=False)
    for ax, m in zip(axes.flat, metrics, strict=False):
        shares = [100 * h / m.entities if m.entities else 0 for h in m.histogram]
        ax.bar(range(len(BINS)), shares, color=_COLORS)
        for x, (share, count) in enumerate(zip(shares, m.histogram, strict=True)):
            if count:
                ax.annotate(f"{count:,}", (x, share), ha="center", va="bottom", fontsize=6)
        label = m.metric_type + (" (differs by design)" if m.reasons else "")
        ax.set_title(f"{label}\n{m.entities:,} {things} compared", fontsize=9)
        ax.set_ylim(0, 110)
        ax.set_ylabel(f"% of {things}", fontsize=8)
        ax.set_xticks(range(len(BINS)), _LABELS, rotation=50, ha="right", fontsize=7)
        ax.set_xlabel("new value compared with today's value", fontsize=8)
    for ax in axes.flat[len(metrics):]:
        ax.set_visible(False)
    fig.suptitle(title(entity_type, report), fontsize=11)
    fig.text(0.5, 0.005, _caption(entity_type), ha="center", va="bottom", fontsize=7, wrap=True)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig
