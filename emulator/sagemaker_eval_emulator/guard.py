"""What the emulator refuses before any handler runs: foreign pages, strangers at its controls, huge bodies.

- **Host and Origin** (every request): a web page the owner visits must not drive the emulator.
  ``Host`` must name the emulator's port on ``localhost`` (or a ``*.localhost`` name) or on an IP
  address (a DNS-rebinding page has its own domain name there); ``Origin``, which browsers send
  and AWS SDKs do not, must be absent or the emulator's own; ``Sec-Fetch-Site``, when sent, must
  say the request is the user's own (``none``) or same-origin. Refused: 403 ``AccessDeniedException``.
- **Control token** (``/_emulator/`` and moto's ``/moto-api/``): each emulator makes a random
  token, handed to its owner only (``EvaluationEmulator.control_token``, the CLI's
  ``control token:`` line, ``EmulatorProcess.control_token``); control requests carry it in
  ``CONTROL_TOKEN_HEADER``. Another local user can reach the port but cannot reset the emulator
  or inject faults into the owner's runs. Refused: 403.
- **Body size** (every request; ``body_limit``): a body declared larger than its service's limit
  is refused with 413 before any of it is read (the connection is then closed); a chunked body
  is read only up to the limit.
"""

from __future__ import annotations

import hmac
import ipaddress
from email.message import Message
from typing import Any

from sagemaker_eval_emulator.control import CONTROL_PREFIX, CONTROL_TOKEN_HEADER
from sagemaker_eval_emulator.errors import ApiError
from sagemaker_eval_emulator.service import MAX_DEFINITION_CHARS

#: moto's own control API (it can reset every service): behind the token too, never routed elsewhere.
MOTO_API_PREFIX = "/moto-api/"
#: Path prefixes of control requests.
CONTROL_PREFIXES = (CONTROL_PREFIX, MOTO_API_PREFIX)
MIB = 1024 * 1024
#: JSON- and query-protocol calls (SageMaker, EventBridge, SQS, STS, IAM, ...). SageMaker's largest
#: legitimate request is CreatePipeline/UpdatePipeline with a definition of MAX_DEFINITION_CHARS
#: characters, each at most 12 bytes once JSON-escaped (a surrogate pair, ``\\ud83d\\ude00``),
#: plus a mebibyte for the other members: 13 MiB. EventBridge and SQS take at most 1 MiB.
API_BODY_LIMIT = 12 * MAX_DEFINITION_CHARS + MIB
#: S3 requests (PutObject, UploadPart, ...): objects live in the emulator's memory. boto3's managed
#: transfers (upload_file, upload_fileobj) send parts of 8 MiB, so larger files still upload.
S3_BODY_LIMIT = 64 * MIB
#: Control requests: small JSON documents.
CONTROL_BODY_LIMIT = MIB
_FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
_OWN_FETCH_SITES = frozenset({"none", "same-origin"})


class AccessDenied(ApiError):
    code = "AccessDeniedException"
    status = 403


class RequestTooLarge(ApiError):
    code = "RequestEntityTooLargeException"
    status = 413


def is_control(path: str) -> bool:
    """Whether ``path`` is a control request (the emulator's or moto's): token required."""
    return path.startswith(CONTROL_PREFIXES)


def body_limit(path: str, target: str, content_type: str) -> int:
    """The largest body accepted for a request (path, ``X-Amz-Target``, ``Content-Type``)."""
    if is_control(path):
        return CONTROL_BODY_LIMIT
    if target or content_type.startswith(_FORM_CONTENT_TYPE):
        return API_BODY_LIMIT
    return S3_BODY_LIMIT


def declared_length(value: str | None) -> int | None:
    """The Content-Length header as a number; None when absent or not a non-negative integer."""
    return int(value) if value is not None and value.strip().isdigit() else None


def declared_too_large(path: str, headers: Message[str, str]) -> bool:
    """Whether a request's declared Content-Length exceeds its limit (``http.server``'s headers)."""
    length = declared_length(headers.get("Content-Length"))
    limit = body_limit(path, headers.get("X-Amz-Target", ""), headers.get("Content-Type", ""))
    return length is not None and length > limit


class RequestGuard:
    """Checks each request's Host, Origin, declared size and (for control requests) the token."""

    def __init__(self, control_token: str) -> None:
        self._token = control_token.encode()

    def refusal(self, environ: dict[str, Any]) -> ApiError | None:
        """Why the request is refused (an error to answer), or None when it may proceed."""
        port = str(environ.get("SERVER_PORT", ""))
        host = environ.get("HTTP_HOST", "")
        if not _local_host(host, port):
            return AccessDenied(f"Host {host!r} is not this emulator (127.0.0.1 or localhost, port {port})")
        origin = environ.get("HTTP_ORIGIN")
        if origin is not None and origin.lower() != f"http://{host}".lower():
            return AccessDenied(f"requests from the web page of origin {origin!r} are refused")
        fetch_site = environ.get("HTTP_SEC_FETCH_SITE")
        if fetch_site is not None and fetch_site.lower() not in _OWN_FETCH_SITES:
            return AccessDenied(f"requests from another site (Sec-Fetch-Site: {fetch_site}) are refused")
        path = environ.get("PATH_INFO", "")
        length = declared_length(environ.get("CONTENT_LENGTH"))
        limit = body_limit(path, environ.get("HTTP_X_AMZ_TARGET", ""), environ.get("CONTENT_TYPE", ""))
        if length is not None and length > limit:
            return RequestTooLarge(
                f"a request body of {length} bytes exceeds this API's limit of {limit} bytes"
            )
        if is_control(path):
            given = environ.get("HTTP_" + CONTROL_TOKEN_HEADER.upper().replace("-", "_"), "")
            if not hmac.compare_digest(given.encode(), self._token):
                return AccessDenied(
                    f"control requests need this emulator's token in the {CONTROL_TOKEN_HEADER} header"
                )
        return None


def _local_host(host: str, port: str) -> bool:
    """Whether a Host header names this port on localhost, a ``*.localhost`` name or an IP address."""
    if host.startswith("["):  # an IPv6 literal
        name, _, rest = host[1:].partition("]")
        given_port = rest.removeprefix(":") if rest.startswith(":") else ("" if not rest else None)
    else:
        name, _, given_port = host.rpartition(":") if ":" in host else (host, "", "")
    if given_port != port and not (given_port == "" and port == "80"):
        return False
    name = name.lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True
