"""A throwaway Redis server: Debian's ``redis-server``, the Celery broker of the stack's Celery profile.

It listens on 127.0.0.1 only (no unix socket), keeps nothing on disk (no RDB snapshot, no AOF:
a restart loses what was queued, as a broker host that is lost does) and needs a random password
for every command. The password is in the server's config file and in ``url`` only, both the
stack's (0600 file, environment of its own processes): never on a command line.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from devstack.processes import ManagedProcess, free_port

#: Debian's Redis server (``apt-get install redis-server``).
REDIS_SERVER = Path(os.environ.get("SM_EVAL_REDIS_SERVER", "/usr/bin/redis-server"))


@dataclass
class RedisServer:
    """A Redis server process on 127.0.0.1:``port`` with password ``password`` (see the module docstring)."""

    process: ManagedProcess
    port: int
    password: str
    config: Path

    @property
    def url(self) -> str:
        """The broker URL (``redis://``) of Celery, password included: keep it out of logs."""
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    def restart(self, timeout: float = 30.0) -> None:
        """SIGKILL the server (its queues are lost: nothing is persisted) and start it again on its port."""
        self.process.kill()
        self.process.start()
        _wait_ready(self, timeout)


def start_redis(folder: Path, log_folder: Path, timeout: float = 30.0) -> RedisServer:
    """Write a private config into ``folder`` and start ``redis-server`` on a free port of 127.0.0.1."""
    if not os.access(REDIS_SERVER, os.X_OK):
        raise RuntimeError(f"Redis is not installed at {REDIS_SERVER} (Debian: apt-get install redis-server)")
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    password = secrets.token_urlsafe(32)
    port = free_port()
    config = folder / "redis.conf"
    descriptor = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(
            "\n".join(
                [
                    "bind 127.0.0.1",
                    f"port {port}",
                    "protected-mode yes",
                    f"requirepass {password}",
                    'save ""',
                    "appendonly no",
                    f"dir {folder}",
                    "daemonize no",
                    "databases 1",
                    "",
                ]
            )
        )
    process = ManagedProcess(
        "redis", [str(REDIS_SERVER), str(config)], env=os.environ, log_file=log_folder / "redis.log"
    ).start()
    server = RedisServer(process, port, password, config)
    _wait_ready(server, timeout)
    return server


def _wait_ready(server: RedisServer, timeout: float) -> None:
    """Wait until the server answers an authenticated PING (raw RESP: no client library needed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not server.process.running():
            raise RuntimeError(f"redis-server exited before accepting connections:\n{server.process.tail()}")
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=2) as sock:
                sock.sendall(f"AUTH {server.password}\r\nPING\r\n".encode())
                answer = b""
                while answer.count(b"\r\n") < 2:
                    chunk = sock.recv(256)
                    if not chunk:
                        break
                    answer += chunk
            if answer == b"+OK\r\n+PONG\r\n":
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"redis-server did not answer within {timeout:g} s:\n{server.process.tail()}")
