"""The ``metric-backfill`` command line (typer). Every option is also METRIC_BACKFILL_<NAME>."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from . import registry
from .defaults import (
    DEFAULT_CUTOFF,
    DEFAULT_EXCLUDED_VERSIONS,
    DEFAULT_STATE,
    DEFAULT_TABLE,
    default_params,
)
from .dsn import check_postgres_url, check_userinfo, register_passwords
from .entry import stops_as_interrupts
from .errors import BackfillError, UserError, first_line
from .events import Window

if TYPE_CHECKING:
    from .compare import AsOf, CompareReport
    from .engine import RunOptions, RunReport
    from .package import Package

app = typer.Typer(
    help="Backfill ClickHouse entityMetricEvents from Postgres (and ClickHouse) sources, "
    "columnar, exactly once, verified.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="The embedded Postgres (+ chdb) with synthetic Civitai-like data.",
                     no_args_is_help=True)
app.add_typer(db_app, name="db")
bench_app = typer.Typer(help="Measure the backfill on your own data.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")

_DEBUG = {"on": False}
_VERSIONS = ",".join(map(str, DEFAULT_EXCLUDED_VERSIONS))


def _env(name: str) -> str:
    return f"METRIC_BACKFILL_{name}"


PgList = Annotated[list[str] | None, typer.Option("--pg", envvar=_env("PG"), metavar="DSN", help="Source Postgres DSN; repeat it for read replicas holding the same data (run spreads batches over them; everything else uses the first). In the environment: space-separated.", show_default=False)]
Ch = Annotated[str | None, typer.Option("--ch", envvar=_env("CH"), help="Source ClickHouse DSN (default: the target).", show_default=False)]
TargetOpt = Annotated[str | None, typer.Option("--target", envvar=_env("TARGET"), help="Destination: chdb:///path or http(s)://user:pass@host:port/db (default: chdb under --state).", show_default=False)]
Table = Annotated[str, typer.Option("--table", envvar=_env("TABLE"), help="Destination table.")]
Cutoff = Annotated[str, typer.Option("--cutoff", envvar=_env("CUTOFF"), help="End of the window (exclusive), UTC.")]
Since = Annotated[str | None, typer.Option("--since", envvar=_env("SINCE"), help="Start of the window (inclusive), UTC; default: no lower bound.", show_default=False)]
Packages = Annotated[str | None, typer.Option("--packages", envvar=_env("PACKAGES"), help="Comma-separated package names (default: all).", show_default=False)]
Exclude = Annotated[str | None, typer.Option("--exclude-metrics", envvar=_env("EXCLUDE_METRICS"), help="Comma-separated Entity.metric names not to emit.", show_default=False)]
BatchSize = Annotated[int | None, typer.Option("--batch-size", envvar=_env("BATCH_SIZE"), help="Target source rows per batch (default: per package).", show_default=False)]
Concurrency = Annotated[int, typer.Option("--concurrency", envvar=_env("CONCURRENCY"), help="Batches in flight.")]
State = Annotated[Path, typer.Option("--state", envvar=_env("STATE"), help="State directory (plan + ledger).")]
Debug = Annotated[bool, typer.Option("--debug", envvar=_env("DEBUG"), help="Show tracebacks.")]
ProgressOpt = Annotated[bool, typer.Option("--progress/--no-progress", envvar=_env("PROGRESS"), help="Progress on stderr: bars on a terminal, else a line every --progress-interval seconds.")]
ProgressInterval = Annotated[float, typer.Option("--progress-interval", envvar=_env("PROGRESS_INTERVAL"), help="Seconds between progress lines when stderr is not a terminal.")]
ExcludeVersions = Annotated[str, typer.Option("--exclude-versions", envvar=_env("EXCLUDE_VERSIONS"), help="Model version ids left out of generationCount.")]


def parse_time(value: str, flag: str) -> datetime:
    """A UTC timestamp: 'YYYY-MM-DD[ HH:MM:SS[.fff]]', ISO 8601 with optional Z/offset."""
    text = value.strip().replace("Z", "+00:00")
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise UserError(f"{flag}: cannot parse {value!r} as a timestamp (e.g. 2024-08-07 15:44:39.044)") from None
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    if dt.microsecond % 1000:
        raise UserError(f"{flag}: {value!r} has sub-millisecond precision; the target keeps milliseconds")
    return dt


def _window(cutoff: str, since: str | None) -> Window:
    w = Window(cutoff=parse_time(cutoff, "--cutoff"), since=parse_time(since, "--since") if since else None)
    if w.since is not None and w.since >= w.cutoff:
        raise UserError("--since must be earlier than --cutoff")
    return w


def _split(text: str | None) -> list[str] | None:
    if not text:
        return None
    return [p.strip() for p in text.split(",") if p.strip()]


def _names(text: str | None, flag: str) -> list[str] | None:
    """A comma-separated list, None when the option is absent. Given but empty is an error:
    ``--packages "$PKGS"`` with an unset variable must not quietly mean every package."""
    names = _split(text)
    if text is None and os.environ.get(_env(flag.lstrip("-").replace("-", "_").upper())) == "":
        text = ""  # set but empty in the environment: as explicit as an empty flag
    if text is not None and not names:
        raise UserError(f"{flag} is an empty list; leave it out for the default")
    return names


def _target(target: str | None, state: Path) -> str:
    return target or f"chdb://{(state / 'chdb').resolve()}"


def _versions(text: str) -> list[int]:
    try:
        return sorted(int(v) for v in _split(text) or [])
    except ValueError:
        raise UserError(f"--exclude-versions: expected comma-separated integers, got {text!r}") from None


def _fail(e: BaseException) -> None:
    if _DEBUG["on"]:
        traceback.print_exc()
    code = getattr(e, "exit_code", 1)
    msg = first_line(e)
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(code)


def _listed(value: str | list[str] | None) -> list[str]:
    """An option given once or repeatable (``--pg``), as the list of its non-empty values."""
    values = [value] if isinstance(value, str) else value or []
    return [v for v in values if v]


def _first(pg: list[str] | None) -> str | None:
    """The first ``--pg``: what every command but ``run`` reads (replicas spread only batches)."""
    return next(iter(_listed(pg)), None)


def _from_environment(ctx: typer.Context, param: str) -> bool:
    """The option's value came from its environment variable, not the command line."""
    source = ctx.get_parameter_source(param)
    return source is not None and source.name == "ENVIRONMENT"


