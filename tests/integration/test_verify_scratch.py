"""verify's scratch tables: none left after SIGINT; after SIGKILL, named, then dropped when stale.

verify runs in a child process on its own chdb target (chdb allows one process per data path);
the scratch tables' metadata files say when they exist.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "metric_backfill.cli"]
PACKAGES = "buzz_tip,user_engagement,image_reaction,comment_v2,article_reaction,bounty"


def _tables(target: Path) -> list[str]:
    code = ("import json, clickhouse_connect as c; print(json.dumps(c.get_client("
            f"dsn='chdb://{target}').query(\"SELECT name FROM system.tables WHERE database = "
            "'default' AND name LIKE 'mb_verify_%' ORDER BY name\").result_rows))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return [name for (name,) in json.loads(r.stdout)]


def _verify(env, target: Path, *extra: str) -> list[str]:
    return [*CLI, "verify", "--pg", env.pg, "--target", f"chdb://{target}",
            "--packages", PACKAGES, "--no-progress", *extra]


@pytest.fixture(scope="module")
def target(env, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("scratch")
    r = subprocess.run([*CLI, "run", "--pg", env.pg, "--target", f"chdb://{root / 'ch'}",
                        "--state", str(root / "state"), "--packages", PACKAGES, "--no-progress"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return root / "ch"


def _interrupt_once_scratch_exists(env, target: Path, sig: signal.Signals) -> subprocess.CompletedProcess:
    proc = subprocess.Popen(_verify(env, target), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    metadata = target / "metadata" / "default"
    deadline = time.monotonic() + 60
    while not list(metadata.glob("mb_verify_*_expected.sql")):
        assert proc.poll() is None, "verify ended before its scratch table was seen"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_sigint_leaves_no_scratch_table(env, target):
    r = _interrupt_once_scratch_exists(env, target, signal.SIGINT)
    assert r.returncode == 130, r.stderr
    assert r.stderr.strip().splitlines()[-1] == "error: interrupted"
    assert _tables(target) == []


def test_after_sigkill_the_leftover_is_named_then_dropped_once_a_day_old(env, target):
    r = _interrupt_once_scratch_exists(env, target, signal.SIGKILL)
    assert r.returncode == -signal.SIGKILL
    left = _tables(target)
    assert left, "a SIGKILLed verify leaves its scratch tables"

    r = subprocess.run(_verify(env, target), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for name in left:
        assert f"default.{name} is left from a verify started" in r.stderr
    assert _tables(target) == left  # another verify may own them: untouched

    old = (datetime.now(UTC) - timedelta(days=1, minutes=5)).strftime("%Y%m%dT%H%M%S")
    renames = ", ".join(f"default.{n} TO default.mb_verify_{old}{n[len('mb_verify_') + 15:]}"
                        for n in left)
    code = (f"import clickhouse_connect as c; c.get_client(dsn='chdb://{target}')"
            f".command('RENAME TABLE {renames}')")
    subprocess.run([sys.executable, "-c", code], check=True)

    r = subprocess.run(_verify(env, target), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("note: dropped default.mb_verify_") == len(left)
    assert _tables(target) == []
