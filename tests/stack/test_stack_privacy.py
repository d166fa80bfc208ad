"""The local stack is its owner's: folders nobody else can enter, a database that wants its password.

Runs after every other stack test (marker ``stack_audit``), so every folder Airflow made is checked.
"""

from __future__ import annotations

import os
import stat
import subprocess

import pytest

from devstack import AirflowStack
from devstack.postgres import DATABASE, POSTGRES_BIN, USER
from tests.stack.conftest import SharedRun

pytestmark = [pytest.mark.stack, pytest.mark.stack_audit]


@pytest.mark.hostile("stack")
def test_every_folder_of_the_stack_is_its_owners_alone(
    airflow_stack: AirflowStack, shared_runs: dict[str, SharedRun]
) -> None:
    top = airflow_stack.folder
    folders = [path for path in top.rglob("*") if path.is_dir()]
    assert any(path.name == "task-logs" for path in folders) and any(path.name == "logs" for path in folders)
    not_private = {str(path): oct(stat.S_IMODE(path.stat().st_mode)) for path in folders}
    not_private = {path: mode for path, mode in not_private.items() if mode != oct(0o700)}
    assert not not_private, f"folders others may enter: {not_private}"
    mode = stat.S_IMODE(top.stat().st_mode)
    if os.geteuid() == 0:  # only the postgres user's group may traverse it, to its own folder
        assert (mode, top.stat().st_gid) == (0o710, (top / "postgres").stat().st_gid)
    else:
        assert mode == 0o700


@pytest.mark.hostile("stack")
def test_its_database_refuses_a_connection_without_the_password(airflow_stack: AirflowStack) -> None:
    assert airflow_stack.postgres is not None
    postgres = airflow_stack.postgres
    command = [str(POSTGRES_BIN / "psql"), "-w", "-h", "127.0.0.1", "-p", str(postgres.port), "-U", USER]
    command += ["-d", DATABASE, "-tAc", "SELECT 1"]
    env = {"PATH": os.environ["PATH"], "PGCONNECT_TIMEOUT": "10"}
    refused = subprocess.run(
        command,
        env={**env, "PGPASSFILE": os.devnull},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert refused.returncode != 0
    assert "no password supplied" in refused.stderr
    owner = subprocess.run(
        command, env={**env, **postgres.client_env()}, capture_output=True, text=True, check=False, timeout=60
    )
    assert (owner.returncode, owner.stdout.strip()) == (0, "1"), owner.stderr
    password = postgres.passfile.read_text().strip().rsplit(":", 1)[1]
    for name, value in airflow_stack.environment().items():
        assert password not in value, name
    logs = [path for path in airflow_stack.folder.rglob("*.log") if path.is_file()]
    assert logs
    assert not [str(path) for path in logs if password.encode() in path.read_bytes()]
