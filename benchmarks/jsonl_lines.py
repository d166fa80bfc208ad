"""The per-example JSONL reader against botocore's ``iter_lines``, on files of one long line.

Prints, per line size, the seconds each reader takes to read the line (the new reader with its
limit raised above the size), then the new reader refusing a 64 MiB line without a newline at its
default limit: seconds, bytes read from S3 and traced peak memory. S3 is the emulator's moto in another
process, so the memory figure is the reader's own.

    .venv/bin/python benchmarks/jsonl_lines.py            # sizes 4, 8, 16, 32 MiB
    .venv/bin/python benchmarks/jsonl_lines.py --sizes 4 8 16 32
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

from airflow_provider_sm_eval.evaluation.exceptions import ResultFileError
from airflow_provider_sm_eval.evaluation.results import s3_objects
from airflow_provider_sm_eval.evaluation.s3_layout import S3Uri
from sagemaker_eval_emulator.child_process import emulator_process

MIB = 1024 * 1024


def one_line(s3: Any, bucket: str, size: int) -> S3Uri:
    uri = S3Uri(bucket, f"line-{size}.jsonl")
    s3.put_object(Bucket=bucket, Key=uri.key, Body=b'{"x": "' + b"x" * (size - 10) + b'"}\n')
    return uri


def botocore_iter_lines(s3: Any, uri: S3Uri) -> int:
    body = s3.get_object(Bucket=uri.bucket, Key=uri.key)["Body"]
    return sum(1 for _ in body.iter_lines(chunk_size=64 * 1024))


def linear_reader(s3: Any, uri: S3Uri) -> int:
    return sum(1 for _ in s3_objects.iter_json_lines(s3, uri, max_line_bytes=1024 * MIB))


def seconds(read: Callable[[Any, S3Uri], int], s3: Any, uri: S3Uri) -> float:
    start = time.perf_counter()
    read(s3, uri)
    return time.perf_counter() - start


def refusal(s3: Any, bucket: str) -> tuple[float, int, int, str]:
    """Seconds, bytes read and peak memory refusing 64 MiB without a newline."""
    uri = S3Uri(bucket, "no-newline.jsonl")
    s3.put_object(Bucket=bucket, Key=uri.key, Body=b"x" * (64 * MIB))
    counted = {"bytes": 0}
    original = s3_objects.split_lines

    def counting(chunks: Any, *args: Any) -> Any:
        def counted_chunks() -> Iterator[bytes]:
            for chunk in chunks:
                counted["bytes"] += len(chunk)
                yield chunk

        return original(counted_chunks(), *args)

    s3_objects.split_lines = counting  # type: ignore[assignment]
    tracemalloc.start()
    start = time.perf_counter()
    try:
        list(s3_objects.iter_json_lines(s3, uri))
        message = "not refused"
    except ResultFileError as error:
        message = str(error)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    s3_objects.split_lines = original  # type: ignore[assignment]
    return elapsed, counted["bytes"], peak, message


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[4, 8, 16, 32], help="line sizes in MiB")
    sizes = parser.parse_args().sizes
    with emulator_process(quiet=True, publish_events=False) as process:
        s3 = process.client("s3")
        bucket = "jsonl-bench"
        s3.create_bucket(Bucket=bucket)
        print(f"{'line (MiB)':>10}  {'iter_lines (s)':>14}  {'linear reader (s)':>17}")
        for size in sizes:
            uri = one_line(s3, bucket, size * MIB)
            old, new = seconds(botocore_iter_lines, s3, uri), seconds(linear_reader, s3, uri)
            print(f"{size:>10}  {old:>14.2f}  {new:>17.2f}")
        elapsed, read, peak, message = refusal(s3, bucket)
        print(
            f"\n64 MiB without a newline, limit {s3_objects.MAX_JSONL_LINE_BYTES // MIB} MiB: refused in "
            f"{elapsed:.2f} s after reading {read / MIB:.2f} MiB, peak {peak / MIB:.1f} MiB traced"
        )
        print(f"  {message}")


if __name__ == "__main__":
    main()