_ABORTED = "interrupted; continue with --resume"
"""What a run or load ended by an interrupt says (stderr, and ``run --json``)."""

_AS_PROGRAM = {"on": False}
"""Set by ``main``: this process is the command line itself, not a program calling its app."""


def _outcome_decided() -> None:
    """From here the outcome is only said and the process exits, where chdb's handlers close
    its files: an interrupt or a stop (SIGINT, SIGTERM) has nothing left to stop and would only
    break the exit (a traceback, or death by the signal instead of the exit code), so the
    command line ignores them; SIGKILL still ends a stuck exit. A program running the app in its
    own process (the tests) keeps its signals."""
    if _AS_PROGRAM["on"]:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)


def _exit_at_once(code: int) -> None:
    """An interrupt that ends a command (a second one during a run's drain, or any outside it)
    ends the command line at once, as a kill would: threads may still be inside chdb (a batch's
    insert, a verify query), and Python does not reliably wait for a thread whose join the
    interrupt broke, so chdb's exit would shut its tables under a running query (a message after
    the one line, at worst SIGSEGV). Everything durable is written atomically and ledgered only
    once acknowledged, so what a kill leaves a resume repairs."""
    if _AS_PROGRAM["on"]:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _interrupted(command: str) -> NoReturn:
    _outcome_decided()
    typer.echo("error: " + (_ABORTED if command in ("run", "load") else "interrupted"), err=True)
    _exit_at_once(130)
    raise typer.Exit(130)


