"""A throwaway PostgreSQL server: Debian's PostgreSQL 15, initialised in a folder of the stack.

PostgreSQL refuses to run as root, so when we are root (CI, these machines) ``initdb`` and
``postgres`` run as the ``postgres`` system user through ``setpriv`` (which execs, so the PID we
hold is the server's own). Durability is switched off: the database is thrown away anyway.

Other local users get nothing: the server listens on 127.0.0.1 and on a unix socket in its 0700
folder only, and every connection needs the ``airflow`` role's password (scram-sha-256; no
``trust`` line in ``pg_hba.conf``). The password is random per server and lives only in
``PostgresServer.passfile`` (0600), which clients read through ``PGPASSFILE`` (``client_env``):
it is in no connection URL, command line or log.
"""

from __future__ import annotations

import os
import pwd
import secrets
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
#: Who may connect, and how: the airflow role with its password, over 127.0.0.1 or the socket.
PG_HBA = """\
# TYPE  DATABASE  USER  ADDRESS        METHOD
local   all       all                  scram-sha-256
host    all       all   127.0.0.1/32   scram-sha-256
"""


@dataclass
class PostgresServer:
    """A PostgreSQL server process listening on 127.0.0.1:``port`` with database and user ``airflow``.

    The URLs carry no password: clients find it in ``passfile`` through ``client_env``.
    """

    process: ManagedProcess
    port: int
    #: The password file (libpq's format, 0600) that psycopg2 and asyncpg read through PGPASSFILE.
    passfile: Path

    @property
    def sync_url(self) -> str:
        return f"postgresql+psycopg2://{USER}@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def async_url(self) -> str:
        return f"postgresql+asyncpg://{USER}@127.0.0.1:{self.port}/{DATABASE}"

    def client_env(self) -> dict[str, str]:
        """What a client's environment needs to log in (libpq and asyncpg both read PGPASSFILE)."""
        return {"PGPASSFILE": str(self.passfile)}


def start_postgres(folder: Path, log_folder: Path, timeout: float = 60.0) -> PostgresServer:
    """initdb into ``folder``, start the server on a free port, create the ``airflow`` database."""
    if not (POSTGRES_BIN / "initdb").exists():
        raise RuntimeError(
            f"PostgreSQL 15 is not installed at {POSTGRES_BIN} (Debian: apt-get install postgresql-15)"
        )
    folder.mkdir(parents=True, exist_ok=True)
    data, sockets = folder / "data", folder / "sockets"
    sockets.mkdir(exist_ok=True)
    for private in (folder, sockets):
        private.chmod(0o700)
    password = secrets.token_urlsafe(32)
    initdb_password = _private_file(folder / "initdb-password", password + "\n")
    passfile = _private_file(folder / "pgpass", f"*:*:*:{USER}:{password}\n")
    run_as = _run_as_prefix(folder)
    # The server stops fast (SIGINT) if we die; as root, the signal is set after the user change,
    # which clears one set before it.
    server_prefix = _run_as_prefix(folder, parent_death_signal=_PARENT_DEATH_SIGNAL) if run_as else []
    try:
        subprocess.run(
            [
                *run_as,
                str(POSTGRES_BIN / "initdb"),
                *("-D", str(data), "-U", USER, "-E", "UTF8"),
                *("--auth=scram-sha-256", f"--pwfile={initdb_password}"),
            ],
            check=True,
            capture_output=True,
        )
    finally:
        initdb_password.unlink()
    (data / "pg_hba.conf").write_text(PG_HBA)  # initdb's file, which it made (0600) as the server's user
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
            "-c",
            "unix_socket_permissions=0700",
        ],
        env=os.environ,
        log_file=log_folder / "postgres.log",
        parent_death_signal=None if server_prefix else _PARENT_DEATH_SIGNAL,
    ).start()
    server = PostgresServer(process, port, passfile)
    _wait_ready(process, port, timeout)
    subprocess.run(
        [*run_as, str(POSTGRES_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", USER, DATABASE],
        check=True,
        capture_output=True,
        env={**os.environ, **server.client_env()},
    )
    return server


def _private_file(path: Path, text: str) -> Path:
    """``path`` with ``text``, readable by its owner only from the start (no window at 0644)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    return path


def _run_as_prefix(folder: Path, parent_death_signal: str | None = None) -> list[str]:
    """Nothing when we are not root; else ``setpriv`` to the postgres user, who then owns ``folder``
    (with ``parent_death_signal`` as the parent-death signal, if given)."""
    if os.geteuid() != 0:
        return []
    user = pwd.getpwnam("postgres")
    shutil.chown(folder, user.pw_uid, user.pw_gid)
    for path in folder.rglob("*"):
        shutil.chown(path, user.pw_uid, user.pw_gid)
    # The postgres user (its group) may traverse the stack folder to its own; nobody else may enter.
    parent = folder.parent
    os.chown(parent, -1, user.pw_gid)
    parent.chmod(0o710)
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
