"""Batches on a Dask cluster: the same plan, ledger and loop, with a second executor.

The ``run`` process stays the coordinator: it plans, keeps at most ``--concurrency`` batches in
flight cluster-wide, and appends the ledger only after a batch's sinks acknowledged, exactly as
with threads. ``Client.get_executor()`` gives ``concurrent.futures`` futures, so the engine's
one ``wait`` covers these and its threads' alike. A batch travels as a ``BatchTask`` (plain
data) to ``run_task``, a module-level function: the Runner closes over locks and events and
does not pickle. A worker killed mid-batch has its task rerun elsewhere by the scheduler; the
batch's token makes a repeated insert a no-op, and the coordinator ledgers it once. A lost
scheduler ends the run: its tasks in flight are given up at once, unledgered, for a resume to
run again (Dask's executor can leave one pending for ever: a result being fetched then).

Credentials never travel as task arguments (Dask shows those in its dashboard and logs). A task
names its source and target by their redacted DSNs (``dsn.without_password``); a worker finds
the real ones in a plugin the coordinator registers once (``Credentials``, sent by the
scheduler to every worker, also to those that join later) or, with ``--no-ship-credentials``,
in its own environment: ``METRIC_BACKFILL_PG`` (space-separated), ``METRIC_BACKFILL_TARGET``,
``METRIC_BACKFILL_CH``. The lookups (ModelVersion → modelId) reach every worker once, in a
plugin too (``Lookups``), not with each task. Not as a scattered future that tasks take as an
argument: the scheduler then places a task by where its dependency lives, and queued it behind
a busy worker while the other idled (measured: 30 batches of 0.2–0.8 s at two in flight took
18–21 s with such a dependency, 13 s without).

A worker runs the code installed on it. Other code could read or insert a batch differently
under the same token, so a task carries a digest of the coordinator's code (``code_version``)
and a worker with other code refuses it.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import functools
import hashlib
import logging
import os
import secrets
import socket
import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from distributed import Client
from distributed.diagnostics.plugin import WorkerPlugin

from . import registry
from .batchrun import BatchResult, Events, read_and_explode, write_events
from .clickhouse import ClickHouse
from .dsn import parse_url, register_passwords, without_password
from .errors import RunFailed, UserError, first_line, redact
from .events import Window
from .package import Context, Package
from .plan import Batch
from .retry import RetryPolicy
from .sinks import ClickHouseSink
from .sources import ClickHouseSource, PostgresSource, Source
from .target import Target

CONNECT_TIMEOUT = 10.0
"""Seconds to reach the scheduler, and for it to have a worker, before exit 2."""
LOSS_CHECK = 1.0
"""Seconds between checks, while batches are in flight, that the scheduler is still there."""
CLOSE_TIMEOUT = 5.0
"""Seconds to take the plugins back and close the connection, at the end of a run."""
RESUME_AFTER_LOSS = "continue with --resume (the executor may change)"
"""What to do once the scheduler was lost, said at the end of the run's error."""

ENV_DSNS = ("PG", "TARGET", "CH")
"""``METRIC_BACKFILL_<NAME>`` variables a worker reads DSNs from (PG: space-separated)."""

_CREDENTIALS: dict[str, str] = {}
"""On a worker: redacted DSN → DSN, filled by the ``Credentials`` plugin."""
_LOOKUPS: dict[str, Context] = {}
"""On a worker: run id → the run's lookups and parameters, filled by the ``Lookups`` plugin."""
_CLICKHOUSE: dict[str, ClickHouse] = {}
"""On a worker: one ClickHouse per server, so its clients and known settings are reused."""
_LOCK = threading.Lock()


@functools.cache
def code_version() -> str:
    """A digest of the installed product and its transforms (file names and contents)."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for folder in (root, root / "transforms"):
        for path in sorted(folder.glob("*.py")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


@dataclass(frozen=True)
class BatchTask:
    """One batch as plain data: everything a worker needs but the lookups, and no secret."""

    run: str
    """Names the run's ``Lookups`` on the worker."""
    package: str
    batch: Batch
    window: Window
    exclude: frozenset[str]
    token: str
    source: str
    """The source's redacted DSN (for Postgres, the batch's replica)."""
    target: str | None
    """The redacted DSN of a server target the worker inserts into; None: it does not insert."""
    table: str
    deliver: bool
    """Without ``target``: hand the events back for the coordinator to write."""
    retries: int
    retry_wait: float
    version: str = field(default_factory=code_version)


