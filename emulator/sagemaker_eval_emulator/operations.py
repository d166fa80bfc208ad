"""Which AWS service and operation an HTTP request calls, told from the request as AWS tells it.

- service: the signing name of the request's SigV4 credential scope (``Authorization`` header or
  a presigned URL's ``X-Amz-Credential``), which is also the IAM action prefix (``s3``, ``sts``,
  ``sagemaker``, ``events``, ``sqs``, ``iam``); ``s3`` for SigV2 (S3's legacy presigned URLs);
- operation: the ``X-Amz-Target`` of JSON protocols, the ``Action`` of query protocols (STS, IAM),
  or, for REST protocols (S3), the botocore operation whose HTTP method, URI template, literal
  query keys and required query and header members fit the request best.
"""

from __future__ import annotations

import functools
import re
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote

#: Service of a request without SigV4 credentials; operation that cannot be told.
UNKNOWN = "unknown"
UNKNOWN_OPERATION = "Unknown"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"

_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/(?P<region>[a-z0-9-]+)/(?P<service>[a-z0-9-]+)/aws4_request")
_VIRTUAL_HOST = re.compile(r"^(?P<bucket>[a-z0-9][a-z0-9.\-]*?)\.(?:s3[.\-][^:]*|localhost)(?::\d+)?$")
_model_lock = threading.Lock()


@dataclass(frozen=True)
class CredentialScope:
    region: str
    service: str


def credential_scope(environ: dict[str, Any]) -> CredentialScope | None:
    """Region and service of the request's SigV4 credential scope; None for an unsigned request."""
    match = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    if match is None and "X-Amz-Credential" in environ.get("QUERY_STRING", ""):
        credential = parse_qs(environ["QUERY_STRING"]).get("X-Amz-Credential", [""])[0]
        match = _SCOPE.search(f"Credential={credential}")
    return CredentialScope(match["region"], match["service"]) if match else None


def identify(environ: dict[str, Any], form_body: bytes = b"") -> tuple[str, str]:
    """``(service, operation)`` of one request; ``form_body`` is the body of a form-encoded request."""
    scope = credential_scope(environ)
    if scope is None and _is_sigv2(environ):  # only S3 still takes SigV2 (presigned URLs)
        scope = CredentialScope("", "s3")
    service = scope.service if scope else UNKNOWN
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return service, target.rpartition(".")[2] or UNKNOWN_OPERATION
    action = _query_action(environ, form_body)
    if action:
        return service, action
    if scope is None:
        return service, UNKNOWN_OPERATION
    return service, _rest_operation(service, environ)


def _is_sigv2(environ: dict[str, Any]) -> bool:
    return environ.get("HTTP_AUTHORIZATION", "").startswith("AWS ") or "AWSAccessKeyId=" in environ.get(
        "QUERY_STRING", ""
    )


def _query_action(environ: dict[str, Any], form_body: bytes) -> str | None:
    for source in (environ.get("QUERY_STRING", ""), form_body.decode("utf-8", "replace")):
        actions = parse_qs(source).get("Action")
        if actions:
            return actions[0]
    return None


@dataclass(frozen=True)
class _Route:
    operation: str
    method: str
    path: tuple[str, ...]  # literal segments, "{X}" (one segment) or "{X+}" (the rest)
    query: dict[str, str | None]  # literal query keys of the URI template (value None: any)
    required_query: frozenset[str]
    required_headers: frozenset[str]
    deprecated: bool

    def score(self, method: str, segments: list[str], query: dict[str, list[str]], headers: set[str]) -> int:
        """How specifically this route fits the request; -1 when it does not."""
        if method != self.method or not _path_fits(self.path, segments):
            return -1
        for key, value in self.query.items():
            if key not in query or (value is not None and value not in query[key]):
                return -1
        if not self.required_query <= query.keys() or not self.required_headers <= headers:
            return -1
        literals = sum(1 for part in self.path if not part.startswith("{"))
        return 4 * (len(self.query) + len(self.required_query) + len(self.required_headers)) + literals


def _path_fits(template: tuple[str, ...], segments: list[str]) -> bool:
    if template and template[-1].endswith("+}"):
        head = template[:-1]
        return len(segments) > len(head) and _path_fits(head, segments[: len(head)])
    if len(template) != len(segments):
        return False
    return all(part.startswith("{") or part == seg for part, seg in zip(template, segments, strict=True))


@functools.cache
def _routes(service: str) -> tuple[_Route, ...]:
    """The REST routes of a botocore service model (empty when botocore does not know it)."""
    import botocore.session
    from botocore.exceptions import UnknownServiceError

    with _model_lock:
        try:
            model = botocore.session.get_session().get_service_model(service)
        except UnknownServiceError:
            return ()
    routes = []
    for name in model.operation_names:
        op = model.operation_model(name)
        uri, _, raw_query = op.http.get("requestUri", "/").partition("?")
        query: dict[str, str | None] = {}
        for item in filter(None, raw_query.split("&")):
            key, sep, value = item.partition("=")
            query[key] = value if sep else None
        required_query: set[str] = set()
        required_headers: set[str] = set()
        members = op.input_shape.members if op.input_shape is not None else {}
        for member in op.input_shape.required_members if op.input_shape is not None else ():
            serialization = members[member].serialization
            if serialization.get("location") == "querystring":
                required_query.add(serialization.get("name", member))
            elif serialization.get("location") == "header":
                required_headers.add(serialization.get("name", member).lower())
        routes.append(
            _Route(
                operation=name,
                method=op.http.get("method", "POST"),
                path=tuple(part for part in uri.split("/") if part),
                query=query,
                required_query=frozenset(required_query),
                required_headers=frozenset(required_headers),
                deprecated=bool(op.deprecated),
            )
        )
    return tuple(routes)


def _rest_operation(service: str, environ: dict[str, Any]) -> str:
    routes = _routes(service)
    if not routes:
        return UNKNOWN_OPERATION
    segments = [unquote(part) for part in environ.get("PATH_INFO", "").split("/") if part]
    if service == "s3":
        virtual = _VIRTUAL_HOST.match(environ.get("HTTP_HOST", ""))
        if virtual:
            segments.insert(0, virtual["bucket"])
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    headers = {key[5:].replace("_", "-").lower() for key in environ if key.startswith("HTTP_")}
    method = environ.get("REQUEST_METHOD", "GET")
    best = max(
        routes,
        key=lambda r: (r.score(method, segments, query, headers), not r.deprecated, -len(r.operation)),
    )
    return best.operation if best.score(method, segments, query, headers) >= 0 else UNKNOWN_OPERATION