def _an_interrupt(error: BaseException) -> bool:
    """An interrupt, or an error raised while one was on its way out: a second signal landing
    in Python's own threading code (a Condition's cleanup in ``as_completed``) turns the first
    one's KeyboardInterrupt into ``RuntimeError: release unlocked lock``."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt):
            return True
        seen = seen.__context__
    return False


def _guarded(fn: Callable[..., None]) -> Callable[..., None]:
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        _DEBUG["on"] = bool(kwargs.get("debug")) or _DEBUG["on"]
        dsns = [(flag, dsn) for flag in ("pg", "ch", "target") for dsn in _listed(kwargs.get(flag))]
        register_passwords(*(dsn for _, dsn in dsns))
        try:
            for flag, dsn in dsns:
                if flag == "pg":
                    check_postgres_url(dsn)
                check_userinfo(dsn, f"--{flag}")
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            _outcome_decided()
            raise
        except BackfillError as e:
            _outcome_decided()
            _fail(e)
        except KeyboardInterrupt:
            _interrupted(fn.__name__)
        except Exception as e:  # an unexpected failure: still one line, no password
            if _an_interrupt(e):
                _interrupted(fn.__name__)
            _outcome_decided()
            _fail(e)
        finally:
            _outcome_decided()

    return wrapper


# ----------------------------------------------------------------------------------------
@app.command("list")
@_guarded
def list_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    debug: Debug = False,
) -> None:
    """Packages, their sources, batching keys and the metrics each emits."""
    from .report import table

    pkgs = registry.all_packages().values()
    if as_json:
        doc = [
            {"package": p.name, "source": p.source, "tables": list(p.tables), "key": p.key,
             "metrics": list(p.metric_names)}
            for p in pkgs
        ]
        typer.echo(json.dumps(doc, indent=1))
        return
    rows = [[p.name, p.source, ", ".join(p.tables), p.key, len(p.metric_names), ", ".join(p.metric_names)] for p in pkgs]
    typer.echo(table(["package", "source", "tables", "key", "n", "metrics"], rows, right={4}))
    typer.echo(f"\n{len(rows)} packages, {len(registry.all_metrics())} distinct metrics")


def _options(**kw: Any) -> RunOptions:
    from .engine import RunOptions

    state: Path = kw.pop("state")
    pgs = _listed(kw.pop("pg"))
    return RunOptions(
        target=_target(kw.pop("target"), state),
        pg=pgs[0] if pgs else None,
        pg_replicas=pgs[1:],
        ch=kw.pop("ch"),
        table=kw.pop("table"),
        window=_window(kw.pop("cutoff"), kw.pop("since")),
        packages=_names(kw.pop("packages"), "--packages"),
        exclude_metrics=_names(kw.pop("exclude_metrics"), "--exclude-metrics") or [],
        params={"exclude_versions": _versions(kw.pop("exclude_versions"))},
        batch_size=kw.pop("batch_size"),
        concurrency=kw.pop("concurrency"),
        state=state,
        **kw,
    )


@app.command()
@_guarded
def plan(
    pg: PgList = None, ch: Ch = None, target: TargetOpt = None, table: Table = DEFAULT_TABLE,
    cutoff: Cutoff = str(DEFAULT_CUTOFF), since: Since = None, packages: Packages = None,
    exclude_metrics: Exclude = None, batch_size: BatchSize = None, concurrency: Concurrency = 2,
    state: State = Path(DEFAULT_STATE), exclude_versions: ExcludeVersions = _VERSIONS,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    debug: Debug = False,
) -> None:
    """Key ranges, batch counts and estimated rows per package; writes nothing."""
    from .clickhouse import is_chdb
    from .engine import Runner
    from .report import plan_table

    opts = _options(pg=pg, ch=ch, target=target, table=table, cutoff=cutoff, since=since,
                    packages=packages, exclude_metrics=exclude_metrics, batch_size=batch_size,
                    concurrency=concurrency, state=state, exclude_versions=exclude_versions)
    runner = Runner(opts)
    # a chdb target is a local path: opening it would create it, and plan writes nothing
    runner.check_connections(target=not is_chdb(opts.target))
    p = runner.make_plan()
    if as_json:
        typer.echo(json.dumps({name: {"key": pp.key, "rows": pp.rows, "batches": len(pp.batches)}
                               for name, pp in p.packages.items()}, indent=1))
    else:
        typer.echo(plan_table(p))


@app.command()
@_guarded
def run(
    pg: PgList = None, ch: Ch = None, target: TargetOpt = None, table: Table = DEFAULT_TABLE,
    cutoff: Cutoff = str(DEFAULT_CUTOFF), since: Since = None, packages: Packages = None,
    exclude_metrics: Exclude = None, batch_size: BatchSize = None, concurrency: Concurrency = 2,
    state: State = Path(DEFAULT_STATE), exclude_versions: ExcludeVersions = _VERSIONS,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the saved plan; skip ledgered batches.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Read and transform, write nothing.")] = False,
    limit_batches: Annotated[int | None, typer.Option("--limit-batches", help="Process at most N pending batches.", show_default=False)] = None,
    start_from: Annotated[int, typer.Option("--start-from", help="Skip the first N pending batches.")] = 0,
    parquet_dir: Annotated[Path | None, typer.Option("--parquet-dir", help="Also write each batch as Parquet here.", show_default=False)] = None,
    no_insert: Annotated[bool, typer.Option("--no-insert", help="With --parquet-dir: write only the audit files.")] = False,
    allow_existing: Annotated[bool, typer.Option("--allow-existing", help="Add events even if the target already has some for these metrics.")] = False,
    no_dedup_check: Annotated[bool, typer.Option("--no-dedup-check", help="Resume even if the target ignores insert tokens (may duplicate).")] = False,
    retries: Annotated[int, typer.Option("--retries", envvar=_env("RETRIES"), help="Retries per batch for transient errors.")] = 5,
    progress: ProgressOpt = True, progress_interval: ProgressInterval = 30.0,
    pushdown: Annotated[bool | None, typer.Option("--pushdown/--no-pushdown", help="ClickHouse packages as server-side INSERT … SELECT when source = target (default: whenever possible).", show_default=False)] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the run report here.", show_default=False)] = None,
    executor: Annotated[str, typer.Option("--executor", envvar=_env("EXECUTOR"), help="Where batches run: threads (this process), or dask://HOST:PORT (the workers of a Dask scheduler; this process plans, writes an embedded target and keeps the ledger).")] = "threads",
    ship_credentials: Annotated[bool, typer.Option("--ship-credentials/--no-ship-credentials", envvar=_env("SHIP_CREDENTIALS"), help="With Dask: send the DSNs to the workers once, in a worker plugin (never as task arguments); or let each worker read its own METRIC_BACKFILL_PG/TARGET/CH.")] = True,
    debug: Debug = False,
) -> None:
    """The backfill: plan, then read → transform → insert every batch exactly once."""
    from .engine import Runner
    from .report import run_summary

    opts = _options(pg=pg, ch=ch, target=target, table=table, cutoff=cutoff, since=since,
                    packages=packages, exclude_metrics=exclude_metrics, batch_size=batch_size,
                    concurrency=concurrency, state=state, exclude_versions=exclude_versions,
                    resume=resume, dry_run=dry_run, limit_batches=limit_batches,
                    start_from=start_from, parquet_dir=parquet_dir, no_insert=no_insert,
                    allow_existing=allow_existing, no_dedup_check=no_dedup_check, retries=retries,
                    progress=progress, progress_interval=progress_interval, pushdown=pushdown,
                    executor=executor, ship_credentials=ship_credentials)
    runner = Runner(opts)
    try:
        report = runner.run()
    except BaseException as e:
        if json_out:
            _write_failed_report(json_out, runner.report, e)
        raise
    if json_out:
        json_out.write_text(json.dumps(report.to_json(), indent=1))
    if not report.already_complete:
        typer.echo(run_summary(report))


def _write_failed_report(path: Path, report: RunReport | None, error: BaseException) -> None:
    """``run --json`` after a failure: what was done (if anything was), and why it stopped."""
    message = _ABORTED if _an_interrupt(error) else first_line(error)
    if report is None:
        doc: dict = {"complete": False, "error": message}
    else:
        report.error = message
        doc = report.to_json()
    path.write_text(json.dumps(doc, indent=1))


Metrics = Annotated[str | None, typer.Option("--metrics", envvar=_env("METRICS"), help="Comma-separated Entity.metric names to verify (default: every metric of the packages).", show_default=False)]


@app.command()
@_guarded
def verify(
    pg: PgList = None, ch: Ch = None, target: TargetOpt = None, table: Table = DEFAULT_TABLE,
    cutoff: Cutoff = str(DEFAULT_CUTOFF), since: Since = None, packages: Packages = None,
    metrics: Metrics = None, exclude_metrics: Exclude = None, state: State = Path(DEFAULT_STATE),
    exclude_versions: ExcludeVersions = _VERSIONS,
    concurrency: Annotated[int | None, typer.Option("--concurrency", envvar=_env("CONCURRENCY"), min=1, help="Source queries in flight (default: 2 into a ClickHouse server, 1 into chdb, which shares this process's memory).", show_default=False)] = None,
    sample_entities: Annotated[int | None, typer.Option("--sample-entities", envvar=_env("SAMPLE_ENTITIES"), min=1, help="Check about N entities per metric, the same ones every time (per-month sums then cover the sample).", show_default=False)] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the result here.", show_default=False)] = None,
    top: Annotated[bool, typer.Option("--top/--no-top", help="Also print the 5 largest entities per metric.")] = False,
    progress: ProgressOpt = True, progress_interval: ProgressInterval = 30.0,
    debug: Debug = False,
) -> None:
    """Expected sums (independent SQL over the sources) vs. the target, per entity and per month."""
    from .progress import Steps

    if json_out is not None:
        _check_writable(json_out, "--json")
        json_out.unlink(missing_ok=True)  # a verify that fails must not leave an earlier result
    args = VerifyArgs(
        pg=_first(pg), ch=ch, target=_target(target, state), table=table, window=_window(cutoff, since),
        packages=_names(packages, "--packages"), metrics=_names(metrics, "--metrics"),
        exclude=_names(exclude_metrics, "--exclude-metrics") or [], json_out=json_out, top=top,
        exclude_versions=_versions(exclude_versions), sample=sample_entities, concurrency=concurrency,
        progress=Steps(enabled=progress, interval=progress_interval),
    )
    try:
        ok = _verify(args)
    except BaseException as e:
        _write_error(json_out, e)
        raise
    if not ok:
        raise typer.Exit(1)


def _write_error(path: Path | None, error: BaseException) -> None:
    """A result file after a failure says so (``ok: false``, why): a script reading it never
    sees an earlier run's result."""
    if path is not None and not isinstance(error, typer.Exit):
        message = first_line(error)
        path.write_text(json.dumps({"ok": False, "error": message}, indent=1))


