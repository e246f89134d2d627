"""Batches on Dask: a LocalCluster of two worker processes started here, the session's Postgres
and chdb, no mocks.

The coordinator runs in this process (targets in the session's chdb, fresh table names) or, for
the fault scenarios, as a CLI child writing its own chdb directory (one chdb path per process).
Every outcome is compared with a threads run of the same packages: event count, and sums and
counts per (entityType, metricType, month).

The workers' environment holds both Postgres DSNs with a password (``--no-ship-credentials``
finds them there); the embedded Postgres trusts local connections, so any password connects.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from metric_backfill.clickhouse import ClickHouse
from metric_backfill.engine import Runner, RunOptions
from metric_backfill.events import Window
from metric_backfill.registry import all_packages
from tests.helpers import CUTOFF, SCALE, SEED, imported_by_the_product, verify_table

CLI = [sys.executable, "-m", "metric_backfill.cli"]
DASK_SCHEDULER = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
PG_PACKAGES = ["buzz_tip", "user_engagement", "image_reaction"]
REPLICA_DB = "civitai_replica"
OUTCOME = ("SELECT entityType, metricType, toYYYYMM(createdAt), toInt64(sum(metricValue)), count() "
           "FROM `{table}` GROUP BY ALL ORDER BY ALL")


def _with_password(dsn: str, password: str = "secret") -> str:
    return dsn.replace("postgresql://backfill@", f"postgresql://backfill:{password}@")


@dataclass
class Cluster:
    executor: str
    client: Any


@pytest.fixture(scope="module")
def replica(env) -> str:
    """A second database on the session's server with the same data: a read replica."""
    from metric_backfill_lab.seeded import create_database, dsn_of
    from metric_backfill_lab.synth import generate_pg, load_pg

    create_database(env.pg, REPLICA_DB)
    dsn = dsn_of(env.pg, REPLICA_DB)
    load_pg(dsn, generate_pg(SCALE, SEED))
    return dsn


@pytest.fixture(scope="module")
def cluster(env, replica):
    from distributed import Client, LocalCluster

    worker_env = {"METRIC_BACKFILL_PG": f"{_with_password(env.pg)} {_with_password(replica)}"}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      env=worker_env) as lc, Client(lc) as client:
        yield Cluster("dask://" + lc.scheduler_address.removeprefix("tcp://"), client)


def _opts(env, tmp_path: Path, table: str, packages: list[str], **kw: Any) -> RunOptions:
    return RunOptions(target=env.ch, pg=env.pg, table=table, packages=packages,
                      state=tmp_path / f"state-{table}", progress=False, **kw)


def _session_outcome(env, table: str) -> list[list]:
    return [list(r) for r in ClickHouse(env.ch).query_rows(OUTCOME.format(table=table))]


