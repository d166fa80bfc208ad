"""The Celery profile's Redis broker is its owner's alone: a password for every command, 127.0.0.1
only, the password in a 0600 config file and in no command line, nothing written to disk."""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from devstack.redis import REDIS_SERVER, RedisServer, start_redis

#: ``stack``: it needs Debian's redis-server (`make stack-deps`).
pytestmark = [pytest.mark.stack, pytest.mark.xdist_group(__name__)]


@pytest.fixture(scope="module")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    if not os.access(REDIS_SERVER, os.X_OK):
        pytest.skip(f"Redis is not installed at {REDIS_SERVER}")
    folder = tmp_path_factory.mktemp("redis")
    server = start_redis(folder / "redis", folder / "logs")
    try:
        yield server
    finally:
        server.process.stop()


def _ask(port: int, command: bytes, host: str = "127.0.0.1") -> bytes:
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(command)
        return sock.recv(256)


@pytest.mark.hostile("stack")
def test_a_command_without_the_password_is_refused(redis: RedisServer) -> None:
    assert _ask(redis.port, b"KEYS *\r\n").startswith(b"-NOAUTH")
    assert _ask(redis.port, b"AUTH not-the-password\r\n").startswith(b"-WRONGPASS")
    assert _ask(redis.port, f"AUTH {redis.password}\r\n".encode()) == b"+OK\r\n"


@pytest.mark.hostile("stack")
def test_it_listens_on_127_0_0_1_only(redis: RedisServer) -> None:
    with pytest.raises(ConnectionRefusedError):
        _ask(redis.port, b"PING\r\n", host="127.0.0.2")
    listening = {
        (conn.laddr.ip, conn.laddr.port)
        for conn in psutil.Process(redis.process.pid).net_connections("inet")
        if conn.status == psutil.CONN_LISTEN
    }
    assert listening == {("127.0.0.1", redis.port)}


def test_the_password_is_in_a_private_file_only_and_nothing_is_persisted(redis: RedisServer) -> None:
    assert stat.S_IMODE(redis.config.stat().st_mode) == 0o600
    assert redis.password not in " ".join(psutil.Process(redis.process.pid).cmdline())
    assert redis.password not in redis.process.tail(1000)
    with socket.create_connection(("127.0.0.1", redis.port), timeout=5) as sock:
        sock.sendall(f"AUTH {redis.password}\r\nCONFIG GET save\r\nCONFIG GET appendonly\r\n".encode())
        answer = b""
        while answer.count(b"\r\n") < 11:
            answer += sock.recv(256)
    # No snapshot rule, no append-only file: a restart starts empty, as a lost broker host does.
    assert answer == b"+OK\r\n*2\r\n$4\r\nsave\r\n$0\r\n\r\n*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n"
    assert {path.name for path in Path(redis.config).parent.iterdir()} == {"redis.conf"}
