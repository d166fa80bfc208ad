"""The local stack's PostgreSQL is its owner's alone: a password (scram-sha-256) for every connection,
no ``trust`` line, 127.0.0.1 and a socket in a 0700 folder only, folders nobody else can enter."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from devstack.postgres import DATABASE, POSTGRES_BIN, USER, PostgresServer, start_postgres

#: ``stack``: it starts PostgreSQL; one pytest-xdist worker runs the module (one server for it).
pytestmark = [pytest.mark.stack, pytest.mark.xdist_group(__name__)]

AS_ROOT = os.geteuid() == 0
#: Another local user, who knows where the stack is (its folder and port) but not its password.
AS_NOBODY = ("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--")


@pytest.fixture(scope="module")
def stack_folder() -> Iterator[tuple[Path, PostgresServer]]:
    if not (POSTGRES_BIN / "postgres").exists():
        pytest.skip(f"PostgreSQL 15 is not installed at {POSTGRES_BIN}")
    # Under /tmp, as the stack's folder is: as root, the postgres user must traverse its parents.
    folder = Path(tempfile.mkdtemp(prefix="sm-eval-pg-private-"))
    try:
        server = start_postgres(folder / "postgres", folder / "logs")
        try:
            yield folder, server
        finally:
            server.process.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def psql(
    server: PostgresServer, sql: str, *, env: dict[str, str], as_nobody: bool = False
) -> subprocess.CompletedProcess[str]:
    """``psql`` over TCP to the server (as user ``nobody`` when ``as_nobody``); never prompts."""
    return subprocess.run(
        [
            *(AS_NOBODY if as_nobody else ()),
            str(POSTGRES_BIN / "psql"),
            "-w",
            "-h",
            "127.0.0.1",
            "-p",
            str(server.port),
            "-U",
            USER,
            "-d",
            DATABASE,
            "-tAc",
            sql,
        ],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], "PGCONNECT_TIMEOUT": "10", **env},
        timeout=60,
        check=False,
    )


def password_of(server: PostgresServer) -> str:
    return server.passfile.read_text().strip().rsplit(":", 1)[1]


@pytest.mark.hostile("stack")
def test_a_connection_without_the_password_is_refused(stack_folder: tuple[Path, PostgresServer]) -> None:
    _, server = stack_folder
    refused = psql(server, "SELECT 1", env={"PGPASSFILE": os.devnull})
    assert refused.returncode != 0
    assert "no password supplied" in refused.stderr
    wrong = psql(server, "SELECT 1", env={"PGPASSWORD": "not-the-password"})
    assert wrong.returncode != 0
    assert "password authentication failed" in wrong.stderr


@pytest.mark.hostile("stack")
@pytest.mark.skipif(not AS_ROOT or shutil.which("setpriv") is None, reason="needs root and setpriv")
def test_another_local_user_gets_neither_a_connection_nor_the_password(
    stack_folder: tuple[Path, PostgresServer],
) -> None:
    folder, server = stack_folder
    over_tcp = psql(server, "SELECT 1", env={"PGPASSFILE": str(server.passfile)}, as_nobody=True)
    assert over_tcp.returncode != 0
    assert "no password supplied" in over_tcp.stderr or "Permission denied" in over_tcp.stderr
    sockets = folder / "postgres" / "sockets"
    over_socket = subprocess.run(
        [*AS_NOBODY, "ls", str(sockets)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert over_socket.returncode != 0
    assert "Permission denied" in over_socket.stderr


def test_the_owner_connects_with_the_password_file(stack_folder: tuple[Path, PostgresServer]) -> None:
    _, server = stack_folder
    answer = psql(
        server,
        "SELECT current_setting('listen_addresses') || ' ' || "
        "(SELECT count(*) FROM pg_hba_file_rules WHERE auth_method <> 'scram-sha-256')",
        env=server.client_env(),
    )
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.strip() == "127.0.0.1 0"  # no trust (nor any other method) line
    assert "password" not in server.sync_url + server.async_url
    assert password_of(server) not in server.sync_url + server.async_url


@pytest.mark.hostile("stack")
def test_its_folders_are_the_owners_alone(stack_folder: tuple[Path, PostgresServer]) -> None:
    folder, server = stack_folder
    postgres = folder / "postgres"
    for path in [postgres, *(p for p in postgres.rglob("*") if p.is_dir())]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    assert stat.S_IMODE(server.passfile.stat().st_mode) == 0o600
    top = folder.stat()
    if AS_ROOT:  # the postgres user's group may traverse to its folder, nobody else may enter
        assert (stat.S_IMODE(top.st_mode), top.st_gid) == (0o710, postgres.stat().st_gid)
    else:
        assert stat.S_IMODE(top.st_mode) == 0o700


@pytest.mark.hostile("stack")
def test_the_password_is_in_no_command_line_nor_log(stack_folder: tuple[Path, PostgresServer]) -> None:
    folder, server = stack_folder
    password = password_of(server)
    assert not (folder / "postgres" / "initdb-password").exists()
    for process in [
        psutil.Process(server.process.pid),
        *psutil.Process(server.process.pid).children(recursive=True),
    ]:
        assert password not in " ".join(process.cmdline())
    assert password not in (folder / "logs" / "postgres.log").read_text()