def _check_writable(path: Path, flag: str) -> None:
    """A result file that cannot be written is bad usage, found before hours of work."""
    parent = path.resolve().parent
    if path.is_dir() or not parent.is_dir() or not os.access(parent, os.W_OK):
        raise UserError(f"{flag}: cannot write {path} (a directory, or no writable directory)")


def _check_directory(path: Path, flag: str) -> None:
    """A directory to write files into: it exists and is writable, or can be made."""
    where = path if path.exists() else path.resolve().parent
    if not where.is_dir() or not os.access(where, os.W_OK):
        raise UserError(f"{flag}: cannot write into {path} (not a directory, or not writable)")


@dataclass(kw_only=True)
class CommandArgs:
    """What verify and compare are both given: the source, the target and what to check."""

    pg: str | None
    target: str
    table: str
    packages: list[str] | None = None
    metrics: list[str] | None = None
    json_out: Path | None = None
    progress: Any = None


@dataclass(kw_only=True)
class VerifyArgs(CommandArgs):
    ch: str | None
    window: Window
    exclude: list[str] = field(default_factory=list)
    top: bool = False
    exclude_versions: list[int] = field(default_factory=list)
    sample: int | None = None
    concurrency: int | None = None


def _verify(a: VerifyArgs) -> bool:
    from .clickhouse import ClickHouse
    from .preflight import check_connections
    from .report import top_entities, verify_table
    from .sources import ClickHouseSource, PostgresSource, source_for
    from .target import Target
    from .verify import verify as do_verify

    pkgs, names = _verify_selection(a.packages, a.metrics, a.exclude)
    pg_src = PostgresSource(a.pg) if a.pg else None
    ch_src = (ClickHouseSource(ClickHouse(a.ch or a.target))
              if any(p.source == "clickhouse" for p in pkgs) else None)
    sources = {p.name: source_for(p, pg_src, ch_src) for p in pkgs}
    tgt = Target(ClickHouse(a.target), a.table)
    check_connections(pg_src, {"--target": tgt.ch, **({"--ch": ch_src.ch} if ch_src and a.ch else {})})
    if not tgt.exists():
        raise UserError(f"target table {a.table} does not exist")
    report = do_verify(pkgs, sources, tgt, a.window, names,
                       {"exclude_versions": a.exclude_versions}, pg=pg_src, sample=a.sample,
                       progress=a.progress, concurrency=a.concurrency,
                       log=lambda line: typer.echo(line, err=True))
    typer.echo(verify_table(report))
    if a.top:
        typer.echo("")
        typer.echo(top_entities(report))
    if a.json_out:
        a.json_out.write_text(json.dumps(report.to_json(), indent=1))
    return report.ok


