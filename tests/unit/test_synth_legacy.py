"""The synthetic legacy metric tables alone: deterministic, every kind of drift injected and
recorded, and values equal to the events where none was (loaded and compared:
tests/integration/test_compare.py)."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from metric_backfill_lab.synth import DEFAULT_CUTOFF
from metric_backfill_lab.synth.legacy import legacy_for
from metric_backfill_lab.synth.schema import METRIC_TABLES

SCALE, SEED = 0.02, 5


def test_same_seed_same_tables_and_drift_other_seed_other_tables():
    a, b, c = legacy_for(SCALE, SEED), legacy_for(SCALE, SEED), legacy_for(SCALE, SEED + 1)
    assert sorted(a.frames) == sorted(METRIC_TABLES)
    assert all(a.frames[t].equals(b.frames[t]) for t in a.frames)
    assert a.drift == b.drift
    assert not any(a.frames[t].equals(c.frames[t]) for t in a.frames)


def test_five_timeframes_per_entity_and_updated_at_at_or_shortly_before_the_cutoff():
    legacy = legacy_for(SCALE, SEED)
    for table, df in legacy.frames.items():
        key = df.columns[0]
        assert set(df.columns) <= {c for c, _ in METRIC_TABLES[table]}, table
        if table in ("ImageMetric", "PostMetric"):
            assert "reactionCount" not in df.columns  # generated in Postgres, never written
        per = df.group_by(key).agg(pl.col("timeframe").sort())
        assert per["timeframe"].to_list() == [sorted(["Day", "Week", "Month", "Year", "AllTime"])] * per.height
        fresh = df.filter(~pl.col(key).is_in(list(legacy.drift.stale[table])))["updatedAt"].drop_nulls()
        assert fresh.max() <= DEFAULT_CUTOFF
        assert fresh.min() >= DEFAULT_CUTOFF - timedelta(minutes=10), table
        assert df["updatedAt"].null_count() >= 5, table  # one NULL row, five timeframes


def test_every_kind_of_drift_is_injected_and_shows_in_the_outcome():
    drift = legacy_for(SCALE, SEED).drift
    assert set(drift.legacy_way) == {"Model.commentCount", "Model.thumbsUpCount",
                                     "Model.collectedCount", "Model.ratingCount",
                                     "ModelVersion.ratingCount", "User.reactionCount"}
    for metric in drift.legacy_way:
        assert drift.unequal[metric], metric
    for metric, offsets in drift.offsets.items():
        for entity, amount in offsets.items():
            legacy, events = drift.unequal[metric][entity]
            assert legacy - events == amount or metric in drift.legacy_way
    assert sum(len(o) for o in drift.offsets.values()) >= 15
    assert all(drift.stale[t] for t in METRIC_TABLES)
    missing = [(t, e) for t, es in drift.missing.items() for e in es]
    assert len(missing) >= 5
    for table, entity in missing:
        entity_type = table.removesuffix("Metric")
        assert any(entity in drift.unequal[m] and drift.unequal[m][entity][0] == 0
                   for m in drift.unequal if m.startswith(f"{entity_type}."))