def run_task(task: BatchTask) -> BatchResult | Events:
    """On a worker: read and transform one batch, then insert it or hand its events back."""
    from distributed import get_worker

    where = get_worker().address
    _check_version(task.version, where)
    with _LOCK:
        ctx = _LOOKUPS.get(task.run)
    if ctx is None:
        raise RunFailed(f"worker {where} has not received the lookups of this run; resume it")
    pkg = registry.all_packages()[task.package]
    policy = RetryPolicy(task.retries, task.retry_wait)
    events = read_and_explode(pkg, task.batch, _source(pkg, resolve(task.source, where)),
                              task.window, ctx, task.exclude, policy)
    events = Events(replace(events.result, worker=where), events.table)
    if task.target is not None:
        target = Target(_clickhouse(resolve(task.target, where)), task.table)
        return write_events(events, task.batch.id, task.token, [ClickHouseSink(target)], policy)
    return events if task.deliver else events.result


def _check_version(version: str, where: str) -> None:
    if version != code_version():
        raise UserError(
            f"worker {where} runs other metric-backfill code ({code_version()}) than the "
            f"coordinator ({version}): install the same version on every worker")


def _source(pkg: Package, dsn: str) -> Source:
    return PostgresSource(dsn) if pkg.source == "postgres" else ClickHouseSource(_clickhouse(dsn))


def _clickhouse(dsn: str) -> ClickHouse:
    with _LOCK:
        if dsn not in _CLICKHOUSE:
            _CLICKHOUSE[dsn] = ClickHouse(dsn)
        return _CLICKHOUSE[dsn]


def _environment() -> list[str]:
    env = os.environ.get
    return [*env("METRIC_BACKFILL_PG", "").split(),
            *(dsn for name in ENV_DSNS[1:] if (dsn := env(f"METRIC_BACKFILL_{name}", "").strip()))]


def resolve(name: str, where: str) -> str:
    """The DSN a task names by its redacted form: from the plugin, else from this worker's
    environment. A DSN without a password is its own name."""
    with _LOCK:
        shipped = list(_CREDENTIALS.values())
    for dsn in [*shipped, *_environment()]:
        if without_password(dsn) == name:
            register_passwords(dsn)  # this worker's messages hide it too
            return dsn
    if "***" not in name:
        return name
    raise UserError(
        f"worker {where} has no credentials for {name}: run without --no-ship-credentials, or "
        "set METRIC_BACKFILL_PG (space-separated), METRIC_BACKFILL_TARGET or METRIC_BACKFILL_CH "
        "in the worker's environment")


class Credentials(WorkerPlugin):
    """The DSNs, held on each worker for tasks to find by their redacted form."""

    def __init__(self, dsns: list[str]) -> None:
        self.dsns = list(dsns)

    def setup(self, worker: Any) -> None:
        with _LOCK:
            _CREDENTIALS.update({without_password(dsn): dsn for dsn in self.dsns})

    def teardown(self, worker: Any) -> None:
        with _LOCK:
            for dsn in self.dsns:
                _CREDENTIALS.pop(without_password(dsn), None)


class Lookups(WorkerPlugin):
    """A run's lookups and parameters, held on each worker for its tasks."""

    def __init__(self, run: str, ctx: Context) -> None:
        self.run, self.ctx = run, ctx

    def setup(self, worker: Any) -> None:
        with _LOCK:
            _LOOKUPS[self.run] = self.ctx

    def teardown(self, worker: Any) -> None:
        with _LOCK:
            _LOOKUPS.pop(self.run, None)


def check_worker(names: list[str], version: str, dask_worker: Any = None) -> list[str]:
    """On a worker, before the first batch: what would fail its batches (other code, a package
    that does not load, missing credentials, a source or target it cannot reach), one line each."""
    where = dask_worker.address if dask_worker is not None else "?"
    try:
        _check_version(version, where)
        registry.all_packages()  # imported now, beside the coordinator's preflight
    except UserError as e:
        return [str(e)]
    problems = []
    for name in names:
        try:
            dsn = resolve(name, where)
        except UserError as e:
            problems.append(str(e))
            continue
        url = parse_url(dsn)
        try:
            if url is not None and url.scheme.lower().startswith("postgres"):
                PostgresSource(dsn).ping()
            else:
                _clickhouse(dsn).ping("from a worker")
        except UserError as e:
            problems.append(f"worker {where}: {e}")
    return problems