def _verify_selection(packages: list[str] | None, metrics: list[str] | None,
                      exclude: list[str]) -> tuple[list[Package], list[str]]:
    """The packages to read and the metrics to check: ``--metrics`` narrows both (every
    package feeding a named metric is read: User.reactionCount adds up several)."""
    pkgs = registry.select(packages)
    emitted = list(dict.fromkeys(m for p in pkgs for m in p.metric_names))
    if metrics:
        unknown = [m for m in metrics if m not in emitted]
        if unknown:
            raise UserError(f"--metrics: {', '.join(unknown)} not emitted by the packages selected; "
                            "see 'metric-backfill list'")
        emitted = [m for m in emitted if m in metrics]
        pkgs = [p for p in pkgs if set(p.metric_names) & set(emitted)]
    names = [m for m in emitted if m not in exclude]
    if not names:
        raise UserError("no metric left to verify: --exclude-metrics removes every metric selected")
    return pkgs, names


AsOfOpt = Annotated[str, typer.Option("--as-of", envvar=_env("AS_OF"), help="Which events count: row (those before each legacy row's updatedAt, NULL = the cutoff), cutoff, or a UTC timestamp.")]


@app.command("compare")
@_guarded
def compare_cmd(
    pg: PgList = None, target: TargetOpt = None, table: Table = DEFAULT_TABLE,
    cutoff: Cutoff = str(DEFAULT_CUTOFF), packages: Packages = None, metrics: Metrics = None,
    state: State = Path(DEFAULT_STATE), as_of: AsOfOpt = "row",
    max_drift: Annotated[float | None, typer.Option("--max-drift", envvar=_env("MAX_DRIFT"), min=0, help="Exit 1 when a metric without a by-design reason has more than PCT % of its entities unequal.", show_default=False)] = None,
    worst: Annotated[int, typer.Option("--worst", envvar=_env("WORST"), help="Entities with the largest difference listed per metric.")] = 10,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the result here.", show_default=False)] = None,
    png: Annotated[Path | None, typer.Option("--png", help="Write one histogram picture per entity type into this directory (needs matplotlib: the [plots] extra).", show_default=False)] = None,
    progress: ProgressOpt = True, progress_interval: ProgressInterval = 30.0,
    debug: Debug = False,
) -> None:
    """The legacy *Metric AllTime values against the sums of events, per metric; read-only."""
    from .compare import MAX_WORST
    from .progress import Steps

    if not 1 <= worst <= MAX_WORST:
        raise UserError(f"--worst must be between 1 and {MAX_WORST:,} (got {worst})")
    if png is not None:
        _need_plots()
        _check_directory(png, "--png")
    if json_out is not None:
        _check_writable(json_out, "--json")
        json_out.unlink(missing_ok=True)
    args = CompareArgs(pg=_first(pg), target=_target(target, state), table=table,
                       as_of=_as_of(as_of, parse_time(cutoff, "--cutoff")),
                       packages=_names(packages, "--packages"), metrics=_names(metrics, "--metrics"),
                       max_drift=max_drift, worst=worst, json_out=json_out, png=png,
                       progress=Steps(enabled=progress, interval=progress_interval))
    try:
        report = _compare(args)
    except BaseException as e:
        _write_error(json_out, e)
        raise
    if not report.ok:
        raise typer.Exit(1)


