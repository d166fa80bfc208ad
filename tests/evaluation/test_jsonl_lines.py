"""The JSON-lines reader: lines split across chunks, in linear time, with a maximum line size."""

from __future__ import annotations

import json
from typing import Any

import pytest
from evaluation_helpers import put_text

from airflow_provider_sm_eval.evaluation.exceptions import ResultFileError
from airflow_provider_sm_eval.evaluation.results.s3_objects import (
    iter_json_lines,
    split_lines,
)
from airflow_provider_sm_eval.evaluation.s3_layout import S3Uri

URI = "s3://bucket/examples_output.jsonl"


@pytest.mark.parametrize(
    "chunks",
    [
        [b"ab\ncd\n\nef"],
        [b"a", b"b\nc", b"d\n", b"\n", b"e", b"f"],
        [b"ab\n", b"cd\n\n", b"ef"],
        [b"ab", b"\ncd\n", b"\nef"],
    ],
)
def test_lines_are_the_same_however_the_stream_is_cut(chunks: list[bytes]) -> None:
    assert list(split_lines(chunks, URI, max_line_bytes=10)) == [b"ab", b"cd", b"", b"ef"]


def test_a_line_of_exactly_the_limit_is_read() -> None:
    assert list(split_lines([b"abc", b"de\nfghij"], URI, max_line_bytes=5)) == [b"abcde", b"fghij"]


@pytest.mark.parametrize(
    ("chunks", "line"),
    [
        ([b"abcdef"], 1),  # one chunk, no newline
        ([b"abc", b"def", b"ghi"], 1),  # over the limit only across chunks
        ([b"ab\nabc", b"def\n"], 2),  # over the limit in a line that ends later
        ([b"ok\nabcdef\nok\n"], 2),  # over the limit inside one chunk
    ],
)
def test_a_longer_line_names_the_file_the_line_and_the_limit(chunks: list[bytes], line: int) -> None:
    with pytest.raises(ResultFileError, match=f"line {line} is longer than the maximum line size of 5 bytes"):
        list(split_lines(chunks, URI, max_line_bytes=5))


def test_the_stream_is_not_read_past_a_line_over_the_limit() -> None:
    read: list[bytes] = []

    def endless() -> Any:
        while True:
            read.append(b"x" * 4)
            yield read[-1]

    with pytest.raises(ResultFileError) as caught:
        list(split_lines(endless(), URI, max_line_bytes=10))
    assert caught.value.s3_uri == URI
    assert len(read) == 3


def test_records_over_s3_with_windows_newlines_and_blank_lines(s3: Any, results_root: S3Uri) -> None:
    uri = results_root.join("examples_output.jsonl")
    put_text(s3, uri, '{"a": 1}\r\n\r\n{"b": 2}\n{"c": 3}')
    assert list(iter_json_lines(s3, uri)) == [(1, {"a": 1}), (3, {"b": 2}), (4, {"c": 3})]


def test_a_record_over_the_limit_in_s3_names_the_key(s3: Any, results_root: S3Uri) -> None:
    uri = results_root.join("examples_output.jsonl")
    put_text(s3, uri, json.dumps({"a": 1}) + "\n" + json.dumps({"b": "x" * 100}) + "\n")
    with pytest.raises(
        ResultFileError, match="line 2 is longer than the maximum line size of 64 bytes"
    ) as caught:
        list(iter_json_lines(s3, uri, max_line_bytes=64))
    assert caught.value.s3_uri == str(uri)
    assert str(uri) in str(caught.value)
