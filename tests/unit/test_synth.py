"""The synthetic data generator alone: deterministic, linear in scale, its steps in an order
that works, and the edge instants exact (loading it: tests/integration/test_synth.py)."""

from __future__ import annotations

from datetime import timedelta

from metric_backfill_lab.synth import DEFAULT_CUTOFF, EDGE_SINCE, generate_clickhouse, generate_pg
from metric_backfill_lab.synth.pg import STEPS, model_versions
from metric_backfill_lab.synth.pg.core import Gen
from metric_backfill_lab.synth.pg.steps import steps_for
from metric_backfill_lab.synth.schema import TABLES

SEED = 5


def test_constants() -> None:
    assert EDGE_SINCE.isoformat() == "2023-06-01T00:00:00"
    assert DEFAULT_CUTOFF.isoformat(timespec="milliseconds") == "2024-08-07T15:44:39.044"


def test_same_seed_same_frames_other_seed_other_frames() -> None:
    a, b, c = generate_pg(0.02, SEED), generate_pg(0.02, SEED), generate_pg(0.02, SEED + 1)
    assert list(a) == list(TABLES)
    assert all(a[t].equals(b[t]) for t in a)
    assert not any(a[t].equals(c[t]) for t in a)


def test_clickhouse_rows_are_deterministic() -> None:
    mv = generate_pg(0.02, SEED)["ModelVersion"]
    a = generate_clickhouse(0.02, SEED, mv["id"], mv["modelId"])
    b = generate_clickhouse(0.02, SEED, mv["id"], mv["modelId"])
    c = generate_clickhouse(0.02, SEED + 1, mv["id"], mv["modelId"])
    assert model_versions(0.02, SEED).equals(mv.select("id", "modelId"))
    assert all(x.equals(y) for t in a for x, y in zip(a[t], b[t], strict=True))
    assert not a["orchestration.jobs"][0].equals(c["orchestration.jobs"][0])


def test_every_step_comes_after_the_steps_it_reads() -> None:
    done: set[object] = set()
    for step in STEPS:
        assert set(step.reads) <= done, step.run.__name__
        done.add(step.run)


def test_the_steps_a_step_reads_are_enough_to_run_it() -> None:
    """A step that reads a record no listed step sets fails here with AttributeError."""
    for step in STEPS:
        g = Gen(0.01, SEED)
        for s in steps_for(step.run):
            s.run(g)


def _total(scale: float) -> int:
    frames = generate_pg(scale, SEED)
    mv = frames["ModelVersion"]
    ch = generate_clickhouse(scale, SEED, mv["id"], mv["modelId"])
    return sum(len(f) for f in frames.values()) + sum(t.num_rows for ts in ch.values() for t in ts)


def test_row_count_is_linear_in_scale_and_about_a_million_at_scale_1() -> None:
    small, double = _total(0.1), _total(0.2)
    assert 1.8 < double / small < 2.2
    assert 900_000 < _total(1.0) < 1_150_000


def test_frames_use_db_column_names_and_fill_not_null_columns() -> None:
    frames = generate_pg(0.01, SEED)
    for table, df in frames.items():
        columns = dict(TABLES[table])
        assert set(df.columns) <= set(columns), table
        required = {c for c, t in columns.items()
                    if "NOT NULL" in t and "DEFAULT" not in t and t != "serial"}
        assert required <= set(df.columns), (table, required - set(df.columns))
        for c in required:
            assert df[c].null_count() == 0, (table, c)


def test_edge_instants_are_exact_in_the_frames() -> None:
    ir = generate_pg(0.01, SEED)["ImageReaction"]
    at = set(ir["createdAt"].to_list())
    ms = timedelta(milliseconds=1)
    for t in (EDGE_SINCE, DEFAULT_CUTOFF):
        assert {t - ms, t, t + ms} <= at
