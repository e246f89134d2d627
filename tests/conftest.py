"""Shared fixtures: ONE embedded Postgres and ONE chdb path for the whole session.

chdb allows a single data path per process for the process lifetime, so every in-process
test uses the session's chdb path and its own target table name.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import SCALE, SEED, Env

os.environ.setdefault("TZ", "UTC")
os.environ.setdefault("RUST_LOG", "off")


@pytest.fixture(scope="session")
def env(tmp_path_factory: pytest.TempPathFactory):
    from metric_backfill_lab import seeded

    root: Path = tmp_path_factory.mktemp("env")
    db = seeded.seed(root, scale=SCALE, seed=SEED)
    yield Env(root=root, pg=db.pg, ch=db.ch, counts=db.rows)
    seeded.destroy(root)
