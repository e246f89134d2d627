"""verify: expected sums from independent SQL aggregates over the sources vs. the target.

The expected side never calls a transform: each package states every metric a second time
as a GROUP BY query (``Package.expected``). Sums are compared per (entityType, entityId,
metricType) inside ``[since, cutoff)``; a metric fed by several packages (User.reactionCount)
adds up the contributions of the packages selected.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from .events import Window
from .package import Package
from .sources import Source, window_literals
from .target import Target

KEY = ["entityType", "entityId", "metricType"]


@dataclass
class MetricResult:
    entity_type: str
    metric_type: str
    entities: int
    mismatches: int
    expected_total: int
    actual_total: int
    worst: list[dict] = field(default_factory=list)
    top: list[dict] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.entity_type}.{self.metric_type}"

    def to_json(self) -> dict:
        return {
            "entityType": self.entity_type,
            "metricType": self.metric_type,
            "entities": self.entities,
            "mismatches": self.mismatches,
            "expected_total": self.expected_total,
            "actual_total": self.actual_total,
            "worst": self.worst,
            "top": self.top,
        }


@dataclass
class VerifyReport:
    metrics: list[MetricResult]

    @property
    def mismatches(self) -> int:
        return sum(m.mismatches for m in self.metrics)

    @property
    def ok(self) -> bool:
        return self.mismatches == 0

    def to_json(self) -> dict:
        return {"ok": self.ok, "mismatches": self.mismatches, "metrics": [m.to_json() for m in self.metrics]}


def sql_params(params: dict[str, object]) -> dict[str, str]:
    """Run parameters as SQL text for the Expected templates."""
    versions = [int(v) for v in params.get("exclude_versions", []) or []]  # type: ignore[union-attr]
    return {"exclude_versions": ", ".join(map(str, versions)) or "0"}


def expected_sums(packages: list[Package], sources: dict[str, Source], window: Window,
                  metrics: set[str], lookups: dict[str, pl.DataFrame] | None = None,
                  params: dict[str, object] | None = None) -> pl.DataFrame:
    lookups = lookups or {}
    extra = sql_params(params or {})
    frames = []
    for pkg in packages:
        src = sources[pkg.name]
        for exp in pkg.expected:
            if not metrics.intersection(exp.metrics):
                continue
            df = src.fetch(exp.sql.format(**window_literals(src, window), **extra))
            df = df.select(
                pl.col(df.columns[0]).cast(pl.String).alias("entityType"),
                pl.col(df.columns[1]).cast(pl.Int64).alias("entityId"),
                pl.col(df.columns[2]).cast(pl.String).alias("metricType"),
                pl.col(df.columns[3]).cast(pl.Int64).alias("value"),
            )
            if exp.remap is not None:
                mapping = lookups[exp.remap]
                mapping = mapping.select(
                    pl.col(mapping.columns[0]).cast(pl.Int64).alias("entityId"),
                    pl.col(mapping.columns[1]).cast(pl.Int64).alias("mapped"),
                )
                df = (
                    df.join(mapping, on="entityId", how="inner")
                    .select("entityType", pl.col("mapped").alias("entityId"), "metricType", "value")
                )
            frames.append(df)
    if not frames:
        return pl.DataFrame(schema={"entityType": pl.String, "entityId": pl.Int64,
                                    "metricType": pl.String, "value": pl.Int64})
    all_rows = pl.concat(frames).filter(
        pl.concat_str("entityType", pl.lit("."), "metricType").is_in(sorted(metrics))
    )
    return all_rows.group_by(KEY).agg(pl.col("value").sum())


def verify(packages: list[Package], sources: dict[str, Source], target: Target, window: Window,
           metrics: list[str], lookups: dict[str, pl.DataFrame] | None = None,
           params: dict[str, object] | None = None, examples: int = 5) -> VerifyReport:
    expected = expected_sums(packages, sources, window, set(metrics), lookups, params)
    actual = pl.from_arrow(target.sums(metrics, window))
    assert isinstance(actual, pl.DataFrame)
    actual = actual.select(
        pl.col("entityType").cast(pl.String), pl.col("entityId").cast(pl.Int64),
        pl.col("metricType").cast(pl.String), pl.col("value").cast(pl.Int64),
    )
    joined = (
        expected.rename({"value": "expected"})
        .join(actual.rename({"value": "actual"}), on=KEY, how="full", coalesce=True)
        .with_columns(pl.col("expected").fill_null(0), pl.col("actual").fill_null(0))
        .with_columns((pl.col("actual") - pl.col("expected")).alias("diff"))
    )
    results = []
    for name in metrics:
        et, mt = name.split(".", 1)
        rows = joined.filter((pl.col("entityType") == et) & (pl.col("metricType") == mt))
        bad = rows.filter(pl.col("diff") != 0)
        worst = bad.sort(pl.col("diff").abs(), descending=True).head(examples)
        top = rows.sort("actual", descending=True).head(examples)
        results.append(
            MetricResult(
                entity_type=et,
                metric_type=mt,
                entities=rows.height,
                mismatches=bad.height,
                expected_total=int(rows["expected"].sum() or 0),
                actual_total=int(rows["actual"].sum() or 0),
                worst=worst.select("entityId", "expected", "actual").to_dicts(),
                top=top.select("entityId", pl.col("actual").alias("value")).to_dicts(),
            )
        )
    return VerifyReport(results)
