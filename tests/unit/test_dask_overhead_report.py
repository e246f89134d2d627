"""The threads-vs-Dask section of RESULTS.md: written below the keep-marker, replacing only an
earlier section of its own kind."""

from __future__ import annotations

import re
from pathlib import Path

from metric_backfill_lab.measure.dask_overhead import (
    LONG_TASKS,
    MARK,
    overhead_pct,
    round_overheads_pct,
    write_section,
)
from metric_backfill_lab.measure.markdown import KEPT_BELOW


def test_the_section_replaces_its_own_and_keeps_every_other(tmp_path: Path):
    results = tmp_path / "RESULTS.md"
    results.write_text(f"# Results\n\ngenerated\n\n{KEPT_BELOW}\n\n## Before and after\n\nkept\n")
    write_section(results, f"{MARK}\n\nfirst\n")
    with results.open("a") as f:
        f.write("\n## Where it goes\n\nby hand, about the runs above\n")
    write_section(results, f"{MARK}\n\nsecond\n")
    text = results.read_text()
    assert text.startswith("# Results\n\ngenerated\n\n" + KEPT_BELOW)
    assert "## Before and after\n\nkept\n" in text
    assert text.count(MARK) == 1 and "second" in text and "first" not in text
    assert text.index("second") < text.index("## Where it goes")  # in its place
    assert text.endswith("## Where it goes\n\nby hand, about the runs above\n")


def test_the_overhead_is_each_dask_mode_over_threads():
    doc = {"median": {"threads": {"seconds": 10.0}, "dask": {"seconds": 10.4},
                      "dask_long": {"seconds": 10.2}}}
    assert round(overhead_pct(doc), 6) == 4.0
    assert round(overhead_pct(doc, "dask_long"), 6) == 2.0


def test_each_round_pairs_a_dask_run_with_the_threads_run_before_it_and_the_cold_one_is_left_out():
    def runs(*seconds: float) -> list[dict]:
        return [{"seconds": v} for v in seconds]

    doc = {"runs": {"threads": runs(9.0, 10.0, 20.0), "dask": runs(99.0, 10.5, 21.0)}}
    assert [round(v, 6) for v in round_overheads_pct(doc)] == [5.0, 5.0]  # drift cancels


def test_the_readme_advises_the_settings_the_benchmark_measured():
    import dask

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    advised = dict(re.findall(r"(DASK_[A-Z_]+)=(\S+)", readme))
    collected = dask.config.collect_env(advised)
    assert len(advised) == len(LONG_TASKS)
    assert {key: dask.config.get(key, config=collected) for key in LONG_TASKS} == LONG_TASKS
