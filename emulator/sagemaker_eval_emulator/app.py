"""The emulator's WSGI application: SageMaker pipeline calls, control API, and moto for the rest.

A request whose ``X-Amz-Target`` is ``SageMaker.<Op>`` is checked against botocore's SageMaker
model first (``validation``: unknown operations, wrong member types, constraint violations get
SageMaker's 400 errors); operations of the pipeline backend are answered here in the awsJson1.1
protocol, other SageMaker operations by moto when moto implements them (else a JSON 501 saying
so); control requests go to the control API; SQS long polls are served by ``long_poll``
(moto's own answer only once a second); everything else (S3, STS, IAM, ...) is passed
unchanged to moto's server application. Injected delays, throttling and call errors apply to every
JSON-protocol call (``X-Amz-Target``); S3 and the query-protocol services (STS, IAM) are never
faulted. Every AWS request is counted in the call log, except the emulator's own requests to itself
(writing result files, publishing events), which go to moto unfaulted and uncounted.

Before any of that, ``guard`` refuses foreign Host/Origin headers, control requests without the
token and bodies over their limit. A JSON-protocol body that is not a JSON object gets a
``SerializationException``; whatever else a request makes fail is answered as a JSON error with
``__type`` (never werkzeug's HTML page).
"""

from __future__ import annotations

import io
import json
import logging
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from xml.parsers.expat import ExpatError

from botocore import xform_name

from sagemaker_eval_emulator import beside_moto
from sagemaker_eval_emulator.backend import OPERATIONS, SHARED_OPERATIONS, PipelineBackend
from sagemaker_eval_emulator.call_log import CallLog
from sagemaker_eval_emulator.control import ControlApi, ControlError
from sagemaker_eval_emulator.errors import (
    ApiError,
    InjectedError,
    NotImplementedByEmulator,
    SerializationException,
    ThrottlingException,
)
from sagemaker_eval_emulator.guard import (
    MOTO_API_PREFIX,
    RequestGuard,
    RequestTooLarge,
    body_limit,
    declared_length,
    is_control,
)
from sagemaker_eval_emulator.long_poll import is_long_poll, long_poll
from sagemaker_eval_emulator.operations import FORM_CONTENT_TYPE, credential_scope, identify
from sagemaker_eval_emulator.validation import validate

log = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
#: Marks the emulator's own requests to itself (``user_agent_extra`` of its clients): not counted.
INTERNAL_USER_AGENT = "sm-eval-emulator-internal"
_JSON_CONTENT_TYPE = "application/x-amz-json-1.1"


