"""The SageMaker SDK's ``EvaluationPipelineExecution`` API over the lifecycle core.

Keeps the SDK's contract (``start``, ``get``, ``get_all``, ``refresh``, ``stop``, ``wait``,
``show_results``) on the plain execution data, and adds ``retry``, ``summary`` and
``render_results``. Class methods take the SDK's ``session`` and ``region``, or ``clients``
(an :class:`~.clients.AwsClients`); instance methods reuse the clients the execution was built
with unless given ``clients``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, cast

from pydantic import ModelWrapValidatorHandler, PrivateAttr, ValidationInfo, model_validator

from airflow_provider_sm_eval.evaluation import lifecycle
from airflow_provider_sm_eval.evaluation.clients import AwsClients
from airflow_provider_sm_eval.evaluation.constants import EvalType, ExecutionStatus
from airflow_provider_sm_eval.evaluation.models import EvaluationExecutionData
from airflow_provider_sm_eval.evaluation.report import render_results, summarize
from airflow_provider_sm_eval.evaluation.request import StartRequest
from airflow_provider_sm_eval.evaluation.results.summary import EvaluationSummary
from airflow_provider_sm_eval.evaluation.types.kind import ResultFamily
from airflow_provider_sm_eval.evaluation.types.registry import kind_of

if TYPE_CHECKING:
    import boto3
    from typing_extensions import Self

    from airflow_provider_sm_eval.evaluation.definition import PipelineDefinitionInput
    from airflow_provider_sm_eval.evaluation.validators import TagsInput


class EvaluationPipelineExecution(EvaluationExecutionData):
    """One execution of an evaluation pipeline, with the SDK's lifecycle methods.

    Validating a dict on this base class picks the subclass of its ``eval_type``:
    :class:`BenchmarkEvaluationExecution` or :class:`LLMAJEvaluationExecution`.
    """

    _clients: AwsClients | None = PrivateAttr(default=None)

    @model_validator(mode="wrap")
    @classmethod
    def _validate_as_eval_type_class(
        cls,
        data: Any,
        handler: ModelWrapValidatorHandler[Self],
        info: ValidationInfo,
    ) -> Self:
        """On the base class, validate as the eval type's subclass; on a subclass, check the type."""
        if isinstance(data, Mapping) and "eval_type" in data:
            target = execution_class_for(EvalType.parse(data["eval_type"]))
            if cls is EvaluationPipelineExecution and target is not cls:
                return cast("Self", target.model_validate(data, context=info.context))
            if cls is not EvaluationPipelineExecution and target is not cls:
                raise ValueError(
                    f"eval_type {data['eval_type']!r} belongs to {target.__name__}, not {cls.__name__}"
                )
        return handler(data)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvaluationPipelineExecution:
        """Rebuild an execution from ``model_dump(mode="json")`` output, as its eval type's class."""
        return EvaluationPipelineExecution.model_validate(dict(data))

    def __eq__(self, other: object) -> bool:
        """Equal when the data is; the clients an execution holds do not count."""
        if not isinstance(other, EvaluationPipelineExecution):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]

    # Lifecycle -------------------------------------------------------------------------------

    @classmethod
    def start(  # noqa: PLR0917 - the SDK's positional signature
        cls,
        eval_type: EvalType | str,
        name: str,
        pipeline_definition: PipelineDefinitionInput,
        role_arn: str,
        s3_output_path: str | None = None,
        tags: TagsInput | None = None,
        *,
        pipeline_parameters: Mapping[str, str | int | float] | None = None,
        client_request_token: str | None = None,
        display_name: str | None = None,
        description: str | None = None,
        session: boto3.Session | None = None,
        region: str | None = None,
        clients: AwsClients | None = None,
    ) -> EvaluationPipelineExecution:
        """Start an evaluation on the tagged pipeline of ``eval_type``, pinned to this definition.

        Every input is validated before any AWS call (:class:`~.exceptions.InvalidInputError`,
        a ValueError naming the input).
        """
        request = StartRequest(
            eval_type=eval_type,
            name=name,
            pipeline_definition=pipeline_definition,
            role_arn=role_arn,
            s3_output_path=s3_output_path,
            tags=tags,
            pipeline_parameters=pipeline_parameters,
            client_request_token=client_request_token,
            display_name=display_name,
            description=description,
            region=region or (session.region_name if session is not None else None),
        )
        return cls.start_request(request, clients=_given_clients(session, region, clients))

    @classmethod
    def start_request(
        cls, request: StartRequest, *, clients: AwsClients | None = None
    ) -> EvaluationPipelineExecution:
        """Start the evaluation a validated :class:`~.request.StartRequest` describes."""
        clients = clients or AwsClients()
        return _facade(lifecycle.start_execution(request, clients), clients)

    @classmethod
    def get(
        cls,
        arn: str,
        *,
        session: boto3.Session | None = None,
        region: str | None = None,
        clients: AwsClients | None = None,
    ) -> EvaluationPipelineExecution:
        """Describe the execution ``arn`` with all its steps and its S3 output root."""
        clients = _given_clients(session, region, clients)
        return _facade(lifecycle.get_execution(arn, clients), clients)

    @classmethod
    def get_all(
        cls,
        eval_type: EvalType | str | None = None,
        *,
        session: boto3.Session | None = None,
        region: str | None = None,
        clients: AwsClients | None = None,
    ) -> Iterator[EvaluationPipelineExecution]:
        """Every execution of the tagged evaluation pipelines (of one type or all), newest first.

        Built from ListPipelineExecutions summaries: call :meth:`refresh` for the steps.
        """
        clients = _given_clients(session, region, clients)
        return (_facade(data, clients) for data in lifecycle.list_executions(eval_type, clients))

    def refresh(self, *, clients: AwsClients | None = None) -> EvaluationPipelineExecution:
        """Update status, steps and (when unknown) the S3 output root in place; return self."""
        lifecycle.refresh_execution(self, self._use(clients))
        return self

    def stop(self, *, clients: AwsClients | None = None) -> EvaluationPipelineExecution:
        """Ask SageMaker to stop the execution; return self, refreshed."""
        lifecycle.stop_execution(self, self._use(clients))
        return self

    def retry(
        self, client_request_token: str | None = None, *, clients: AwsClients | None = None
    ) -> EvaluationPipelineExecution:
        """Re-run a Failed or Stopped execution from its failed steps; return self, refreshed."""
        lifecycle.retry_execution(self, client_request_token, self._use(clients))
        return self

    def wait(
        self,
        target_status: ExecutionStatus | str = ExecutionStatus.SUCCEEDED,
        poll: float = 5,
        timeout: float | None = None,
        *,
        on_progress: Callable[[EvaluationPipelineExecution], None] | None = None,
        stop_on_timeout: bool = False,
        clients: AwsClients | None = None,
    ) -> EvaluationPipelineExecution:
        """Poll until a terminal status; return self on ``target_status``, raise otherwise.

        Raises the :class:`~.exceptions.EvaluationExecutionError` subclass of the status reached,
        or :class:`~.exceptions.EvaluationTimeoutError` after ``timeout`` seconds (stopping the
        execution first when ``stop_on_timeout``). ``on_progress`` is called whenever a step's
        status changes.
        """
        lifecycle.wait_for_execution(
            self,
            target_status,
            poll=poll,
            timeout=timeout,
            on_progress=on_progress,
            stop_on_timeout=stop_on_timeout,
            clients=self._use(clients),
        )
        return self

    # Results ---------------------------------------------------------------------------------

    def summary(self, *, clients: AwsClients | None = None) -> EvaluationSummary:
        """A compact, bounded summary of the results, fit for XCom."""
        clients = self._use(clients)
        lifecycle.describe_if_partial(self, clients)
        return summarize(self, clients.s3)

    def render_results(
        self,
        limit: int = 5,
        offset: int = 0,
        show_explanations: bool = False,
        *,
        summary: EvaluationSummary | None = None,
        clients: AwsClients | None = None,
    ) -> str:
        """The results as plain-text tables (LLM-as-judge: ``limit`` examples from ``offset``).

        Pass this execution's ``summary()`` to spare a second pass over the per-example files.
        """
        clients = self._use(clients)
        lifecycle.describe_if_partial(self, clients)
        return render_results(
            self,
            clients.s3,
            limit=limit,
            offset=offset,
            show_explanations=show_explanations,
            summary=summary,
        )

    def show_results(
        self,
        limit: int = 5,
        offset: int = 0,
        show_explanations: bool = False,
        *,
        clients: AwsClients | None = None,
    ) -> None:
        """Print :meth:`render_results`, like the SDK's ``show_results``."""
        print(self.render_results(limit, offset, show_explanations, clients=clients))

    def _use(self, clients: AwsClients | None) -> AwsClients:
        """``clients`` when given (kept for later calls), else the ones this execution holds."""
        if clients is not None:
            self._clients = clients
        elif self._clients is None:
            self._clients = AwsClients()
        return self._clients


