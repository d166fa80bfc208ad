"""A throwaway PostgreSQL server: Debian's PostgreSQL 15, initialised in a folder of the stack.

PostgreSQL refuses to run as root, so when we are root (CI, these machines) ``initdb`` and
``postgres`` run as the ``postgres`` system user through ``setpriv`` (which execs, so the PID we
hold is the server's own). Durability is switched off: the database is thrown away anyway.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from devstack.processes import ManagedProcess, free_port

#: Where Debian installs the PostgreSQL 15 server programs.
POSTGRES_BIN = Path(os.environ.get("SM_EVAL_POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))
DATABASE = "airflow"
USER = "airflow"
#: PostgreSQL's fast shutdown, if the process that started it dies.
_PARENT_DEATH_SIGNAL = "INT"


@dataclass
class PostgresServer:
    """A PostgreSQL server process listening on 127.0.0.1:``port`` with database and user ``airflow``."""

    process: ManagedProcess
    port: int

    @property
    def sync_url(self) -> str:
        return f"postgresql+psycopg2://{USER}@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def async_url(self) -> str:
        return f"postgresql+asyncpg://{USER}@127.0.0.1:{self.port}/{DATABASE}"


def start_postgres(folder: Path, log_folder: Path, timeout: float = 60.0) -> PostgresServer:
    """initdb into ``folder``, start the server on a free port, create the ``airflow`` database."""
    if not (POSTGRES_BIN / "initdb").exists():
        raise RuntimeError(
            f"PostgreSQL 15 is not installed at {POSTGRES_BIN} (Debian: apt-get install postgresql-15)"
        )
    folder.mkdir(parents=True, exist_ok=True)
    data, sockets = folder / "data", folder / "sockets"
    sockets.mkdir(exist_ok=True)
    run_as = _run_as_prefix(folder)
    # The server stops fast (SIGINT) if we die; as root, the signal is set after the user change,
    # which clears one set before it.
    server_prefix = _run_as_prefix(folder, parent_death_signal=_PARENT_DEATH_SIGNAL) if run_as else []
    subprocess.run(
        [*run_as, str(POSTGRES_BIN / "initdb"), "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
    )
    port = free_port()
    process = ManagedProcess(
        "postgres",
        [
            *server_prefix,
            str(POSTGRES_BIN / "postgres"),
            "-D",
            str(data),
            "-p",
            str(port),
            "-h",
            "127.0.0.1",
            "-k",
            str(sockets),
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "max_connections=300",
        ],
        env=os.environ,
        log_file=log_folder / "postgres.log",
        parent_death_signal=None if server_prefix else _PARENT_DEATH_SIGNAL,
    ).start()
    _wait_ready(process, port, timeout)
    subprocess.run(
        [*run_as, str(POSTGRES_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", USER, DATABASE],
        check=True,
        capture_output=True,
    )
    return PostgresServer(process, port)


def _run_as_prefix(folder: Path, parent_death_signal: str | None = None) -> list[str]:
    """Nothing when we are not root; else ``setpriv`` to the postgres user, who then owns ``folder``
    (with ``parent_death_signal`` as the parent-death signal, if given)."""
    if os.geteuid() != 0:
        return []
    user = pwd.getpwnam("postgres")
    shutil.chown(folder, user.pw_uid, user.pw_gid)
    for path in folder.rglob("*"):
        shutil.chown(path, user.pw_uid, user.pw_gid)
    parent = folder.parent
    parent.chmod(parent.stat().st_mode | 0o011)  # let the postgres user traverse the stack folder
    death = [f"--pdeathsig={parent_death_signal}"] if parent_death_signal else []
    return ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups", *death, "--"]


def _wait_ready(process: ManagedProcess, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.running():
            raise RuntimeError(f"postgres exited before accepting connections:\n{process.tail()}")
        ready = subprocess.run(
            [str(POSTGRES_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(port), "-U", USER],
            capture_output=True,
            check=False,
        )
        if ready.returncode == 0:
            return
        time.sleep(0.3)
    raise RuntimeError(f"postgres did not accept connections within {timeout:g} s:\n{process.tail()}")