class _QuietConnectionLoss(logging.Filter):
    """Drops the tracebacks Dask logs when a connection closes under it (its executor's fetch
    of a result, its batched sends): the run reports the loss itself, in one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        while error is not None:  # the connection error, or what it caused
            if isinstance(error, OSError):  # Dask's CommClosedError is one
                return False
            error = error.__cause__ or error.__context__
        return True


_QUIET_CONNECTION_LOSS = _QuietConnectionLoss()
_DASK_LOG_OUTPUTS = ("distributed", "distributed.client", "tornado", "tornado.application")
"""The loggers Dask's logging configuration gives a handler of their own (not propagating)."""


def _quiet_connection_loss() -> None:
    for name in _DASK_LOG_OUTPUTS:
        for handler in logging.getLogger(name).handlers:
            handler.addFilter(_QUIET_CONNECTION_LOSS)  # once: a handler keeps one of each


def _direct_to_workers() -> bool:
    """Events a worker returns come straight from it, not relayed through the scheduler (one
    copy and one hop less per batch), unless Dask's configuration says otherwise: a coordinator
    that cannot reach the workers sets ``DASK_DISTRIBUTED__CLIENT__DIRECT_TO_WORKERS=false``."""
    import dask

    configured = dask.config.get("distributed.client.direct-to-workers", None)
    return True if configured is None else bool(configured)


def _shown(address: str) -> str:
    """A scheduler's ``tcp://`` address as ``--executor`` names it."""
    return "dask://" + address.removeprefix("tcp://")