class BenchmarkEvaluationExecution(EvaluationPipelineExecution):
    """A benchmark or custom-scorer execution (one result format: custom and base metrics)."""


class LLMAJEvaluationExecution(EvaluationPipelineExecution):
    """An LLM-as-judge execution (aggregate judge scores and per-example records)."""


def execution_class_for(eval_type: EvalType) -> type[EvaluationPipelineExecution]:
    """The execution class holding executions of ``eval_type``."""
    return _CLASS_OF_FAMILY[kind_of(eval_type).family]


#: The SDK's execution class of each result family.
_CLASS_OF_FAMILY: dict[ResultFamily, type[EvaluationPipelineExecution]] = {
    ResultFamily.BENCHMARK: BenchmarkEvaluationExecution,
    ResultFamily.LLM_AS_JUDGE: LLMAJEvaluationExecution,
}


def _facade(data: EvaluationExecutionData, clients: AwsClients) -> EvaluationPipelineExecution:
    """``data`` as its eval type's execution class, holding ``clients`` for later calls."""
    execution = execution_class_for(data.eval_type).model_construct(
        _fields_set=data.model_fields_set, **data.__dict__
    )
    execution._clients = clients
    execution._s3_output_path_problem = data.s3_output_path_problem
    return execution


def _given_clients(
    session: boto3.Session | None, region: str | None, clients: AwsClients | None
) -> AwsClients:
    """``clients``, or clients built from the SDK's ``session`` and ``region``; never both."""
    if clients is None:
        return AwsClients(session, region)
    if session is not None or region is not None:
        raise ValueError("pass either clients or session/region, not both")
    return clients
