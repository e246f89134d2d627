"""compare's report without a database: statuses, the summary line, --max-drift's rule and the
rendered table, on hand-made results."""

from __future__ import annotations

from datetime import datetime

from metric_backfill.compare import BINS, AsOf, CompareReport, MetricDrift
from metric_backfill.report import compare_table


def _metric(name: str, entities: int, equal: int, **kw) -> MetricDrift:
    entity_type, metric_type = name.split(".")
    return MetricDrift(entity_type, metric_type, f"{entity_type}Metric", metric_type,
                       entities=entities, equal=equal, **kw)


def _report(max_drift: float | None = None) -> CompareReport:
    return CompareReport(
        [_metric("Tag.followerCount", 200, 200),
         _metric("Model.commentCount", 100, 50, median=0.25, p99=1.0,
                 worst=[{"entityId": 7, "legacy": 3, "events": 9}]),
         _metric("Tag.hiddenCount", 200, 198, worst=[{"entityId": 4, "legacy": 5, "events": 1}])],
        AsOf("row", datetime(2024, 8, 7, 15, 44, 39, 44000)),
        new_metrics=["Post.reactionCount"],
        skipped={"Model.earnedAmount": "legacy column ModelMetric.earnedAmount is missing"},
        max_drift=max_drift)


def test_statuses_and_the_summary_line():
    report = _report()
    assert [m.status for m in report.metrics] == ["equal", "known", "unexplained"]
    assert report.summary() == ("3 metrics compared as of each legacy row's updatedAt: 1 equal, "
                                "1 drifting with a known reason, 1 drifting without one")
    assert report.ok and report.over_max_drift == []


def test_max_drift_fails_only_metrics_without_a_reason_and_only_above_it():
    assert _report(max_drift=1.0).ok  # Tag.hiddenCount: 1.0 % unequal, not more
    over = _report(max_drift=0.99)
    assert [m.name for m in over.over_max_drift] == ["Tag.hiddenCount"]  # never Model.commentCount (50 %)
    assert not over.ok and over.to_json()["over_max_drift"] == ["Tag.hiddenCount"]


def test_the_table_names_reasons_worst_entities_new_and_skipped_metrics():
    text = compare_table(_report(max_drift=0.5))
    assert "Model.commentCount: 7: 3 → 9" in text
    assert "  distinct users: legacy counted distinct users per model; events count rows (§3.3)" in text
    assert "new metrics, no legacy value to compare: Post.reactionCount" in text
    assert "not compared (legacy column ModelMetric.earnedAmount is missing): Model.earnedAmount" in text
    assert "over --max-drift 0.5 %: Tag.hiddenCount has 2 of 200 entities unequal (1.00 %)" in text
    row = next(line for line in text.splitlines() if line.startswith("Model.commentCount"))
    assert row.split()[1:4] == ["100", "50", "50.00"] and "25.0" in row and "distinct users" in row


def test_json_keeps_every_figure():
    doc = _report().to_json()
    m = doc["metrics"][1]
    assert m["median_rel_diff_pct"] == 25.0 and m["p99_rel_diff_pct"] == 100.0
    assert list(m["histogram"]) == list(BINS)
    assert doc["summary"] == {"compared": 3, "equal": 1, "known_reason": 1, "no_known_reason": 1}


def test_a_metric_with_some_entities_unequal_never_reads_as_none_unequal():
    report = CompareReport([_metric("Tag.hiddenCount", 1_000_000, 999_999,
                                    worst=[{"entityId": 4, "legacy": 5, "events": 1}])],
                           AsOf("row", datetime(2024, 8, 7, 15, 44, 39, 44000)), max_drift=0.0)
    text = compare_table(report)
    row = next(line for line in text.splitlines() if line.startswith("Tag.hiddenCount"))
    assert row.split()[3] not in ("0.00", "0")
    assert "Tag.hiddenCount 0.00 %" not in text
    assert "entities unequal (0.00 %)" not in text
