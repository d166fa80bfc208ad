"""A process that starts the emulator or a stack component and is then killed leaves nothing running.

The owner is a separate Python process here, SIGKILLed as a CI timeout or a pytest-xdist
interrupt would kill a test worker: no ``finally`` block runs, so only the children's own
safeguards (stdin EOF for the emulator, the parent-death signal for the stack's processes) can
stop them.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import psutil
import pytest

REPO = Path(__file__).resolve().parents[2]


def owner_of(script: str) -> tuple[subprocess.Popen[str], int]:
    """Run ``script`` in a new Python process; return it and the PID of the child it prints."""
    owner = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert owner.stdout is not None
    line = owner.stdout.readline()
    assert line.strip().isdigit(), f"the owner printed {line!r}"
    return owner, int(line)


def wait_gone(pid: int, timeout: float = 30) -> bool:
    """Whether ``pid`` has exited within ``timeout`` (a zombie waiting for init counts as gone)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.2)
    return False


def kill_owner_and_check(owner: subprocess.Popen[str], child: int) -> None:
    try:
        assert psutil.pid_exists(child)
        owner.kill()
        owner.wait(timeout=30)
        assert wait_gone(child), f"process {child} outlived the process that started it"
    finally:
        if psutil.pid_exists(child):
            os.kill(child, signal.SIGKILL)


def test_an_emulator_child_process_stops_when_its_owner_is_killed() -> None:
    owner, emulator = owner_of(
        """
        import time
        from sagemaker_eval_emulator.child_process import emulator_process
        with emulator_process(step_seconds=0.05, quiet=True) as emulator:
            print(emulator.pid, flush=True)
            time.sleep(600)
        """
    )
    kill_owner_and_check(owner, emulator)


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs util-linux's setpriv (Linux)")
def test_a_stack_process_stops_when_its_owner_is_killed(tmp_path: Path) -> None:
    owner, child = owner_of(
        f"""
        import os, time
        from pathlib import Path
        import psutil
        from devstack.processes import ManagedProcess
        process = ManagedProcess("sleeper", ["sleep", "600"], os.environ, Path({str(tmp_path)!r}) / "s.log")
        process.start()
        # setpriv sets the parent-death signal, then execs sleep: once it is sleep, the signal is set.
        while psutil.Process(process.pid).name() != "sleep":
            time.sleep(0.01)
        print(process.pid, flush=True)
        time.sleep(600)
        """
    )
    kill_owner_and_check(owner, child)


@pytest.mark.stack
@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs util-linux's setpriv (Linux)")
def test_the_stack_postgres_stops_when_its_owner_is_killed() -> None:
    from devstack.postgres import POSTGRES_BIN

    if not (POSTGRES_BIN / "postgres").exists():
        pytest.skip(f"PostgreSQL 15 is not installed at {POSTGRES_BIN}")
    # Under /tmp, as the stack's folder: as root, the postgres user must traverse its parents.
    with tempfile.TemporaryDirectory(prefix="sm-eval-orphan-") as folder:
        owner, postgres = owner_of(
            f"""
            import time
            from pathlib import Path
            from devstack.postgres import start_postgres
            folder = Path({folder!r})
            print(start_postgres(folder / "postgres", folder / "logs").process.pid, flush=True)
            time.sleep(600)
            """
        )
        kill_owner_and_check(owner, postgres)


@pytest.mark.stack
@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs util-linux's setpriv (Linux)")
def test_the_stack_redis_stops_when_its_owner_is_killed(tmp_path: Path) -> None:
    from devstack.redis import REDIS_SERVER

    if not os.access(REDIS_SERVER, os.X_OK):
        pytest.skip(f"Redis is not installed at {REDIS_SERVER}")
    owner, redis = owner_of(
        f"""
        import time
        from pathlib import Path
        from devstack.redis import start_redis
        folder = Path({str(tmp_path)!r})
        print(start_redis(folder / "redis", folder / "logs").process.pid, flush=True)
        time.sleep(600)
        """
    )
    kill_owner_and_check(owner, redis)


def test_pytest_killed_leaves_no_xdist_worker_nor_its_emulator(tmp_path: Path) -> None:
    """A CI timeout may kill the controlling pytest process only: its workers see their channel
    close, stop their test and tear down what it started."""
    pids = tmp_path / "pids"
    (tmp_path / "test_sleeps.py").write_text(
        textwrap.dedent(
            f"""
            import os, time
            from sagemaker_eval_emulator.child_process import emulator_process

            def test_sleeps():
                with emulator_process(step_seconds=0.05, quiet=True) as emulator:
                    with open({str(pids)!r}, "w") as file:
                        file.write(f"{{os.getpid()}} {{emulator.pid}}")
                    time.sleep(600)
            """
        )
    )
    controller = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-n",
            "1",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            "-c",
            os.devnull,
            str(tmp_path),
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not (pids.exists() and pids.read_text()):
            assert time.monotonic() < deadline, "the worker never started the emulator"
            time.sleep(0.2)
        worker, emulator = map(int, pids.read_text().split())
        controller.kill()
        controller.wait(timeout=30)
        assert wait_gone(worker), "the xdist worker outlived the pytest process that started it"
        assert wait_gone(emulator), "the worker's emulator outlived it"
    finally:
        controller.kill()
        for pid in map(int, pids.read_text().split() if pids.exists() else ()):
            if psutil.pid_exists(pid):
                os.kill(pid, signal.SIGKILL)
