"""Which AWS call failures are worth waiting out: throttling, server errors, broken connections."""

from __future__ import annotations

import asyncio

#: Error codes AWS services answer when a caller should slow down or try again later.
TRANSIENT_ERROR_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
        "InternalFailure",
        "InternalError",
        "InternalServerError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)


def is_transient_aws_error(error: BaseException) -> bool:
    """True for throttling, HTTP 5xx answers, timeouts and connection failures; False otherwise."""
    from botocore.exceptions import ClientError, HTTPClientError

    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", ""))
        http_status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return code in TRANSIENT_ERROR_CODES or int(http_status) >= 500
    return isinstance(error, HTTPClientError | asyncio.TimeoutError | ConnectionError)