def _as_of(text: str, cutoff: datetime) -> AsOf:
    from .compare import AsOf

    if text in ("row", "cutoff"):
        return AsOf(text, cutoff)
    try:
        return AsOf("time", parse_time(text, "--as-of"))
    except UserError:
        raise UserError(f"--as-of: expected row, cutoff or a UTC timestamp "
                        f"(e.g. 2024-08-07 15:44:39.044), got {text!r}") from None


@dataclass(kw_only=True)
class CompareArgs(CommandArgs):
    as_of: AsOf
    max_drift: float | None = None
    worst: int = 10
    png: Path | None = None
    short: bool = False
    """Print the summary alone (the demo)."""


def _compare(a: CompareArgs) -> CompareReport:
    from .clickhouse import ClickHouse
    from .compare import compare
    from .preflight import check_connections
    from .report import compare_summary, compare_table
    from .sources import PostgresSource
    from .target import Target

    if not a.pg:
        raise UserError("compare needs --pg: the legacy *Metric tables are in Postgres")
    names, new = _compare_selection(a.packages, a.metrics)
    pg_src, tgt = PostgresSource(a.pg), Target(ClickHouse(a.target), a.table)
    check_connections(pg_src, {"--target": tgt.ch})
    if not tgt.exists():
        raise UserError(f"target table {a.table} does not exist")
    report = compare(pg_src, tgt, names, a.as_of, a.worst, a.progress,
                     log=lambda line: typer.echo(line, err=True))
    report.new_metrics, report.max_drift = new, a.max_drift
    typer.echo(compare_summary(report) if a.short else compare_table(report))
    if a.json_out:
        a.json_out.write_text(json.dumps(report.to_json(), indent=1))
    if a.png:
        from .charts import drift_charts

        for path in drift_charts(report, a.png):
            typer.echo(f"wrote {path}", err=True)
    return report


def _compare_selection(packages: list[str] | None, metrics: list[str] | None) -> tuple[list[str], list[str]]:
    """The metrics to compare (those with a legacy column) and the new ones selected."""
    from .legacy import legacy_column

    _, names = _verify_selection(packages, metrics, [])
    mapped = [m for m in names if legacy_column(m)]
    if not mapped:
        raise UserError("no metric selected has a legacy column (SPEC §6): nothing to compare")
    return mapped, [m for m in names if m not in mapped]