@dataclass
class Cluster:
    """The coordinator's connection to a Dask scheduler, and what it set up there."""

    client: Client
    address: str
    log: Callable[[str], None]
    executor: cf.Executor = field(init=False)
    run: str = field(default_factory=lambda: f"metric-backfill-{secrets.token_hex(6)}")
    """This run's id on the cluster: its plugins are named after it."""
    plugins: list[str] = field(default_factory=list)
    checks: cf.Future | None = None
    """The scheduler's and the workers' problems (``_problems``), found beside the coordinator's
    preflight."""
    submitted: weakref.WeakSet[cf.Future] = field(default_factory=weakref.WeakSet)
    """The futures of this run's tasks (those not yet given up)."""
    dropped: bool = False
    """A request to the scheduler failed on its connection (the client may not know yet)."""

    def __post_init__(self) -> None:
        # not pure: a task has side effects (an insert), and equal tasks are not to be merged
        self.executor = self.client.get_executor(pure=False)
        _quiet_connection_loss()

    @classmethod
    def connect(cls, address: str, log: Callable[[str], None]) -> Cluster:
        """A scheduler that answers and has a worker within ``CONNECT_TIMEOUT``, else exit 2."""
        shown = _shown(address)
        host, _, port = address.removeprefix("tcp://").rpartition(":")
        try:  # a refused port is refused at once; Dask's own connect would retry until its timeout
            socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT).close()
            client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False,
                            direct_to_workers=_direct_to_workers())
        except Exception as e:  # OSError, a timeout, or a server that is no Dask scheduler
            reason = first_line(e)
            raise UserError(f"--executor {shown}: no Dask scheduler answers ({reason})") from None
        try:
            client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
        except Exception:
            client.close()
            raise UserError(f"--executor {shown}: the scheduler has no worker after "
                            f"{CONNECT_TIMEOUT:.0f} s; start some with dask worker {address}") from None
        return cls(client, address, log)

    def prepare(self, dsns: list[str], ship: bool) -> None:
        """The DSNs shipped in a plugin (or left to the workers' environment), and the checks of
        the scheduler and every worker started: they run while this process checks its own side
        (``ready``)."""
        if ship and dsns:
            self._register(Credentials(dsns), "credentials")
        names = [without_password(dsn) for dsn in dsns]
        pool = cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix="dask-check")
        self.checks = pool.submit(self._problems, names)
        pool.shutdown(wait=False)

    def ready(self) -> None:
        """Before the first write: the scheduler and every worker passed their checks, else
        exit 2 naming the first that did not."""
        if self.checks is None:
            return
        problems, workers = self.checks.result()
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise UserError(problems[0] + more)
        self.log(f"dask: {workers} worker(s) at {self.shown}")

    def _problems(self, names: list[str]) -> tuple[list[str], int]:
        """What would fail the batches, one line each, and the number of workers. The scheduler
        first: it unpickles every task, so it needs the product (the same code) as well."""
        try:
            with self._asking():
                theirs = self.client.run_on_scheduler(code_version)
        except RunFailed:
            raise
        except Exception as e:
            reason = first_line(e)
            return [f"the Dask scheduler at {self.shown} cannot load metric-backfill ({reason}): "
                    "install it there too, the same version as here"], 0
        if theirs != code_version():
            return [f"the Dask scheduler at {self.shown} runs other metric-backfill code ({theirs}) "
                    f"than the coordinator ({code_version()}): install the same version there"], 0
        with self._asking():
            found = self.client.run(check_worker, names, code_version(), on_error="return")
        return [line for where, r in found.items() for line in (
            r if isinstance(r, list) else [f"worker {where} cannot run metric-backfill ({r}): "
                                           "install it on every worker"])], len(found)

    def start(self, ctx: Context) -> None:
        """The lookups, sent to every worker once (and to workers that join later)."""
        self._register(Lookups(self.run, ctx), "lookups")

    def _register(self, plugin: WorkerPlugin, what: str) -> None:
        name = f"{self.run}-{what}"
        with self._asking():
            self.client.register_plugin(plugin, name=name)
        self.plugins.append(name)

    @contextlib.contextmanager
    def _asking(self) -> Iterator[None]:
        """A request to the scheduler: a connection lost under it ends the run in one line
        (Dask's own says a stream closed, naming a connection pool)."""
        try:
            yield
        except OSError:  # Dask's CommClosedError, or a reconnection that timed out
            self.dropped = True
            raise RunFailed(f"{self._lost}; {RESUME_AFTER_LOSS}") from None

    def submit(self, task: BatchTask) -> cf.Future:
        future = self.executor.submit(run_task, task)
        self.submitted.add(future)
        return future

    def give_up_if_lost(self, inflight: dict[cf.Future, Any]) -> str | None:
        """If the scheduler is lost (``lost``), its tasks are taken out of ``inflight`` at once:
        Dask cancels them, but one whose events were being fetched can stay pending for ever.
        They are not ledgered; a resume runs them again under their tokens."""
        lost = self.lost()
        if lost is not None:
            for future in [f for f in inflight if f in self.submitted]:
                del inflight[future]
        return lost

    @property
    def shown(self) -> str:
        return _shown(self.address)

    def lost(self) -> str | None:
        """What happened, if the connection to the scheduler was lost: the client then cancels
        every task it had submitted, and the run can only end."""
        if self.client.status in ("running", "newly-created"):
            return None
        return self._lost

    @property
    def _lost(self) -> str:
        return f"lost the Dask scheduler at {self.shown}"

    def close(self) -> None:
        """Credentials and lookups taken back from the workers, the connection closed; never
        raises (it runs after the run's own outcome, which must not be masked), and waits at
        most ``CLOSE_TIMEOUT`` for a scheduler that does not answer (stopped, or cut off).
        Without a scheduler they cannot be taken back (each try would wait out a connect
        timeout): they stay in the memory of workers that outlive it, until those restart."""
        lost = self.dropped or self.lost() is not None
        if lost:  # said in the run's error; closing cancels Dask's reconnection, which it logs
            for logger in ("distributed", "distributed.client"):
                logging.getLogger(logger).setLevel(logging.CRITICAL)
        closing = threading.Thread(target=self._take_back, args=([] if lost else self.plugins,),
                                   name="dask-close", daemon=True)
        closing.start()
        closing.join(CLOSE_TIMEOUT)
        if closing.is_alive():
            self.log(f"note: dask: the scheduler at {self.shown} did not answer within "
                     f"{CLOSE_TIMEOUT:.0f} s: this run's plugins stay on its workers until they restart")

    def _take_back(self, plugins: list[str]) -> None:
        for name in plugins:
            try:
                self.client.unregister_worker_plugin(name)
            except Exception as e:
                self.log(f"note: dask: could not remove the plugin {name}: {redact(str(e))}")
        try:
            self.client.close()
        except Exception as e:
            self.log(f"note: dask: closing the connection failed: {redact(str(e))}")
