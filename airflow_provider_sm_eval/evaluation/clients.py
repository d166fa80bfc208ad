"""The boto3 clients a lifecycle call uses, as one value, and the translation of AWS errors.

Callers may hand in their own clients (the Airflow hook does); otherwise clients are built from
a boto3 session and region. Clients are never serialized, logged or put into messages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from airflow_provider_sm_eval.evaluation.exceptions import EvaluationAWSError

if TYPE_CHECKING:
    import boto3
    from botocore.exceptions import ClientError
    from botocore.loaders import Loader
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sagemaker import SageMakerClient


#: The services a lifecycle call uses.
Service = Literal["sagemaker", "s3"]
#: Builds the client of one service when a call first needs it.
ClientBuilder = Callable[[Service], Any]


@dataclass
class AwsClients:
    """A SageMaker client and an S3 client, each built on first use unless given: by ``build``
    (the Airflow hook's, from its connection), else from ``session``/``region`` (boto3's defaults
    when both are None). A call that needs no S3 (a start, a describe) builds no S3 client: a
    client costs a process a service model's parse and endpoint set-up."""

    session: boto3.Session | None = None
    region: str | None = None
    sagemaker_client: SageMakerClient | None = field(default=None, repr=False)
    s3_client: S3Client | None = field(default=None, repr=False)
    build: ClientBuilder | None = field(default=None, repr=False)

    @property
    def sagemaker(self) -> SageMakerClient:
        if self.sagemaker_client is None:
            self.sagemaker_client = self._build("sagemaker")
        return self.sagemaker_client

    @property
    def s3(self) -> S3Client:
        if self.s3_client is None:
            self.s3_client = self._build("s3")
        return self.s3_client

    def _build(self, service: Service) -> Any:
        if self.build is not None:
            return self.build(service)
        return self._session().client(service, region_name=self.region)

    def _session(self) -> boto3.Session:
        if self.session is None:
            import boto3

            self.session = share_service_data(boto3.Session(region_name=self.region))
        return self.session


def share_service_data(session: boto3.Session) -> boto3.Session:
    """Give ``session`` the process's botocore data loader and return it.

    A new boto3 session parses the endpoint rules and each service model it makes a client for
    from botocore's JSON files (SageMaker's alone: about 0.1 CPU-s); a hook makes new sessions, so
    every task, poke and UI tab view paid that again. The files are read-only data, and a
    session's clients already share its loader; with this, the sessions of one process do too.
    """
    botocore_session = session._session
    data_path = botocore_session.get_config_variable("data_path")
    botocore_session.register_component("data_loader", _loader(data_path))
    return session


@cache
def _loader(data_path: str | None) -> Loader:
    """One loader per search path (``AWS_DATA_PATH``), as botocore builds a session's own."""
    from botocore.loaders import create_loader

    return create_loader(data_path)


@contextmanager
def aws_errors(operation: str, resource: str) -> Iterator[None]:
    """Re-raise botocore's ClientError inside the block as EvaluationAWSError."""
    from botocore.exceptions import ClientError

    try:
        yield
    except ClientError as error:
        raise wrap_client_error(error, operation, resource) from error


def describe_client_error(error: BaseException, resource: str) -> str:
    """``error`` in words; botocore's refusal of a permission names its IAM action and what to grant."""
    from botocore.exceptions import ClientError

    if isinstance(error, ClientError):
        return str(wrap_client_error(error, error.operation_name, resource))
    return f"{type(error).__name__}: {error}"


def error_code(error: ClientError) -> str:
    """The AWS error code of botocore's ``error``."""
    return str(error.response.get("Error", {}).get("Code", "Unknown"))


def wrap_client_error(error: ClientError, operation: str, resource: str) -> EvaluationAWSError:
    """The EvaluationAWSError for botocore's ``error`` raised by ``operation`` on ``resource``."""
    details = error.response.get("Error", {})
    return EvaluationAWSError(operation, resource, error_code(error), str(details.get("Message", error)))
