"""Shared fixtures: ONE embedded Postgres and ONE chdb path for the whole session.

chdb allows a single data path per process for the process lifetime, so every in-process
test uses the session's chdb path and its own target table name.

Two kinds of tests, by directory, each marked with its kind: ``tests/unit`` touch no database
and start no process (seconds in all: ``pytest tests/unit``); ``tests/integration`` run against
the real Postgres and chdb. The benchmark harness's smoke tests are also marked ``bench``:
``make test`` runs everything, ``pytest -m "not bench"`` leaves them out.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import SCALE, SEED, Env

os.environ.setdefault("TZ", "UTC")
os.environ.setdefault("RUST_LOG", "off")
KINDS = ("unit", "integration")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tests = Path(__file__).parent
    for item in items:
        kind = item.path.relative_to(tests).parts[0]
        if kind not in KINDS:
            raise pytest.UsageError(f"{item.nodeid}: a test lives in tests/unit or tests/integration")
        if kind == "unit" and "env" in item.fixturenames:
            raise pytest.UsageError(f"{item.nodeid}: a unit test uses the seeded environment; "
                                    "it belongs in tests/integration")
        item.add_marker(kind)


@pytest.fixture(scope="session")
def env(tmp_path_factory: pytest.TempPathFactory):
    from metric_backfill_lab import seeded

    root: Path = tmp_path_factory.mktemp("env")
    db = seeded.seed(root, scale=SCALE, seed=SEED)
    yield Env(root=root, pg=db.pg, ch=db.ch, counts=db.rows)
    seeded.destroy(root)
