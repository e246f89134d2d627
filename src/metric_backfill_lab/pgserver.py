"""An embedded Postgres cluster under a directory, for the demo, the tests and benchmarks.

Postgres refuses to run as root, so when we are root the cluster is owned and run by an
unprivileged user (``postgres``, created if missing). The server listens on 127.0.0.1 only,
on a free port, with Unix sockets disabled: the DSN is a plain TCP URL that every client
(ConnectorX included) accepts.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from metric_backfill.errors import UserError

DB_USER = "backfill"
DB_NAME = "civitai"
RUN_AS = "postgres"


@dataclass(frozen=True)
class Cluster:
    """Where a cluster lives: ``root/pg`` (possibly a link to a directory the server user can reach)."""

    root: Path

    @property
    def data(self) -> Path:
        return self.root / "pg"

    @property
    def port_file(self) -> Path:
        return self.root / "pg.port"

    def dsn(self, port: int) -> str:
        return f"postgresql://{DB_USER}@127.0.0.1:{port}/{DB_NAME}"


def bindir() -> Path:
    """Server binaries: ``pg_config --bindir`` if it has initdb, else the newest Debian layout."""
    candidates: list[Path] = []
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        if out.returncode == 0:
            candidates.append(Path(out.stdout.strip()))
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True
    )
    candidates += [Path(p) for p in versions]
    for c in candidates:
        if (c / "initdb").exists() and (c / "pg_ctl").exists():
            return c
    raise UserError(
        "no Postgres server binaries found (initdb/pg_ctl); install the 'postgresql' package"
    )


def _as_root() -> bool:
    return os.geteuid() == 0


def _server_user() -> pwd.struct_passwd | None:
    """The unprivileged account that runs the server when we are root; None otherwise."""
    if not _as_root():
        return None
    try:
        return pwd.getpwnam(RUN_AS)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", RUN_AS],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(RUN_AS)


def _run(args: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    user = _server_user()
    kwargs: dict = {}
    if user is not None:
        kwargs = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    env = {**os.environ, "LC_ALL": "C", "TZ": "UTC"}
    if user is not None:
        env["HOME"] = str(cwd)
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, env=env, **kwargs)
    if check and proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise UserError(f"{Path(args[0]).name} failed: {' / '.join(tail)}")
    return proc


def _reachable_by_server_user(path: Path) -> bool:
    user = _server_user()
    if user is None:
        return True
    probe = subprocess.run(
        ["test", "-x", str(path)], user=user.pw_uid, group=user.pw_gid, extra_groups=[]
    )
    return probe.returncode == 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _initdb(cluster: Cluster) -> None:
    cluster.root.mkdir(parents=True, exist_ok=True)
    user = _server_user()
    if _reachable_by_server_user(cluster.root):
        cluster.data.mkdir()
        target = cluster.data
    else:
        # e.g. a 0700 pytest temp dir under root: keep the cluster where the server user can
        # reach it and link it in, so DIR/pg still names it.
        target = Path(tempfile.mkdtemp(prefix="metric-backfill-pg-"))
        os.chmod(target, 0o700)
        cluster.data.symlink_to(target)
    if user is not None:
        os.chown(target, user.pw_uid, user.pw_gid)
    _run(
        [str(bindir() / "initdb"), "-D", str(target), "-U", DB_USER, "--auth=trust",
         "-E", "UTF8", "--locale=C", "--no-sync"],
        cwd=target,
    )


def is_running(cluster: Cluster) -> bool:
    if not (cluster.data / "PG_VERSION").exists():
        return False
    proc = _run([str(bindir() / "pg_ctl"), "-D", str(cluster.data.resolve()), "status"],
                cwd=cluster.data.resolve(), check=False)
    return proc.returncode == 0


def running_port(cluster: Cluster) -> int | None:
    if is_running(cluster) and cluster.port_file.exists():
        return int(cluster.port_file.read_text().strip())
    return None


def start(root: Path) -> tuple[str, bool]:
    """Start (initialising if needed) the cluster under ``root``; return (DSN, created)."""
    cluster = Cluster(root.resolve())
    port = running_port(cluster)
    if port is not None:
        return cluster.dsn(port), False
    created = not (cluster.data / "PG_VERSION").exists()
    if created:
        if cluster.data.exists() or cluster.data.is_symlink():
            raise UserError(f"{cluster.data} exists but is not a Postgres cluster")
        _initdb(cluster)
    data = cluster.data.resolve()
    port = free_port()
    opts = (
        f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
        "-c max_connections=100 -c shared_buffers=256MB -c work_mem=64MB "
        "-c maintenance_work_mem=256MB -c max_wal_size=4GB -c TimeZone=UTC"
    )
    _run([str(bindir() / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(data / "server.log"),
          "-w", "-t", "60", "start"], cwd=data)
    cluster.port_file.write_text(str(port))
    if created:
        _create_database(cluster, port)
    return cluster.dsn(port), created


def _create_database(cluster: Cluster, port: int) -> None:
    import psycopg

    admin = f"postgresql://{DB_USER}@127.0.0.1:{port}/postgres"
    for attempt in range(50):
        try:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{DB_NAME}"')
            return
        except psycopg.OperationalError:
            if attempt == 49:
                raise
            time.sleep(0.1)


def stop(root: Path) -> bool:
    """Stop the cluster under ``root``; True if it was running."""
    cluster = Cluster(root.resolve())
    if not is_running(cluster):
        return False
    data = cluster.data.resolve()
    _run([str(bindir() / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], cwd=data)
    return True


def restart(root: Path) -> str:
    """Restart on the same port (used by fault-injection tests)."""
    cluster = Cluster(root.resolve())
    port = running_port(cluster)
    if port is None:
        return start(root)[0]
    data = cluster.data.resolve()
    _run([str(bindir() / "pg_ctl"), "-D", str(data), "-m", "fast", "-l", str(data / "server.log"),
          "-w", "-t", "60", "restart"], cwd=data)
    return cluster.dsn(port)


def destroy(root: Path) -> None:
    """Stop the cluster and delete its data, including a directory ``root/pg`` links to."""
    stop(root)
    data = Cluster(root.resolve()).data
    if data.is_symlink():
        shutil.rmtree(data.resolve(), ignore_errors=True)
        data.unlink()
    else:
        shutil.rmtree(data, ignore_errors=True)
