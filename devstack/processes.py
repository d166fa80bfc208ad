"""Child processes of the local stack: each in its own process group, logged to a file, stopped by PID.

Every process is started with ``start_new_session=True``, so its PID is also its process group
id: stopping (or killing) a component reaches the subprocesses it forked (Airflow's task
supervisors, the triggerer's runner, the API server's workers) and nothing else. Where
util-linux's ``setpriv`` exists, each is also started with a parent-death signal, so a stack
whose owner is killed (SIGKILL, a CI timeout, Ctrl-C of pytest-xdist) stops by itself.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

#: Of every stack process: what they create (logs, Airflow's home, task logs) is the owner's alone.
PRIVATE_UMASK = 0o077


def free_port() -> int:
    """A TCP port of 127.0.0.1 that is free right now (bound to 0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ManagedProcess:
    """One started command, its log file and its process group."""

    name: str
    command: Sequence[str]
    env: Mapping[str, str]
    log_file: Path
    cwd: Path | None = None
    #: Sent to the process when the process that started it dies (None: the command sets its own).
    parent_death_signal: str | None = "TERM"
    popen: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> ManagedProcess:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            self.popen = subprocess.Popen(
                [*die_with_parent(self.parent_death_signal), *self.command],
                env=dict(self.env),
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                umask=PRIVATE_UMASK,
            )
        return self

    @property
    def pid(self) -> int:
        if self.popen is None:
            raise RuntimeError(f"{self.name} was never started")
        return self.popen.pid

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def tree(self) -> list[psutil.Process]:
        """The leader and every live descendant, including those in process groups of their own
        (Airflow's task supervisors put each task process in a new group)."""
        if self.popen is None:
            return []
        try:
            leader = psutil.Process(self.pid)
            return [leader, *leader.children(recursive=True)]
        except psutil.Error:
            return []

    def signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signum)

    def kill(self) -> None:
        """SIGKILL the process group and every descendant, as a crash would, and reap the leader."""
        tree = self.tree()
        self.signal_group(signal.SIGKILL)
        _signal_all(tree, signal.SIGKILL)
        self._reap(10.0)

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM the group and the descendants; SIGKILL what is left after ``timeout`` seconds."""
        if self.popen is None:
            return
        tree = self.tree()
        self.signal_group(signal.SIGTERM)
        _signal_all(tree, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and (self.running() or _any_alive(tree) or self._group_alive()):
            time.sleep(0.2)
        self.signal_group(signal.SIGKILL)
        _signal_all(tree, signal.SIGKILL)
        self._reap(10.0)

    def _group_alive(self) -> bool:
        try:
            os.killpg(self.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def _reap(self, timeout: float) -> None:
        if self.popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=timeout)

    def tail(self, lines: int = 30) -> str:
        if not self.log_file.exists():
            return ""
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])


def die_with_parent(signal_name: str | None) -> list[str]:
    """A command prefix that makes the command receive ``signal_name`` when its parent dies.

    ``setpriv --pdeathsig`` sets the signal and execs, so the PID stays the command's. Empty
    without ``setpriv`` (not Linux) or without a signal.
    """
    if signal_name is None or shutil.which("setpriv") is None:
        return []
    return ["setpriv", f"--pdeathsig={signal_name}", "--"]


def _signal_all(processes: list[psutil.Process], signum: int) -> None:
    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.send_signal(signum)


def _any_alive(processes: list[psutil.Process]) -> bool:
    alive = False
    for process in processes:
        with contextlib.suppress(psutil.Error):
            alive = alive or (process.is_running() and process.status() != psutil.STATUS_ZOMBIE)
    return alive
