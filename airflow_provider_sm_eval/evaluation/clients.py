"""The boto3 clients a lifecycle call uses, and the translation of AWS errors.

Callers may hand in their own clients (the Airflow hook does); otherwise clients are built from
a boto3 session and region. Clients are never serialized, logged or put into messages.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from airflow_provider_sm_eval.evaluation.exceptions import EvaluationAWSError

if TYPE_CHECKING:
    import boto3
    from botocore.exceptions import ClientError
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sagemaker import SageMakerClient


@dataclass
class AwsClients:
    """A SageMaker client and an S3 client; each is built on first use unless given."""

    session: boto3.Session | None = None
    region: str | None = None
    _sagemaker: SageMakerClient | None = field(default=None, repr=False)
    _s3: S3Client | None = field(default=None, repr=False)

    @property
    def sagemaker(self) -> SageMakerClient:
        if self._sagemaker is None:
            self._sagemaker = self._session().client("sagemaker", region_name=self.region)
        return self._sagemaker

    @property
    def s3(self) -> S3Client:
        if self._s3 is None:
            self._s3 = self._session().client("s3", region_name=self.region)
        return self._s3

    def _session(self) -> boto3.Session:
        if self.session is None:
            import boto3

            self.session = boto3.Session(region_name=self.region)
        return self.session


def resolve_clients(
    *,
    session: boto3.Session | None = None,
    region: str | None = None,
    sagemaker_client: SageMakerClient | None = None,
    s3_client: S3Client | None = None,
    fallback: AwsClients | None = None,
) -> AwsClients:
    """Clients for one call: explicit clients win, then ``session``/``region``, then ``fallback``."""
    if fallback is not None and session is None and region is None:
        if sagemaker_client is None and s3_client is None:
            return fallback
        return AwsClients(
            fallback.session,
            fallback.region,
            sagemaker_client or fallback._sagemaker,
            s3_client or fallback._s3,
        )
    return AwsClients(session, region, sagemaker_client, s3_client)


@contextmanager
def aws_errors(operation: str, resource: str) -> Iterator[None]:
    """Re-raise botocore's ClientError inside the block as EvaluationAWSError."""
    from botocore.exceptions import ClientError

    try:
        yield
    except ClientError as error:
        raise wrap_client_error(error, operation, resource) from error


def wrap_client_error(error: ClientError, operation: str, resource: str) -> EvaluationAWSError:
    """The EvaluationAWSError for botocore's ``error`` raised by ``operation`` on ``resource``."""
    details = error.response.get("Error", {})
    return EvaluationAWSError(
        operation, resource, str(details.get("Code", "Unknown")), str(details.get("Message", error))
    )
