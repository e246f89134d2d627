"""The seeded environment's marker: one format and one check for every database of a directory."""

from __future__ import annotations

import json

import pytest

from metric_backfill.errors import UserError
from metric_backfill_lab import seeded


def _mark(root, db, scale, seed):
    seeded.marker_path(root, db).write_text(json.dumps({"scale": scale, "seed": seed, "rows": {}}))


def test_the_default_database_and_the_others_share_one_layout(tmp_path):
    assert seeded.marker_path(tmp_path) == tmp_path / "seeded.json"
    assert seeded.ch_path(tmp_path) == tmp_path / "ch"
    assert seeded.marker_path(tmp_path, "civitai_s3") == tmp_path / "seeded_civitai_s3.json"
    assert seeded.ch_path(tmp_path, "civitai_s3") == tmp_path / "ch_civitai_s3"


@pytest.mark.parametrize("db", ["civitai", "civitai_s3"])
def test_a_database_seeded_at_another_scale_or_seed_is_refused(tmp_path, db):
    _mark(tmp_path, db, 3.0, 42)
    seeded.check(tmp_path, db, 3.0, 42)
    seeded.check(tmp_path, db)  # asking nothing takes it as it is
    for scale, seed in ((10.0, 42), (3.0, 7), (None, 7)):
        with pytest.raises(UserError, match=r"seeded at scale 3.0 \(seed 42\)"):
            seeded.check(tmp_path, db, scale, seed)
    seeded.check(tmp_path, "another", 10.0, 7)  # the marker is per database


def test_a_scale_must_be_positive(tmp_path):
    with pytest.raises(UserError, match="--scale must be > 0"):
        seeded.check(tmp_path, scale=0)


def test_the_port_comes_from_the_dsn(tmp_path):
    db = seeded.Seeded(root=tmp_path, database="x", pg="postgresql://u@127.0.0.1:5433/x", scale=1,
                       seed=1, rows={}, seed_seconds=0, vacuum_seconds=0, reused=True)
    assert db.port == 5433 and db.ch == f"chdb://{tmp_path / 'ch_x'}"


def test_only_a_marker_of_this_generation_is_current():
    from metric_backfill_lab.synth.constants import GENERATION

    assert seeded.current({"scale": 1, "seed": 1, "generation": GENERATION})
    assert not seeded.current({"scale": 1, "seed": 1})  # before generations were recorded
    assert not seeded.current({"scale": 1, "seed": 1, "generation": GENERATION - 1})
