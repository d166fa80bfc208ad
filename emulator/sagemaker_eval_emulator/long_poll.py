"""SQS long polling that answers as soon as a message is visible, like SQS does.

moto's ReceiveMessage long poll looks at the queue once a second (it waits on a condition that
only SendMessage notifies), so a message whose visibility timeout ends is taken by whichever
receive *arrives* next, not by the receives already waiting. Event consumers that release
events for another triggerer then take them back again and again while the holder's long poll
sleeps. Here a long poll is served as short polls of moto every ``POLL_SECONDS`` until a message
comes or ``WaitTimeSeconds`` ends, so every waiting receiver draws within ``POLL_SECONDS``.
Only the JSON protocol with an explicit ``WaitTimeSeconds`` is served this way; the rest goes
to moto unchanged.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterable
from typing import Any

RECEIVE_MESSAGE_TARGET = "AmazonSQS.ReceiveMessage"
#: How often a waiting long poll looks at the queue.
POLL_SECONDS = 0.1

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def is_long_poll(environ: dict[str, Any], body: bytes) -> bool:
    """Whether this request is a JSON-protocol ReceiveMessage that asks to wait."""
    if environ.get("HTTP_X_AMZ_TARGET") != RECEIVE_MESSAGE_TARGET:
        return False
    try:
        wait = json.loads(body).get("WaitTimeSeconds")
    except (ValueError, AttributeError):
        return False
    return isinstance(wait, int) and wait > 0


def long_poll(
    moto_app: WSGIApp, environ: dict[str, Any], body: bytes, start_response: Callable[..., Any]
) -> Iterable[bytes]:
    """Short-poll moto until a message is received or the request's wait ends; answer the last poll."""
    params = json.loads(body)
    deadline = time.monotonic() + int(params["WaitTimeSeconds"])
    short_poll = json.dumps({**params, "WaitTimeSeconds": 0}).encode()
    while True:
        status, headers, payload = _call(moto_app, environ, short_poll)
        if not status.startswith("200") or json.loads(payload or b"{}").get("Messages"):
            break
        if time.monotonic() >= deadline:
            break
        time.sleep(POLL_SECONDS)
    start_response(status, headers)
    return [payload]


def _call(moto_app: WSGIApp, environ: dict[str, Any], body: bytes) -> tuple[str, list[Any], bytes]:
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[Any], exc_info: Any = None) -> None:
        answer["status"], answer["headers"] = status, headers

    request = {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
    payload = b"".join(moto_app(request, start_response))
    headers = [(k, v) for k, v in answer["headers"] if k.lower() != "content-length"]
    return answer["status"], [*headers, ("Content-Length", str(len(payload)))], payload
