"""SQS long polls: served as short polls of moto, so a waiting receiver sees a message at once."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from sagemaker_eval_emulator import long_poll as long_poll_module
from sagemaker_eval_emulator.long_poll import RECEIVE_MESSAGE_TARGET, is_long_poll, long_poll


class QueueApp:
    """A stand-in for moto's WSGI app: answers ReceiveMessage from a scripted list of answers."""

    def __init__(self, answers: list[tuple[str, dict[str, Any]]]) -> None:
        self.answers = answers
        self.requests: list[dict[str, Any]] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
        self.requests.append(json.loads(body))
        status, payload = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        start_response(status, [("Content-Type", "application/x-amz-json-1.0"), ("Content-Length", "999")])
        return [json.dumps(payload).encode()]


def receive(app: QueueApp, wait_seconds: int) -> tuple[str, dict[str, str], dict[str, Any]]:
    body = json.dumps({"QueueUrl": "q", "WaitTimeSeconds": wait_seconds, "MaxNumberOfMessages": 10}).encode()
    environ = {"HTTP_X_AMZ_TARGET": RECEIVE_MESSAGE_TARGET, "wsgi.input": io.BytesIO(body)}
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        answer["status"], answer["headers"] = status, dict(headers)

    payload = b"".join(long_poll(app, environ, body, start_response))
    assert answer["headers"]["Content-Length"] == str(len(payload))
    return answer["status"], answer["headers"], json.loads(payload)


@pytest.fixture(autouse=True)
def fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(long_poll_module, "POLL_SECONDS", 0.001)


def test_a_long_poll_answers_with_the_first_short_poll_that_receives_a_message() -> None:
    message = {"MessageId": "m", "ReceiptHandle": "h", "Body": "{}"}
    app = QueueApp([("200 OK", {})] * 3 + [("200 OK", {"Messages": [message]})])
    status, _, payload = receive(app, wait_seconds=20)
    assert (status, payload) == ("200 OK", {"Messages": [message]})
    assert len(app.requests) == 4
    assert {request["WaitTimeSeconds"] for request in app.requests} == {0}
    assert {request["MaxNumberOfMessages"] for request in app.requests} == {10}


def test_a_long_poll_that_receives_nothing_answers_empty_when_its_wait_ends() -> None:
    app = QueueApp([("200 OK", {})])
    status, _, payload = receive(app, wait_seconds=1)
    assert (status, payload) == ("200 OK", {})
    assert len(app.requests) > 1


def test_an_error_is_answered_at_once() -> None:
    error = {"__type": "com.amazonaws.sqs#QueueDoesNotExist", "message": "gone"}
    app = QueueApp([("400 Bad Request", error)])
    assert receive(app, wait_seconds=20)[::2] == ("400 Bad Request", error)
    assert len(app.requests) == 1


@pytest.mark.parametrize(
    ("target", "body", "expected"),
    [
        (RECEIVE_MESSAGE_TARGET, {"QueueUrl": "q", "WaitTimeSeconds": 20}, True),
        (RECEIVE_MESSAGE_TARGET, {"QueueUrl": "q", "WaitTimeSeconds": 0}, False),
        (RECEIVE_MESSAGE_TARGET, {"QueueUrl": "q"}, False),  # the queue's default wait: moto's own
        ("AmazonSQS.SendMessage", {"QueueUrl": "q", "WaitTimeSeconds": 20}, False),
        (RECEIVE_MESSAGE_TARGET, "not an object", False),
    ],
)
def test_only_a_json_receive_that_asks_to_wait_is_served_as_a_long_poll(
    target: str, body: Any, expected: bool
) -> None:
    assert is_long_poll({"HTTP_X_AMZ_TARGET": target}, json.dumps(body).encode()) is expected