class EmulatorApp:
    """Routes each request to the pipeline backend, the control API or moto."""

    def __init__(
        self,
        backend: PipelineBackend,
        control: ControlApi,
        moto_app: WSGIApp,
        default_region: str,
        calls: CallLog,
        *,
        guard: RequestGuard,
    ) -> None:
        self._guard = guard
        self._backend = backend
        self._control = control
        self._moto_app = moto_app
        self._default_region = default_region
        self._calls = calls

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        refusal = self._guard.refusal(environ) or _bound_chunked_body(environ)
        if refusal is not None:
            return _error(start_response, refusal)
        try:
            return self._route(environ, start_response)
        except Exception as exc:  # moto failing on a malformed request, or a bug: a JSON error all the same
            error = _unhandled(exc)
            where = (environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"))
            if error.status >= 500:
                log.exception("emulator failed on %s %s", *where)
            else:
                log.warning("emulator refused %s %s: %s", *where, error.message)
            return _error(start_response, error, exc_info=sys.exc_info())

    def _route(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(MOTO_API_PREFIX):
            return self._moto_app(environ, start_response)
        if is_control(path):
            return self._handle_control(environ, start_response)
        if INTERNAL_USER_AGENT in environ.get("HTTP_USER_AGENT", ""):  # never counted nor faulted
            return self._moto_app(environ, start_response)
        self._record_call(environ)
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target:
            answered = beside_moto.answer(environ, start_response, self._backend.catalog)
            return answered or self._moto_app(environ, start_response)
        service, _, operation = target.partition(".")
        delay = self._backend.faults.delay_for(operation)
        if delay:
            time.sleep(delay)
        if self._backend.faults.should_throttle(operation):
            return _error(start_response, ThrottlingException(f"Rate exceeded for {operation}"))
        injected = self._backend.faults.take_call_failure(operation)
        if injected is not None:
            return _error(start_response, InjectedError(injected.code, injected.message))
        body = _read_body(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        try:
            params = _request_params(body)
            if service == "SageMaker":
                validate(operation, params)
        except ApiError as exc:
            return _error(start_response, exc)
        if service != "SageMaker":
            if is_long_poll(environ, body):
                return long_poll(self._moto_app, environ, body, start_response)
            return self._moto_app(environ, start_response)
        region = self._region(environ)
        if operation not in OPERATIONS or (
            operation in SHARED_OPERATIONS and not self._owns(operation, params, region)
        ):
            if not moto_implements(operation):
                return _error(start_response, NotImplementedByEmulator(operation))
            return self._moto_app(environ, start_response)
        try:
            response = OPERATIONS[operation](self._backend, params, region)
        except ApiError as exc:
            return _error(start_response, exc)
        except Exception as exc:  # a bug: answer at once rather than let botocore retry a dropped call
            log.exception("emulator failed on %s", operation)
            return _error(start_response, ApiError(f"emulator error in {operation}: {exc!r}"))
        return _respond(start_response, "200 OK", response)

    def _owns(self, operation: str, params: dict[str, Any], region: str) -> bool:
        if operation == "DescribeTrainingJob":
            return self._backend.handles_training_job(str(params.get("TrainingJobName", "")), region)
        return self._backend.handles_resource(params.get("ResourceArn", ""))

    def _region(self, environ: dict[str, Any]) -> str:
        scope = credential_scope(environ)
        return scope.region if scope else self._default_region

    def _record_call(self, environ: dict[str, Any]) -> None:
        form_body = b""
        if environ.get("CONTENT_TYPE", "").startswith(FORM_CONTENT_TYPE):  # query protocol: Action
            form_body = _read_body(environ)
            environ["wsgi.input"] = io.BytesIO(form_body)
        self._calls.record(*identify(environ, form_body))

    def _handle_control(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        raw = _read_body(environ)
        try:
            body = json.loads(raw) if raw.strip() else None
            result = self._control.handle(environ.get("REQUEST_METHOD", "GET"), environ["PATH_INFO"], body)
        except json.JSONDecodeError:
            return _respond(
                start_response, "400 Bad Request", {"error": "the request body is not valid JSON"}
            )
        except ControlError as exc:
            status = "404 Not Found" if exc.status == 404 else "400 Bad Request"
            return _respond(start_response, status, {"error": str(exc)}, content_type="application/json")
        return _respond(start_response, "200 OK", result, content_type="application/json")


def _request_params(body: bytes) -> dict[str, Any]:
    """The JSON object of an awsJson1.1 request body; SerializationException when it is not one."""
    try:
        params = json.loads(body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise SerializationException("The request body is not valid JSON") from None
    if not isinstance(params, dict):
        raise SerializationException("The request body is not a JSON object")
    return params


def moto_implements(operation: str) -> bool:
    """Whether moto serves this SageMaker operation (its response class has the handler)."""
    from moto.sagemaker.responses import SageMakerResponse

    return callable(getattr(SageMakerResponse, xform_name(operation), None))


def _read_body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(length) if length > 0 else b""


def _bound_chunked_body(environ: dict[str, Any]) -> ApiError | None:
    """A chunked body (no Content-Length) read up to its limit: RequestTooLarge past it."""
    if declared_length(environ.get("CONTENT_LENGTH")) is not None or not environ.get("wsgi.input_terminated"):
        return None
    limit = body_limit(
        environ.get("PATH_INFO", ""), environ.get("HTTP_X_AMZ_TARGET", ""), environ.get("CONTENT_TYPE", "")
    )
    body = environ["wsgi.input"].read(limit + 1)
    if len(body) > limit:
        return RequestTooLarge(f"the request body exceeds this API's limit of {limit} bytes")
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return None


def _unhandled(exc: Exception) -> ApiError:
    """The error answered for an exception out of a handler or moto: 400 when the body did not parse."""
    if isinstance(exc, ValueError | ExpatError):  # JSON, XML, text encodings, numbers
        return SerializationException(f"The request could not be parsed: {type(exc).__name__}: {exc}")
    return ApiError(f"emulator error: {exc!r}")


def _error(start_response: Callable[..., Any], error: ApiError, *, exc_info: Any = None) -> Iterable[bytes]:
    status = f"{error.status} {HTTPStatus(error.status).phrase}"
    payload = {"__type": error.code, "Message": error.message}
    return _respond(start_response, status, payload, exc_info=exc_info)


def _respond(
    start_response: Callable[..., Any],
    status: str,
    payload: dict[str, Any],
    *,
    content_type: str = _JSON_CONTENT_TYPE,
    exc_info: Any = None,
) -> Iterable[bytes]:
    data = json.dumps(payload).encode()
    headers = [
        ("Content-Type", content_type),
        ("Content-Length", str(len(data))),
        ("x-amzn-RequestId", str(uuid.uuid4())),
    ]
    start_response(status, headers, exc_info)
    return [data]