@app.command()
@_guarded
def load(
    parquet_dir: Annotated[Path, typer.Option("--parquet-dir", help="The --parquet-dir of an earlier run.")],
    target: TargetOpt = None, table: Table = DEFAULT_TABLE, state: State = Path(DEFAULT_STATE),
    resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted load.")] = False,
    allow_existing: Annotated[bool, typer.Option("--allow-existing", help="Load even if the target already has these metrics.")] = False,
    partial: Annotated[bool, typer.Option("--partial", help="Load the complete batches of an unfinished or inconsistent audit; say how many are missing.")] = False,
    no_dedup_check: Annotated[bool, typer.Option("--no-dedup-check", help="Resume even if the target ignores insert tokens (may duplicate).")] = False,
    retries: Annotated[int, typer.Option("--retries", envvar=_env("RETRIES"), help="Retries per file for transient errors.")] = 5,
    debug: Debug = False,
) -> None:
    """Insert exactly the Parquet files of a previous --parquet-dir run, exactly once."""
    from .load import load as do_load
    from .retry import RetryPolicy

    if retries < 0:
        raise UserError(f"--retries must be >= 0 (got {retries})")
    do_load(parquet_dir, _target(target, state), table, state / "load", resume, allow_existing,
            RetryPolicy(retries), partial=partial, no_dedup_check=no_dedup_check)


def _ints(text: str, flag: str) -> list[int]:
    try:
        values = [int(v) for v in _split(text) or []]
    except ValueError:
        raise UserError(f"{flag}: expected comma-separated integers, got {text!r}") from None
    if not values or min(values) <= 0:
        raise UserError(f"{flag}: expected positive integers, got {text!r}")
    return values


def _lab(module: str) -> Any:
    """A module of the lab (synthetic data, embedded Postgres, benchmarks): not part of a
    production install, so its absence is bad usage with the command that adds it."""
    import importlib

    try:
        return importlib.import_module(f"metric_backfill_lab.{module}")
    except ModuleNotFoundError as e:
        if not (e.name or "").startswith("metric_backfill_lab"):
            raise
        raise UserError("this command needs the lab: pip install 'metric-backfill[lab]'") from None


# ----------------------------------------------------------------------------------------
DirOpt = Annotated[Path, typer.Option("--dir", help="Directory holding pg/ (Postgres) and ch/ (chdb).")]
ScaleOpt = Annotated[float | None, typer.Option("--scale", help="Synthetic size: 1 ≈ 1 M source rows (default: 0.1 for a new --dir, else what it holds).", show_default=False)]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="Seed of the synthetic data (default: 42 for a new --dir, else what it holds).", show_default=False)]


def _db_up(dir_: Path, scale: float | None, seed: int | None) -> str:
    """Start the directory's Postgres, seeding it on first use (a directory seeded at another
    scale or seed than asked is refused: see ``metric_backfill_lab.seeded``)."""
    db = _lab("seeded").seed(dir_, scale=scale, seed=seed)
    if not db.reused:
        total = sum(db.rows.values())
        typer.echo(f"seeded {total:,} rows (scale {db.scale}, seed {db.seed}) in "
                   f"{db.seed_seconds:.1f} s ({total / max(db.seed_seconds, 1e-9):,.0f} rows/s)",
                   err=True)
    return db.pg


@db_app.command("up")
@_guarded
def db_up(dir: DirOpt = Path(".demo"), scale: ScaleOpt = None, seed: SeedOpt = None, debug: Debug = False) -> None:
    """Start (and on first use seed) the embedded Postgres; print its DSN on stdout."""
    typer.echo(_db_up(dir, scale, seed))


@db_app.command("down")
@_guarded
def db_down(dir: DirOpt = Path(".demo"), debug: Debug = False) -> None:
    """Stop the embedded Postgres."""
    stopped = _lab("seeded").stop(dir)
    typer.echo("stopped" if stopped else "not running", err=True)


@app.command()
@_guarded
def demo(
    dir: DirOpt = Path(".demo"), scale: ScaleOpt = None, seed: SeedOpt = None,
    packages: Packages = None, concurrency: Concurrency = 2, batch_size: BatchSize = None,
    keep: Annotated[bool, typer.Option("--keep", help="Leave Postgres running; print the DSNs.")] = False,
    debug: Debug = False,
) -> None:
    """Embedded Postgres + chdb, synthetic data, a full backfill, then verify."""
    seeded = _lab("seeded")
    from .clickhouse import ClickHouse
    from .engine import Runner, RunOptions
    from .report import run_summary

    names = _names(packages, "--packages")
    dir = dir.resolve()
    t0 = time.monotonic()
    dsn = _db_up(dir, scale, seed)
    target = f"chdb://{seeded.ch_path(dir)}"
    state = dir / "state"
    try:
        ClickHouse(target).command(f"DROP TABLE IF EXISTS `{DEFAULT_TABLE}`")
        shutil.rmtree(state, ignore_errors=True)
        window = Window(cutoff=DEFAULT_CUTOFF)
        opts = RunOptions(target=target, pg=dsn, window=window, packages=names,
                          concurrency=concurrency, batch_size=batch_size, state=state,
                          params=default_params(),
                          progress=True)
        report = Runner(opts).run()
        typer.echo(run_summary(report))
        typer.echo("")
        ok = _verify(VerifyArgs(pg=dsn, ch=None, target=target, table=DEFAULT_TABLE,
                                window=window, packages=names,
                                exclude_versions=list(DEFAULT_EXCLUDED_VERSIONS)))
        _demo_compare(dsn, target, names)
        typer.echo(f"\ndemo finished in {time.monotonic() - t0:.1f} s")
        if keep:
            typer.echo(f"postgres: {dsn}\ntarget:   {target}\nstop with: metric-backfill db down --dir {dir}")
    finally:
        if not keep:
            seeded.stop(dir)
    if not ok:
        raise typer.Exit(1)


