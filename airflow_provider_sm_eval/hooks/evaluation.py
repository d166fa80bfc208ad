"""SageMakerEvaluationHook: the evaluation lifecycle core over an Airflow ``aws`` connection.

Credentials, role assumption, region, ``verify``, botocore config and endpoint URLs all come
from the amazon provider's :class:`AwsBaseHook`; this hook hands the clients it builds to the
lifecycle core (:mod:`..evaluation.lifecycle`, :mod:`..evaluation.report`) and never
touches credentials itself. It returns the core's plain execution data: the SDK-compatible
façade (:mod:`..evaluation.execution`) is for users without Airflow, not on this path. Triggers
use the async half, which borrows from the triggerer runtime (:mod:`..triggerer`): one aiobotocore
client per connection, region and event loop, the pipeline watches and the queue consumers.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Callable, Collection, Iterator, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_sm_eval.connection_args import ConnectionArgs
from airflow_provider_sm_eval.evaluation import lifecycle
from airflow_provider_sm_eval.evaluation.clients import AwsClients, Service, share_service_data
from airflow_provider_sm_eval.evaluation.constants import (
    STOPPABLE_STATUSES,
    EvalType,
    ExecutionStatus,
)
from airflow_provider_sm_eval.evaluation.exceptions import execution_error_for
from airflow_provider_sm_eval.evaluation.lifecycle import Execution
from airflow_provider_sm_eval.evaluation.models import EvaluationExecutionData, PipelineExecutionStatus
from airflow_provider_sm_eval.evaluation.polling import StatusCallback
from airflow_provider_sm_eval.evaluation.report import render_results, summarize
from airflow_provider_sm_eval.triggerer.clients import ClientKey, client_key
from airflow_provider_sm_eval.triggerer.events import EventConsumer
from airflow_provider_sm_eval.triggerer.runtime import RUNTIME
from airflow_provider_sm_eval.triggerer.watch import list_steps
from airflow_provider_sm_eval.version_compat import AwsBaseHook

if TYPE_CHECKING:
    from types import FrameType

    from botocore.config import Config

    from airflow_provider_sm_eval.evaluation.request import StartRequest
    from airflow_provider_sm_eval.evaluation.results.summary import EvaluationSummary

log = logging.getLogger(__name__)

#: Attempts of every AWS call of the hook, in botocore's standard retry mode (throttling and transient
#: errors retried with jittered exponential backoff; its default is 3 attempts), so
#: that throttling in a worker is waited out instead of failing the task. Not ``adaptive``: its
#: client-side rate limiter sleeps in the calling thread, which would block a triggerer's event loop.
DEFAULT_MAX_ATTEMPTS = 10


class SageMakerEvaluationHook(AwsBaseHook):
    """Start, inspect, wait on, stop and read SageMaker evaluation executions.

    :param aws_conn_id: Airflow connection of type ``aws`` (None: boto3's default chain).
    :param region_name: AWS region; overrides the connection's ``region_name`` extra.
    :param verify: TLS verification of the AWS endpoints (bool or CA bundle path).
    :param config: botocore client config, as a dict of ``botocore.config.Config`` arguments.
    """

    hook_name = "Amazon SageMaker Evaluation"

    def __init__(
        self,
        aws_conn_id: str | None = AwsBaseHook.default_conn_name,
        region_name: str | None = None,
        verify: bool | str | None = None,
        config: Config | dict[str, Any] | None = None,
    ) -> None:
        self._config_dict = dict(config) if isinstance(config, Mapping) else None
        super().__init__(
            aws_conn_id=aws_conn_id,
            region_name=region_name,
            verify=verify,
            config=config,
            client_type="sagemaker",
        )

    @property
    def config(self) -> Config:
        """The botocore config of every client (sync and async): the provider's retry policy
        (standard mode, :data:`DEFAULT_MAX_ATTEMPTS`) under what the connection's ``config_kwargs``
        or the hook's ``config`` set (their ``retries``, when given, replace it whole)."""
        from botocore.config import Config

        default = Config(retries={"mode": "standard", "total_max_attempts": DEFAULT_MAX_ATTEMPTS})
        return default.merge(super().config)

    # Sync clients ------------------------------------------------------------------------------

    def get_session(self, region_name: str | None = None, deferrable: bool = False) -> Any:
        """The connection's session (``AwsBaseHook.get_session``); a boto3 one shares the process's
        botocore data, so each new hook does not parse the service models again."""
        session = super().get_session(region_name=region_name, deferrable=deferrable)
        return session if deferrable else share_service_data(session)

    @staticmethod
    def _find_operator_class_name(target_function_name: str) -> str | None:
        """The class of the innermost ``target_function_name`` call on the stack (the caller the
        amazon hook names in each client's user agent), as ``AwsBaseHook``'s, without its
        ``inspect.stack()``: that reads the source of every frame, about 0.1 CPU s per client built
        in a task process."""
        frame: FrameType | None = sys._getframe(1)
        while frame is not None:
            if frame.f_code.co_name == target_function_name:
                return type(frame.f_locals["self"]).__name__
            frame = frame.f_back
        return None

    @cached_property
    def s3_client(self) -> Any:
        """A boto3 S3 client from the same connection (result files live in S3)."""
        return self.get_session(region_name=self.region_name).client(
            "s3",
            endpoint_url=self.conn_config.get_service_endpoint_url("s3"),
            config=self._get_config(),
            verify=self.verify,
        )

    @cached_property
    def aws_clients(self) -> AwsClients:
        """The SageMaker and S3 clients of this connection, as the lifecycle core takes them; each
        is built when a call first needs it (a start needs no S3 client)."""
        return AwsClients(build=self._client_of)

    def _client_of(self, service: Service) -> Any:
        return self.s3_client if service == "s3" else self.conn

    # Lifecycle -----------------------------------------------------------------------------------

    def start_evaluation(self, request: StartRequest) -> EvaluationExecutionData:
        """Start the execution ``request`` describes (validated when it was built)."""
        return lifecycle.start_execution(request, self.aws_clients)

    def get_execution(self, execution_arn: str) -> EvaluationExecutionData:
        """The execution with every step and its S3 output root."""
        return lifecycle.get_execution(execution_arn, self.aws_clients)

    def list_executions(self, eval_type: EvalType | str | None = None) -> Iterator[EvaluationExecutionData]:
        """Executions of the evaluation pipelines (of one type or all), newest first, without steps."""
        return lifecycle.list_executions(eval_type, self.aws_clients)

    def find_execution(
        self,
        eval_type: EvalType | str,
        description_marker: str,
        created_after: datetime | None = None,
    ) -> list[EvaluationExecutionData]:
        """Executions whose description contains ``description_marker``, newest first.

        Only executions created after ``created_after`` are listed (SageMaker filters them), so a
        long history is not read to find a recent execution.
        """
        executions = lifecycle.list_executions(eval_type, self.aws_clients, created_after=created_after)
        return [e for e in executions if description_marker in (e.description or "")]

    def stop_execution(self, execution_arn: str) -> EvaluationExecutionData:
        """Stop the execution when it is still running; return it, refreshed, either way."""
        execution = self.get_execution(execution_arn)
        if execution.status.overall_status in STOPPABLE_STATUSES:
            lifecycle.stop_execution(execution, self.aws_clients)
        else:
            self.log.info(
                "Evaluation execution %s is %s: nothing to stop",
                execution_arn,
                execution.status.overall_status.value,
            )
        return execution

    def retry_execution(
        self, execution_arn: str, client_request_token: str | None = None
    ) -> EvaluationExecutionData:
        """Resume a Failed or Stopped execution from its failed steps (RetryPipelineExecution)."""
        execution = self.get_execution(execution_arn)
        lifecycle.retry_execution(execution, client_request_token, self.aws_clients)
        return execution

    def wait_for_execution(
        self,
        execution: Execution,
        *,
        success_statuses: Collection[ExecutionStatus] = (ExecutionStatus.SUCCEEDED,),
        poll_interval: float = 30,
        timeout: float | None = None,
        stop_on_timeout: bool = False,
        on_progress: Callable[[Execution], None] | None = None,
    ) -> Execution:
        """Poll until a terminal status; return the execution on one of ``success_statuses``.

        Any other terminal status raises the core's ``EvaluationExecutionError`` subclass naming
        the failed steps; ``timeout`` raises ``EvaluationTimeoutError``.
        """
        reached = lifecycle.wait_until_terminal(
            execution,
            poll=poll_interval,
            timeout=timeout,
            on_progress=on_progress,
            stop_on_timeout=stop_on_timeout,
            clients=self.aws_clients,
        )
        if reached not in success_statuses:
            raise execution_error_for(execution.status, execution.arn)
        return execution

    # Results ---------------------------------------------------------------------------------------

    def get_summary(self, execution: EvaluationExecutionData) -> EvaluationSummary:
        """The bounded, JSON-serializable summary of a succeeded execution's results."""
        lifecycle.describe_if_partial(execution, self.aws_clients)
        return summarize(execution, self.s3_client)

    def render_results(
        self,
        execution: EvaluationExecutionData,
        limit: int = 5,
        summary: EvaluationSummary | None = None,
    ) -> str:
        """The results as plain-text tables, for task logs (``summary`` spares re-reading examples)."""
        lifecycle.describe_if_partial(execution, self.aws_clients)
        return render_results(execution, self.s3_client, limit=limit, summary=summary)

    # Async (triggers) ------------------------------------------------------------------------------

    @property
    def connection_args(self) -> ConnectionArgs:
        """The arguments this hook was built with (a botocore ``Config`` object is not among them)."""
        return ConnectionArgs(self.aws_conn_id, self._region_name, self._verify, self._config_dict)

    def _async_client_key(self, service: str) -> ClientKey:
        return client_key(service, self.connection_args)

    @asynccontextmanager
    async def shared_async_client(self, service: str = "sagemaker") -> AsyncIterator[Any]:
        """Borrow the aiobotocore ``service`` client shared by the users of this connection in this loop."""
        async with RUNTIME.shared_client(
            self._async_client_key(service), lambda: self._open_async_client(service)
        ) as client:
            yield client

    @asynccontextmanager
    async def event_consumer(self, event_queue_url: str) -> AsyncIterator[EventConsumer]:
        """The process's consumer of the SQS queue ``event_queue_url``, over this connection's client."""
        async with self.shared_async_client("sqs") as sqs:
            with RUNTIME.event_consumer(self._async_client_key("sqs"), sqs, event_queue_url) as consumer:
                yield consumer

    async def _open_async_client(self, service: str) -> Any:
        if service == self.client_type:
            return await self.get_async_conn()
        return await asyncio.to_thread(self._async_client_context, service)

    def _async_client_context(self, service: str) -> Any:
        """aiobotocore's client context for ``service``, from this connection (resolves credentials)."""
        session: Any = self.get_session(region_name=self.region_name, deferrable=True)
        return session.create_client(
            service_name=service,
            endpoint_url=self.conn_config.get_service_endpoint_url(service),
            config=self._get_config(),
            verify=self.verify,
        )

    async def wait_for_terminal_status_async(
        self,
        client: Any,
        execution_arn: str,
        poll_interval: float,
        on_progress: StatusCallback | None = None,
        *,
        event_queue_url: str | None = None,
    ) -> PipelineExecutionStatus:
        """Wait, without blocking, through the triggerer-wide watch of the execution's pipeline.

        With ``event_queue_url``, the process's consumer of that SQS queue wakes the wait when
        the execution's status-change event arrives; it still polls every ``poll_interval``.
        """
        key = self._async_client_key("sagemaker")
        if event_queue_url is None:
            return await RUNTIME.wait_for_terminal_status(
                key, client, execution_arn, poll_interval, on_progress
            )
        async with self.event_consumer(event_queue_url) as events:
            return await RUNTIME.wait_for_terminal_status(
                key, client, execution_arn, poll_interval, on_progress, events=events
            )

    @staticmethod
    async def get_execution_status_async(client: Any, execution_arn: str) -> PipelineExecutionStatus:
        """The execution's status with every step, without blocking."""
        described = await client.describe_pipeline_execution(PipelineExecutionArn=execution_arn)
        return PipelineExecutionStatus.from_api(described, await list_steps(client, execution_arn))

    @staticmethod
    async def stop_execution_async(client: Any, execution_arn: str) -> None:
        """StopPipelineExecution with a fresh idempotency token."""
        import uuid

        await client.stop_pipeline_execution(
            PipelineExecutionArn=execution_arn, ClientRequestToken=f"sm-eval-stop-{uuid.uuid4()}"
        )
