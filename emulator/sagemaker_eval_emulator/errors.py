"""Errors of the SageMaker API, as the emulator returns them on the wire.

The class names are the exception shape names of botocore's SageMaker model (and
``ValidationException`` / ``ThrottlingException``, which every AWS JSON service returns),
so that a botocore client raises a ``ClientError`` with the same ``Error.Code`` as AWS.
"""

from __future__ import annotations


class ApiError(Exception):
    """An error response: HTTP status, error code and message."""

    code: str = "InternalFailure"
    status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationException(ApiError):
    code = "ValidationException"
    status = 400


class ResourceNotFound(ApiError):
    code = "ResourceNotFound"
    status = 400


class ConflictException(ApiError):
    code = "ConflictException"
    status = 400


class ResourceLimitExceeded(ApiError):
    code = "ResourceLimitExceeded"
    status = 400


class ThrottlingException(ApiError):
    code = "ThrottlingException"
    status = 400


class SerializationException(ApiError):
    """The body does not deserialize into the operation's input (wrong JSON types)."""

    code = "SerializationException"
    status = 400


class UnknownOperationException(ApiError):
    """The ``X-Amz-Target`` names no operation of the service."""

    code = "UnknownOperationException"
    status = 400


class NotImplementedByEmulator(ApiError):
    """A SageMaker operation neither the emulator nor moto implements (501: botocore does not retry it)."""

    code = "NotImplementedException"
    status = 501

    def __init__(self, operation: str) -> None:
        super().__init__(f"SageMaker operation {operation} is not implemented by the emulator or by moto")


class InjectedError(ApiError):
    """An error injected by fault control, with any error code."""

    status = 400

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