def _demo_compare(dsn: str, target: str, packages: list[str] | None) -> None:
    """The demo's last word: how the backfilled values compare with the synthetic legacy
    tables (the summary line; ``metric-backfill compare`` shows the whole table)."""
    from .compare import AsOf
    from .legacy import legacy_column

    _, names = _verify_selection(packages, None, [])
    if any(legacy_column(m) for m in names):
        typer.echo("")
        _compare(CompareArgs(pg=dsn, target=target, table=DEFAULT_TABLE, packages=packages,
                             as_of=AsOf("row", DEFAULT_CUTOFF), short=True))


@bench_app.command("batch-sizes")
@_guarded
def bench_batch_sizes(
    ctx: typer.Context, pg: PgList = None, ch: Ch = None, packages: Packages = None,
    batch_sizes: Annotated[str, typer.Option("--batch-sizes", help="Comma-separated batch sizes to try.")] = "10000,30000,100000,300000",
    concurrency: Annotated[str, typer.Option("--concurrency", help="Comma-separated concurrencies to try.")] = "1,2,4",
    png: Annotated[Path | None, typer.Option("--png", help="Chart of events/s and peak RSS against batch size (needs matplotlib: the [plots] extra).", show_default=False)] = None,
    workdir: Annotated[Path | None, typer.Option("--dir", help="Keep each run's chdb target and state here (default: a temp dir, or SEEDED/sweep).", show_default=False)] = None,
    repeat: Annotated[int, typer.Option("--repeat", help="Runs per setting; the median is kept.")] = 1,
    seeded_dir: Annotated[Path | None, typer.Option("--seeded", help="Instead of --pg (and of METRIC_BACKFILL_PG): the embedded Postgres of this directory, seeded with synthetic data on first use (as db up).", show_default=False)] = None,
    scale: ScaleOpt = None, seed: SeedOpt = None,
    md: Annotated[Path | None, typer.Option("--md", help="Write the table, the machine and the recommendation here (markdown).", show_default=False)] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write every setting's figures here.", show_default=False)] = None,
    debug: Debug = False,
) -> None:
    """Sweep batch size × concurrency (each run into a throwaway chdb) and recommend a setting."""
    if seeded_dir is not None and _from_environment(ctx, "pg"):
        pg = None  # --seeded names the source; METRIC_BACKFILL_PG is only a default
    if (_first(pg) is None) == (seeded_dir is None):
        raise UserError("give the Postgres source: --pg DSN, or --seeded DIR (synthetic data)")
    if (scale is not None or seed is not None) and seeded_dir is None:
        raise UserError("--scale and --seed go with --seeded")
    if repeat <= 0:
        raise UserError(f"--repeat must be > 0 (got {repeat})")
    if png is not None:
        _need_plots()
    for path, flag in ((png, "--png"), (md, "--md"), (json_out, "--json")):
        if path is not None:
            _check_writable(path, flag)
    sweep = _lab("sweep")
    job = sweep.SweepJob(
        packages=_names(packages, "--packages"), batch_sizes=_ints(batch_sizes, "--batch-sizes"),
        concurrencies=_ints(concurrency, "--concurrency"), pg=_first(pg), ch=ch, seeded=seeded_dir,
        scale=scale, seed=seed, workdir=workdir, png=png, md=md, json=json_out, repeat=repeat,
        command=" ".join(["metric-backfill", *sys.argv[1:]]))
    sweep.batch_sizes(job, echo=typer.echo)


def _need_plots() -> None:
    """A chart needs matplotlib: refused before an hour of runs, not after."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise UserError("--png needs matplotlib: pip install 'metric-backfill[plots]'") from None


def main() -> None:
    os.environ.setdefault("TZ", "UTC")
    os.environ.setdefault("RUST_LOG", "off")
    _AS_PROGRAM["on"] = True
    stops_as_interrupts()  # already done by ``entry``; again for ``python -m``
    app()


if __name__ == "__main__":
    main()