def _dir_outcome(target: Path) -> list[list]:
    """The outcome of a chdb directory other than the session's, read in a child process."""
    code = ("import json, clickhouse_connect as c; "
            f"print(json.dumps(c.get_client(dsn='chdb://{target}').query("
            f"{OUTCOME.format(table='entityMetricEvents')!r}).result_rows))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.fixture(scope="module")
def reference(env, tmp_path_factory):
    """The outcome of a threads run of some packages into the session's chdb (made once)."""
    made: dict[tuple[str, ...], list[list]] = {}

    def get(packages: list[str]) -> list[list]:
        if tuple(packages) not in made:
            table = env.new_table("ref")
            Runner(_opts(env, tmp_path_factory.mktemp("ref"), table, packages)).run()
            made[tuple(packages)] = _session_outcome(env, table)
        return made[tuple(packages)]

    return get


def _dir_outcome_or_none(target: Path) -> list[list] | None:
    """``_dir_outcome``, or None when the directory holds no target table."""
    code = ("import clickhouse_connect as c; "
            f"print(c.get_client(dsn='chdb://{target}').command('EXISTS TABLE entityMetricEvents'))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return _dir_outcome(target) if r.stdout.strip() == "1" else None


def _run_args(env, target: Path, state: Path, *extra: str) -> list[str]:
    return [*CLI, "run", "--target", f"chdb://{target}", "--state", str(state), "--no-progress",
            *extra]


def _verify_dir(env, target: Path, packages: list[str], tmp_path: Path) -> dict:
    out = tmp_path / "verify.json"
    r = subprocess.run([*CLI, "verify", "--pg", env.pg, "--target", f"chdb://{target}",
                        "--packages", ",".join(packages), "--no-progress", "--json", str(out)],
                       capture_output=True, text=True)
    assert r.returncode in (0, 1), r.stderr
    return json.loads(out.read_text())


def _wait_for(what: Callable[[], Any], proc: subprocess.Popen, seconds: float = 60) -> Any:
    """``what()`` once it is truthy; fails if the child exits first or it takes too long."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        assert proc.poll() is None, proc.communicate()[1]
        time.sleep(0.02)
    raise AssertionError("timed out")


def _run_specs(dask_scheduler: Any) -> dict[str, bytes]:
    """On the scheduler: every task's run spec (function and arguments), pickled."""
    import cloudpickle

    return {str(key): cloudpickle.dumps(ts.run_spec) for key, ts in dask_scheduler.tasks.items()}


def _ledger_lines(state: Path) -> int:
    path = state / "ledger.jsonl"
    return path.read_bytes().count(b"\n") if path.exists() else 0


# ------------------------------------------------------------------------------------------
def test_every_package_on_dask_verifies_and_matches_threads(env, cluster, reference, tmp_path):
    names = list(all_packages())
    table = env.new_table("dask")
    report = Runner(_opts(env, tmp_path, table, names, batch_size=2000,
                          executor=cluster.executor)).run()
    assert report.complete
    result = verify_table(env, names, table, Window(cutoff=CUTOFF))
    assert result.ok, [(m.name, m.worst) for m in result.metrics if m.mismatches]
    assert _session_outcome(env, table) == reference(names)
    # Postgres batches ran on the workers; the ClickHouse packages (source = this chdb) here
    packages = all_packages()
    where = {b: p["worker"] for b, p in report.placements.items()}
    assert len(where) == report.batches_total
    on_workers = {b: w for b, w in where.items() if packages[b.split(":")[0]].source == "postgres"}
    assert all(w.startswith("tcp://") for w in on_workers.values())
    assert len(set(on_workers.values())) == 2
    assert all(w == "local" for b, w in where.items() if b not in on_workers)


def test_a_worker_killed_while_it_holds_a_batch_runs_it_elsewhere_exactly(
        env, cluster, reference, tmp_path):
    target, state, out = tmp_path / "ch", tmp_path / "state", tmp_path / "run.json"
    client = cluster.client
    with psycopg.connect(env.pg) as conn:
        # image_reaction's batches join Image and wait on this lock; its plan reads ImageReaction only
        conn.execute('LOCK TABLE "Image" IN ACCESS EXCLUSIVE MODE')
        proc = subprocess.Popen(
            _run_args(env, target, state, "--pg", _with_password(env.pg), "--executor",
                      cluster.executor, "--packages", "image_reaction", "--batch-size", "1000",
                      "--json", str(out)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        busy = _wait_for(lambda: [w for w, keys in client.processing().items() if keys], proc)
        specs = client.run_on_scheduler(_run_specs)
        assert any(b"backfill:***@" in s for s in specs.values())  # the source, named redacted
        assert not any(b"secret" in s for s in specs.values())
        victim = busy[0]
        pid = client.run(os.getpid)[victim]
        os.kill(pid, signal.SIGKILL)
        _wait_for(lambda: not _alive(pid), proc)
        conn.rollback()
    _stdout, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    doc = json.loads(out.read_text())
    assert doc["complete"] and len(doc["batches"]) == doc["batches_total"] > 2
    assert victim not in {b["worker"] for b in doc["batches"].values()}
    assert _dir_outcome(target) == reference(["image_reaction"])
    assert _verify_dir(env, target, ["image_reaction"], tmp_path)["ok"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_the_coordinator_killed_then_resume_on_the_same_cluster_is_exact(
        env, cluster, reference, tmp_path):
    target, state, out = tmp_path / "ch", tmp_path / "state", tmp_path / "run.json"
    args = _run_args(env, target, state, "--pg", _with_password(env.pg), "--executor",
                     cluster.executor, "--packages", ",".join(PG_PACKAGES), "--batch-size", "300")
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(lambda: _ledger_lines(state) >= 3, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    total = sum(len(p["batches"]) for p in json.loads((state / "plan.json").read_text())["packages"].values())
    assert _ledger_lines(state) < total, "the run finished before the kill; make it longer"
    r = subprocess.run([*args, "--resume", "--json", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    doc = json.loads(out.read_text())
    assert doc["complete"] and doc["plan"]["batches_done"] == total
    assert _dir_outcome(target) == reference(PG_PACKAGES)
    assert _verify_dir(env, target, PG_PACKAGES, tmp_path)["ok"]


def test_two_replicas_from_the_environment_share_the_batches_and_agree(
        env, cluster, replica, reference, tmp_path):
    target, out = tmp_path / "ch", tmp_path / "run.json"
    pgs = [_with_password(env.pg), _with_password(replica)]
    child_env = {**os.environ, "METRIC_BACKFILL_PG": " ".join(pgs)}
    # no credentials cross the wire: the workers hold the same variable
    r = subprocess.run(_run_args(env, target, tmp_path / "state", "--executor", cluster.executor,
                                 "--no-ship-credentials", "--packages", ",".join(PG_PACKAGES),
                                 "--batch-size", "500", "--json", str(out)),
                       capture_output=True, text=True, env=child_env)
    assert r.returncode == 0, r.stderr
    batches = json.loads(out.read_text())["batches"]
    redacted = [p.replace(":secret@", ":***@") for p in pgs]
    assert {b["pg"] for b in batches.values()} == set(redacted)
    assert all(b["pg"] == redacted[int(i.split(":")[1]) % 2] for i, b in batches.items())
    assert {b["worker"] for b in batches.values()} != {"local"}
    assert "secret" not in r.stderr + r.stdout
    assert _dir_outcome(target) == reference(PG_PACKAGES)


def test_threads_spread_batches_over_replicas_by_index(env, replica, reference, tmp_path):
    table = env.new_table("replicas")
    report = Runner(_opts(env, tmp_path, table, PG_PACKAGES, batch_size=700,
                          pg_replicas=[replica])).run()
    assert {p["pg"] for p in report.placements.values()} == {env.pg, replica}
    assert all(p["pg"] == [env.pg, replica][int(b.split(":")[1]) % 2]
               for b, p in report.placements.items())
    assert _session_outcome(env, table) == reference(PG_PACKAGES)


def test_a_threads_run_resumes_on_dask(env, cluster, reference, tmp_path):
    table = env.new_table("switch")
    first = Runner(_opts(env, tmp_path, table, PG_PACKAGES, batch_size=700, limit_batches=3)).run()
    assert first.batches_done == 3
    report = Runner(_opts(env, tmp_path, table, PG_PACKAGES, batch_size=700, resume=True,
                          executor=cluster.executor)).run()
    assert report.complete and report.plan_id == first.plan_id
    assert set(report.workers) - {"local"}
    assert _session_outcome(env, table) == reference(PG_PACKAGES)


def test_a_worker_without_the_credentials_stops_the_run_before_it_writes(env, cluster, tmp_path):
    # the workers' environment names this user, host and database only without the parameter
    # (with the same masked form, a worker uses its own password)
    pg = _with_password(env.pg, "hunter2x") + "?application_name=elsewhere"
    r = subprocess.run(_run_args(env, tmp_path / "ch", tmp_path / "state", "--executor",
                                 cluster.executor, "--no-ship-credentials", "--pg", pg,
                                 "--packages", "buzz_tip"), capture_output=True, text=True)
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "has no credentials for postgresql://backfill:***@" in r.stderr
    assert "hunter2x" not in r.stderr
    assert not (tmp_path / "state" / "ledger.jsonl").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


NO_DASK = """
import sys
sys.modules["distributed"] = None  # as on a machine without the [dask] extra
from metric_backfill.cli import main
sys.argv = ["metric-backfill", *sys.argv[1:]]
main()
"""


def test_no_scheduler_a_bad_executor_or_no_dask_is_exit_2_in_one_line(env, tmp_path):
    state = tmp_path / "state"
    base = ["run", "--pg", _with_password(env.pg), "--target", f"chdb://{tmp_path / 'ch'}",
            "--state", str(state), "--packages", "buzz_tip"]
    cases = {
        f"dask://127.0.0.1:{_free_port()}": "no Dask scheduler answers",
        "dask://127.0.0.1": "expected threads or dask://HOST:PORT",
        "ray://127.0.0.1:10001": "expected threads or dask://HOST:PORT",
    }
    for executor, message in cases.items():
        r = subprocess.run([*CLI, *base, "--executor", executor], capture_output=True, text=True)
        assert r.returncode == 2, (executor, r.stderr)
        assert r.stderr.startswith("error: ") and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert message in r.stderr and "secret" not in r.stderr
    r = subprocess.run([sys.executable, "-c", NO_DASK, *base, "--executor", "dask://127.0.0.1:8786"],
                       capture_output=True, text=True)
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip() == "error: --executor dask://… needs Dask: pip install 'metric-backfill[dask]'"
    assert not state.exists()


def test_the_product_imports_no_dask_unless_asked():
    assert imported_by_the_product(("dask", "distributed")) == []


def test_commands_but_run_read_the_first_of_several_pg(env, replica):
    from typer.testing import CliRunner

    from metric_backfill.cli import app

    several = {"METRIC_BACKFILL_PG": f"{_with_password(env.pg)} {_with_password(replica)}"}
    plan = CliRunner().invoke(app, ["plan", "--packages", "buzz_tip", "--target", env.ch, "--json"],
                              env=several)
    assert plan.exit_code == 0, plan.output
    assert json.loads(plan.stdout)["buzz_tip"]["rows"] > 0
    verify = CliRunner().invoke(app, ["verify", "--packages", "buzz_tip", "--target", env.ch,
                                      "--table", "no_such_table", "--no-progress"], env=several)
    assert verify.exit_code == 2 and "target table no_such_table does not exist" in verify.stderr


def _dask_cli(module: str, *args: str) -> subprocess.Popen:
    """Dask's own CLI, in a process group of its own (a worker's nannies start children)."""
    return _own_group([sys.executable, "-m", f"distributed.cli.{module}", *args])


def _own_group(cmd: list[str]) -> subprocess.Popen:
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


@contextlib.contextmanager
def _cli_cluster(scheduler: list[str], tmp_path: Path, *worker_args: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """A scheduler started by ``scheduler`` (with its port and scheduler file added) and workers
    by Dask's CLI; yields the scheduler's ``HOST:PORT`` and process, and kills both groups after."""
    sched_file = tmp_path / "scheduler.json"
    sched = _own_group([*scheduler, "--port", "0", "--no-dashboard", "--scheduler-file", str(sched_file)])
    workers = _dask_cli("dask_worker", "--scheduler-file", str(sched_file), "--no-dashboard", *worker_args)
    try:
        address = _wait_for(lambda: _address_in(sched_file), sched)
        yield address.removeprefix("tcp://"), sched
    finally:
        for p in (workers, sched):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def _address_in(sched_file: Path) -> str | None:
    """The address in Dask's scheduler file, once it is there whole (it is not written atomically)."""
    try:
        return json.loads(sched_file.read_text()).get("address")
    except (FileNotFoundError, ValueError):
        return None


def test_the_scheduler_lost_mid_run_ends_resumable_in_one_line(env, reference, tmp_path):
    """A scheduler and workers of their own (Dask's CLI), the scheduler SIGKILLed once batches
    were ledgered: the run ends soon, exit 1 with one error line saying what to do (no Dask log
    line, no attempt to reach the dead scheduler); the batches it ledgered stay, and a resume
    (with threads: the executor may change) finishes exactly."""
    with _cli_cluster(DASK_SCHEDULER, tmp_path, "--nworkers", "2", "--nthreads", "1") as (address, scheduler):
        target, state = tmp_path / "ch", tmp_path / "state"
        args = _run_args(env, target, state, "--pg", _with_password(env.pg), "--packages",
                         ",".join(PG_PACKAGES), "--batch-size", "200")
        proc = subprocess.Popen([*args, "--executor", f"dask://{address}"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _wait_for(lambda: _ledger_lines(state) >= 2, proc, seconds=120)
        scheduler.send_signal(signal.SIGKILL)
        _, stderr = proc.communicate(timeout=90)
        done = _ledger_lines(state)
        last = stderr.strip().splitlines()[-1]
        assert proc.returncode == 1 and last.startswith("error: lost the Dask scheduler"), stderr
        assert "--resume" in last and stderr.count("error") == 1, stderr  # no Dask log, no trace
        assert "could not remove" not in stderr and "secret" not in stderr, stderr
        r = subprocess.run([*args, "--resume", "--executor", "threads"], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        assert _ledger_lines(state) > done
        assert _dir_outcome(target) == reference(PG_PACKAGES)

def test_a_scheduler_lost_while_a_result_is_fetched_ends_the_run_too(env, reference, tmp_path):
    """The scheduler dies while it is asked where a finished batch's events are (its third such
    question): Dask's executor then leaves that batch's future pending for ever. The run must
    still end soon, exit 1 in one line, and a resume finish exactly."""
    scheduler = [sys.executable, "-c", SCHEDULER.format(setup=DIES_ANSWERING_WHO_HAS)]
    with _cli_cluster(scheduler, tmp_path, "--nworkers", "2", "--nthreads", "1") as (address, _):
        target, state = tmp_path / "ch", tmp_path / "state"
        args = _run_args(env, target, state, "--pg", _with_password(env.pg), "--packages",
                         ",".join(PG_PACKAGES), "--batch-size", "200")
        r = subprocess.run([*args, "--executor", f"dask://{address}"], capture_output=True,
                           text=True, timeout=120)
        last = r.stderr.strip().splitlines()[-1]
        assert r.returncode == 1 and last.startswith("error: lost the Dask scheduler"), r.stderr
        assert "--resume" in last and r.stderr.count("error") == 1, r.stderr
        r = subprocess.run([*args, "--resume", "--executor", "threads"], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        assert _dir_outcome(target) == reference(PG_PACKAGES)


def test_a_scheduler_lost_while_the_run_sets_up_ends_it_in_one_line(env, tmp_path):
    """The scheduler dies as the coordinator hands it the credentials plugin (before the
    preflight): one line saying the scheduler was lost and to resume, exit 1, not Dask's
    message about a closed stream."""
    scheduler = [sys.executable, "-c", SCHEDULER.format(setup=DIES_REGISTERING_A_PLUGIN)]
    with _cli_cluster(scheduler, tmp_path, "--nworkers", "2", "--nthreads", "1") as (address, _):
        args = _run_args(env, tmp_path / "ch", tmp_path / "state", "--pg", _with_password(env.pg),
                         "--packages", "buzz_tip")
        r = subprocess.run([*args, "--executor", f"dask://{address}"], capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == 1, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert r.stderr.startswith(f"error: lost the Dask scheduler at dask://{address}"), r.stderr
        assert "--resume" in r.stderr and "secret" not in r.stderr


def test_a_frozen_scheduler_lets_a_second_interrupt_end_the_run(env, tmp_path):
    """The scheduler stopped (SIGSTOP: its connections stay open, nothing answers): the first
    SIGINT waits for batches that cannot come back, the second must end the run at once, even
    though the plugins cannot be taken back from the scheduler."""
    with _cli_cluster(DASK_SCHEDULER, tmp_path, "--nworkers", "2", "--nthreads", "1") as (address, scheduler):
        state = tmp_path / "state"
        args = _run_args(env, tmp_path / "ch", state, "--pg", _with_password(env.pg), "--packages",
                         ",".join(PG_PACKAGES), "--batch-size", "200")
        proc = subprocess.Popen([*args, "--executor", f"dask://{address}"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _wait_for(lambda: _ledger_lines(state) >= 2, proc, seconds=120)
        scheduler.send_signal(signal.SIGSTOP)
        try:
            proc.send_signal(signal.SIGINT)
            time.sleep(2)
            proc.send_signal(signal.SIGINT)
            _, stderr = proc.communicate(timeout=30)
        finally:
            scheduler.send_signal(signal.SIGCONT)
        assert proc.returncode in (1, 130), stderr
        assert stderr.strip().splitlines()[-1].startswith("error: interrupted"), stderr
        assert "Traceback" not in stderr and "secret" not in stderr, stderr


SCHEDULER = """
import sys
{setup}
from distributed.cli.dask_scheduler import main
sys.argv = ["dask-scheduler", *sys.argv[1:]]
main()
"""
WITHOUT_THE_PRODUCT = 'sys.modules["metric_backfill"] = None  # as on a machine without metric-backfill'
OTHER_CODE = "import metric_backfill.cluster as c; c.code_version = lambda: '0123456789ab'"
DIES_REGISTERING_A_PLUGIN = """
import os, signal
from distributed.scheduler import Scheduler
async def register_worker_plugin(self, comm, plugin, name, *, idempotent):
    if name.endswith("-credentials"):  # the run's first plugin (the scheduler adds its own)
        os.kill(os.getpid(), signal.SIGKILL)
    return await register(self, comm, plugin, name, idempotent=idempotent)
register, Scheduler.register_worker_plugin = Scheduler.register_worker_plugin, register_worker_plugin
"""
DIES_ANSWERING_WHO_HAS = """
import os, signal
from distributed.scheduler import Scheduler
asked = []
def who_has(self, keys=None):
    asked.append(keys)
    if len(asked) == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    return answer(self, keys)
answer, Scheduler.get_who_has = Scheduler.get_who_has, who_has
"""


@pytest.mark.parametrize(("setup", "message"), [
    (WITHOUT_THE_PRODUCT, "cannot load metric-backfill (No module named 'metric_backfill"),
    (OTHER_CODE, "runs other metric-backfill code (0123456789ab)"),
], ids=["without-the-product", "other-code"])
def test_a_scheduler_without_the_product_is_exit_2_before_anything_is_written(
        env, tmp_path, setup, message):
    """The scheduler unpickles every task, so it needs the product too, the same code: found in
    the preflight (one line naming the scheduler, exit 2), not at the first batch after the
    table and the plan were made."""
    with _cli_cluster([sys.executable, "-c", SCHEDULER.format(setup=setup)], tmp_path,
                      "--nthreads", "1") as (address, _):
        target, state = tmp_path / "ch", tmp_path / "state"
        r = subprocess.run([*_run_args(env, target, state, "--pg", _with_password(env.pg),
                                       "--packages", "buzz_tip"), "--executor", f"dask://{address}"],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 2, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert r.stderr.startswith(f"error: the Dask scheduler at dask://{address} "), r.stderr
        assert message in r.stderr
        assert "secret" not in r.stderr
        assert not (state / "plan.json").exists() and not (state / "ledger.jsonl").exists()
        assert _dir_outcome_or_none(target) is None  # no target table either
