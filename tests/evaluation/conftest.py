"""Fixtures of the lifecycle core tests: an S3 server (moto over HTTP) and a fresh results bucket."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from evaluation_helpers import REGION
from moto.server import ThreadedMotoServer

from airflow_provider_sm_eval.evaluation.s3_layout import S3Uri


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A moto server on an ephemeral 127.0.0.1 port, for S3 only."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def results_root(s3: Any) -> S3Uri:
    """A fresh bucket and prefix to write results under."""
    bucket = f"results-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    return S3Uri(bucket, "evaluations/run1")
