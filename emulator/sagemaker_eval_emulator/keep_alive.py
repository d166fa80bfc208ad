"""HTTP/1.1 keep-alive for the emulator's werkzeug server, as AWS endpoints keep connections open.

werkzeug's development server answers every request with ``Connection: close``, because
``http.server`` cannot find the next request line when the application left part of a request
body unread (and werkzeug drains the socket after each response). This handler keeps the
connection open instead: a request body is read through a stream limited to its Content-Length,
whatever the application left of it is read after the response, and werkzeug's drain is kept
from reading the next request. Clients pool connections against the emulator as they
do against AWS (no TCP connect per call). A connection idle for ``IDLE_SECONDS`` is closed, and
the server can close every open connection when it stops. A request whose declared body exceeds
its limit (``guard``) gets no ``100 Continue`` and its connection is closed after the 413, so
none of that body is read.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any
from urllib.parse import urlsplit

from moto.moto_server.werkzeug_app import MotoRequestHandler
from werkzeug.wsgi import LimitedStream

from sagemaker_eval_emulator.guard import declared_too_large

#: Seconds an idle kept-alive connection stays open (AWS endpoints close idle ones too).
IDLE_SECONDS = 60.0


class Connections:
    """The open client connections of one server, so that stopping it can close them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()

    def add(self, connection: socket.socket) -> None:
        with self._lock:
            self._open.add(connection)

    def discard(self, connection: socket.socket) -> None:
        with self._lock:
            self._open.discard(connection)

    def close_all(self) -> None:
        with self._lock:
            connections, self._open = list(self._open), set()
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)


class _ConnectionReader:
    """The connection's input: lines (request line, headers) always, bytes only while allowed.

    After each response werkzeug reads "the rest of the request" from the socket until it goes
    quiet, which on a kept-alive connection swallows the client's next request; request bodies are
    read through a ``LimitedStream`` of their own instead, so direct reads are refused meanwhile.
    """

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.reads_allowed = True

    def readline(self, *args: Any) -> bytes:
        return bytes(self.raw.readline(*args))

    def read(self, *args: Any) -> bytes:
        return bytes(self.raw.read(*args)) if self.reads_allowed else b""

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


def keep_alive_handler(connections: Connections) -> type[MotoRequestHandler]:
    """A request handler class that keeps connections open and registers them in ``connections``."""

    class KeepAliveHandler(MotoRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = IDLE_SECONDS
        rfile: Any
        _body: LimitedStream | None = None

        def setup(self) -> None:
            super().setup()
            # werkzeug writes headers and body separately: without this, Nagle's algorithm holds the
            # body until the client's delayed ACK (40 ms) on every call of a kept-alive connection.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.rfile = _ConnectionReader(self.rfile)
            connections.add(self.connection)

        def finish(self) -> None:
            connections.discard(self.connection)
            super().finish()

        def make_environ(self) -> dict[str, Any]:
            environ = super().make_environ()
            if environ.get("wsgi.input_terminated"):  # a chunked body: read it as werkzeug does, then close
                self.rfile.reads_allowed = True
                self.close_connection = True
                return environ
            length = environ.get("CONTENT_LENGTH") or "0"
            self._body = LimitedStream(self.rfile.raw, int(length) if length.isdigit() else 0)
            environ["wsgi.input"] = self._body
            return environ

        def handle_expect_100(self) -> bool:
            """No ``100 Continue`` for a body over its limit: the client must not send it."""
            if declared_too_large(urlsplit(self.path).path, self.headers):
                return True
            return bool(super().handle_expect_100())

        def run_wsgi(self) -> None:
            if declared_too_large(urlsplit(self.path).path, self.headers):  # the app answers 413
                self.close_connection = True
                del self.headers["Expect"]  # werkzeug would send its own "100 Continue"
            self.rfile.reads_allowed = False
            try:
                super().run_wsgi()
            finally:
                self.rfile.reads_allowed = True
            if self._body is not None and not self.close_connection:
                self._body.exhaust()  # what the application left unread of the body
            self._body = None

        def send_header(self, keyword: str, value: str) -> None:
            if keyword.lower() == "connection" and value.lower() == "close" and not self.close_connection:
                return  # werkzeug closes every connection; keep it open unless the client asked to close
            super().send_header(keyword, value)

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            """Requests are not logged: tests and the CLI would drown in them."""

        def log_error(self, format: str, *args: Any) -> None:
            if not format.startswith("Request timed out"):  # an idle kept-alive connection closing
                super().log_error(format, *args)

        def connection_dropped(self, error: BaseException, environ: dict[str, Any] | None = None) -> None:
            """An idle connection timed out or the client went away: nothing to report."""

    return KeepAliveHandler
