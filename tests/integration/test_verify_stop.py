"""A stopped or failed verify: no stale --json, and a second signal while dropping the scratch
tables still drops them."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.integration.test_verify_scratch import _tables, _verify, target  # noqa: F401


def test_a_verify_that_fails_does_not_leave_an_earlier_ok_json(env, target, tmp_path):  # noqa: F811
    # a script reading --json (not the exit code) must not see the previous verify's ok: true
    out = tmp_path / "v.json"
    r = subprocess.run(_verify(env, target, "--json", str(out)), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert json.loads(out.read_text())["ok"] is True
    dead = "postgresql://backfill@127.0.0.1:1/civitai"  # nothing listens on port 1
    args = _verify(env, target, "--json", str(out))
    args[args.index("--pg") + 1] = dead
    r = subprocess.run(args, capture_output=True, text=True)
    assert r.returncode == 2, r.stderr
    assert not out.exists() or json.loads(out.read_text()).get("ok") is not True, \
        "a failed verify left the previous run's ok: true in --json"
    assert json.loads(out.read_text()) == {"ok": False, "error": r.stderr.strip().removeprefix("error: ")}


DOUBLE = """
import sys, time
from metric_backfill import scratch as S, verify as V
orig = S.Scratch.drop
def slow_drop(self):
    print("dropping", file=sys.stderr, flush=True)
    time.sleep(3)  # DROP ... SYNC on a server with large parts takes a moment
    orig(self)
S.Scratch.drop = slow_drop
def load_all(*a, **k):
    print("loading", file=sys.stderr, flush=True)
    time.sleep(60)
V._load_all = load_all
from metric_backfill import cli
sys.argv = ["metric-backfill"] + sys.argv[1:]
cli.app()
"""


def test_a_second_sigterm_while_dropping_leaves_no_scratch_table(env, target):  # noqa: F811
    # `kill` twice, or Ctrl-C pressed twice, while the scratch tables are being dropped
    proc = subprocess.Popen([sys.executable, "-c", DOUBLE, *_verify(env, target)[3:]],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    metadata = Path(target) / "metadata" / "default"
    deadline = time.monotonic() + 60
    while not list(metadata.glob("mb_verify_*_expected.sql")):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(1)
    proc.send_signal(signal.SIGTERM)
    time.sleep(1)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    left = _tables(target)
    if left:
        code = ("import sys, clickhouse_connect as c; cl = c.get_client(dsn='chdb://' + sys.argv[1])\n"
                "for n in sys.argv[2:]: cl.command(f'DROP TABLE default.`{n}` SYNC')")
        subprocess.run([sys.executable, "-c", code, str(target), *left], check=True)
    assert proc.returncode == 130, err
    assert left == [], err
