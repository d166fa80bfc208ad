"""Reading result files from S3: paginated listings, small JSON documents and streamed JSON lines."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from airflow_provider_sm_eval.evaluation.clients import aws_errors, wrap_client_error
from airflow_provider_sm_eval.evaluation.exceptions import ResultFileError
from airflow_provider_sm_eval.evaluation.s3_layout import S3Uri

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import GetObjectOutputTypeDef

#: Largest single JSON document (aggregate or metrics file) read whole.
MAX_JSON_DOCUMENT_BYTES = 64 * 1024 * 1024
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


def iter_json_lines(s3: S3Client, uri: S3Uri) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for each non-blank line, streamed: the file is never held whole."""
    response = _get_object(s3, uri)
    body = response["Body"]
    try:
        for number, line in enumerate(body.iter_lines(chunk_size=_STREAM_CHUNK_BYTES), start=1):
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


def _get_object(s3: S3Client, uri: S3Uri) -> GetObjectOutputTypeDef:
    from botocore.exceptions import ClientError

    try:
        return s3.get_object(Bucket=uri.bucket, Key=uri.key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in _MISSING_CODES:
            raise ResultFileError(str(uri), "does not exist") from None
        raise wrap_client_error(error, "GetObject", str(uri)) from error
