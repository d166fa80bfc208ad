"""Reading result files from S3: paginated listings, small JSON documents and streamed JSON lines."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from airflow_provider_sm_eval.evaluation.clients import aws_errors, wrap_client_error
from airflow_provider_sm_eval.evaluation.exceptions import ResultFileError
from airflow_provider_sm_eval.evaluation.s3_layout import S3Uri

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import GetObjectOutputTypeDef

#: Largest single JSON document (aggregate or metrics file) read whole.
MAX_JSON_DOCUMENT_BYTES = 64 * 1024 * 1024
#: Longest line of a JSON-lines file (one per-example record). A longer line is a ResultFileError
#: as soon as it is seen, so a file without newlines is never buffered whole.
MAX_JSONL_LINE_BYTES = 8 * 1024 * 1024
_STREAM_CHUNK_BYTES = 64 * 1024
_MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


def list_keys(s3: S3Client, folder: S3Uri) -> Iterator[str]:
    """Every key under ``folder`` (treated as a folder), over every listing page."""
    prefix = folder.key.rstrip("/") + "/" if folder.key else ""
    with aws_errors("ListObjectsV2", str(folder)):
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=folder.bucket, Prefix=prefix)
        for page in pages:
            for item in page.get("Contents", []):
                yield item["Key"]


def first_key(s3: S3Client, folder: S3Uri, matches: Callable[[str], bool]) -> S3Uri | None:
    """The first key under ``folder`` (in S3's lexical order) for which ``matches`` holds."""
    return next((S3Uri(folder.bucket, key) for key in list_keys(s3, folder) if matches(key)), None)


def read_json(s3: S3Client, uri: S3Uri) -> Any:
    """A whole JSON document; ResultFileError naming ``uri`` when missing, too large or malformed."""
    response = _get_object(s3, uri)
    body = response["Body"]
    try:
        if response.get("ContentLength", 0) > MAX_JSON_DOCUMENT_BYTES:
            raise ResultFileError(str(uri), f"larger than {MAX_JSON_DOCUMENT_BYTES} bytes")
        return json.loads(body.read())
    except (ValueError, UnicodeDecodeError) as error:
        raise ResultFileError(str(uri), f"not valid JSON: {error}") from None
    finally:
        body.close()


def iter_json_lines(
    s3: S3Client, uri: S3Uri, *, max_line_bytes: int = MAX_JSONL_LINE_BYTES
) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for each non-blank line, streamed: the file is never held whole.

    A line longer than ``max_line_bytes`` is a ResultFileError naming ``uri`` and the limit.
    """
    response = _get_object(s3, uri)
    body = response["Body"]
    try:
        chunks = iter(lambda: body.read(_STREAM_CHUNK_BYTES), b"")
        for number, line in enumerate(split_lines(chunks, str(uri), max_line_bytes), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except (ValueError, UnicodeDecodeError) as error:
                raise ResultFileError(str(uri), f"line {number} is not valid JSON: {error}") from None
            if not isinstance(record, dict):
                raise ResultFileError(str(uri), f"line {number} is not a JSON object")
            yield number, record
    finally:
        body.close()


def split_lines(chunks: Iterable[bytes], uri: str, max_line_bytes: int) -> Iterator[bytes]:
    """The newline-separated lines of a stream of chunks, in time linear in its size.

    Each chunk is scanned once and at most one partial line (under ``max_line_bytes``) is held;
    a longer line raises ResultFileError naming ``uri``, its line number and the limit.
    """
    pending = bytearray()
    number = 1
    for chunk in chunks:
        start = 0
        while (end := chunk.find(b"\n", start)) >= 0:
            _check_line_size(len(pending) + end - start, number, uri, max_line_bytes)
            if pending:
                pending += chunk[start:end]
                yield bytes(pending)
                pending.clear()
            else:
                yield chunk[start:end]
            number += 1
            start = end + 1
        _check_line_size(len(pending) + len(chunk) - start, number, uri, max_line_bytes)
        pending += memoryview(chunk)[start:]
    if pending:
        yield bytes(pending)


def _check_line_size(size: int, number: int, uri: str, max_line_bytes: int) -> None:
    if size > max_line_bytes:
        raise ResultFileError(
            uri,
            f"line {number} is longer than the maximum line size of {max_line_bytes} bytes "
            "(a JSON-lines file holds one record per line)",
        )


def _get_object(s3: S3Client, uri: S3Uri) -> GetObjectOutputTypeDef:
    from botocore.exceptions import ClientError

    try:
        return s3.get_object(Bucket=uri.bucket, Key=uri.key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in _MISSING_CODES:
            raise ResultFileError(str(uri), "does not exist") from None
        raise wrap_client_error(error, "GetObject", str(uri)) from error
