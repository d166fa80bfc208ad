"""The emulator's WSGI application under its own server and under two production WSGI servers.

The question (issue 17): can cheroot or waitress replace ``keep_alive.py`` (werkzeug's development
server kept open between requests)? Each server here serves the same application, the emulator's,
with its request guard, and is asked what the emulator promises its clients:

- keep-alive: two requests answered on one connection;
- speed: ListPipelines calls per second of one boto3 client (median of ``--rounds``);
- an oversized body (a 200 MiB PutObject, over the 64 MiB S3 limit), with and without
  ``Expect: 100-continue``: the guard answers 413 before any of the body is read, and sends no
  ``100 Continue`` (the client must not send the body).

cheroot and waitress are not dependencies: run it in a throwaway virtualenv that has them::

    .venv/bin/uv venv /tmp/wsgi && .venv/bin/uv pip install --python /tmp/wsgi/bin/python \\
        -c constraints.txt ./emulator cheroot waitress
    /tmp/wsgi/bin/python benchmarks/wsgi_servers.py
"""

from __future__ import annotations

import argparse
import socket
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.metadata import version
from typing import Any

import boto3
from botocore.config import Config

from sagemaker_eval_emulator.server import ACCESS_KEY_ID, SECRET_ACCESS_KEY, EvaluationEmulator

CRLF = b"\r\n"
LIST_PIPELINES = (
    "POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Amz-Target: SageMaker.ListPipelines\r\n"
    "Content-Type: application/x-amz-json-1.1\r\nAuthorization: AWS4-HMAC-SHA256 "
    "Credential=AKID/20260101/us-east-1/sagemaker/aws4_request, SignedHeaders=host, Signature=0\r\n"
    "Content-Length: 2\r\n\r\n{{}}"
)


def _answer(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, body = data.split(b"\r\n\r\n", 1)
    length = next(int(h.split(b":")[1]) for h in head.split(CRLF) if h.lower().startswith(b"content-length"))
    while len(body) < length:
        body += sock.recv(65536)
    return head


def keep_alive(port: int) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        answered = 0
        for _ in range(2):
            sock.sendall(LIST_PIPELINES.format(port=port).encode())
            answered += _answer(sock).startswith(b"HTTP/1.1 200")
    return f"{answered}/2 on one connection"


def calls_per_second(port: int, calls: int, rounds: int) -> str:
    client = boto3.client(
        "sagemaker",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
        config=Config(retries={"max_attempts": 1}),
    )
    client.list_pipelines()
    rates = []
    for _ in range(rounds):
        started = time.monotonic()
        for _ in range(calls):
            client.list_pipelines()
        rates.append(calls / (time.monotonic() - started))
    return f"{statistics.median(rates):.0f} calls/s"


def oversized_put(port: int, expect: bool) -> str:
    """The first line the server sends within 3 s for a 200 MiB PutObject whose body is never sent."""
    head = f"PUT /bucket/key HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {200 * 1024 * 1024}\r\n"
    head += "Expect: 100-continue\r\n\r\n" if expect else "\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=3) as sock:
        sock.sendall(head.encode())
        try:
            first = sock.recv(65536).split(CRLF, 1)[0].decode()
        except TimeoutError:
            first = "nothing within 3 s (waiting for the body)"
    return first or "connection closed"


@contextmanager
def cheroot_server(app: Callable[..., Any]) -> Iterator[int]:
    from cheroot import wsgi

    server = wsgi.Server(("127.0.0.1", 0), app, numthreads=10)
    server.prepare()
    threading.Thread(target=server.serve, daemon=True).start()
    try:
        yield int(server.bind_addr[1])
    finally:
        server.stop()


@contextmanager
def waitress_server(app: Callable[..., Any]) -> Iterator[int]:
    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=10)
    threading.Thread(target=server.run, daemon=True).start()
    try:
        yield int(server.effective_port)
    finally:
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with EvaluationEmulator(port=0) as emulator:
        app = emulator._server.app  # type: ignore[union-attr]  # the guarded application the emulator serves
        for name, serve in (
            (f"werkzeug {version('werkzeug')} + keep_alive.py", None),
            (f"cheroot {version('cheroot')}", cheroot_server),
            (f"waitress {version('waitress')}", waitress_server),
        ):
            with serve(app) if serve else _own(emulator.port) as port:
                print(
                    f"{name}: keep-alive {keep_alive(port)}; ListPipelines "
                    f"{calls_per_second(port, args.calls, args.rounds)}; 200 MiB PUT with Expect: "
                    f"{oversized_put(port, True)!r}; without: {oversized_put(port, False)!r}",
                    flush=True,
                )


@contextmanager
def _own(port: int) -> Iterator[int]:
    yield port


if __name__ == "__main__":
    main()
