"""StartEvaluationOperator: start a SageMaker evaluation, reattach on retry, wait, report results.

Importing this module is cheap (no boto3, botocore or aiobotocore): the hook, the trigger and
the lifecycle core's AWS code are imported when the task runs.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_sm_eval import settings
from airflow_provider_sm_eval.evaluation.arns import parse_execution_arn
from airflow_provider_sm_eval.evaluation.constants import (
    PIPELINE_NAME_PLACEHOLDER,
    TERMINAL_STATUSES,
    EvalType,
    ExecutionStatus,
)
from airflow_provider_sm_eval.evaluation.pipeline_events import validate_queue_url
from airflow_provider_sm_eval.evaluation.polling import validate_poll_interval
from airflow_provider_sm_eval.links.console_urls import execution_console_url, s3_console_url
from airflow_provider_sm_eval.links.evaluation import EvaluationExecutionLink, EvaluationResultsLink
from airflow_provider_sm_eval.operators.base import EvaluationBaseOperator
from airflow_provider_sm_eval.utils.mixins import aws_template_fields
from airflow_provider_sm_eval.utils.outcome import (
    DEFAULT_SUCCESS_STATUSES,
    parse_success_statuses,
    raise_for_outcome,
    status_from_event,
    steps_payload,
)
from airflow_provider_sm_eval.utils.reattach import (
    ON_FAILED_EXECUTION,
    STATE_STORE_ARN_KEY,
    Attachment,
    OnFailedExecution,
    TaskInstanceIdentity,
    decide_attachment,
)
from airflow_provider_sm_eval.utils.validation import require_bool, require_count
from airflow_provider_sm_eval.utils.xcom import XCOM_EXECUTION_ARN, XCOM_RESULTS, XCOM_STEPS
from airflow_provider_sm_eval.version_compat import (
    AIRFLOW_V_3_3_PLUS,
    AIRFLOW_VERSION,
    AirflowException,
    AirflowFailException,
    TaskDeferralTimeout,
    conf,
)

if TYPE_CHECKING:
    import jinja2
    from airflow.providers.openlineage.extractors import OperatorLineage

    from airflow_provider_sm_eval.evaluation.models import EvaluationExecutionData
    from airflow_provider_sm_eval.evaluation.request import StartRequest
    from airflow_provider_sm_eval.hooks.evaluation import SageMakerEvaluationHook
    from airflow_provider_sm_eval.version_compat import Context

#: This operator's argument for each StartRequest field it names differently.
_ARGUMENT_OF_FIELD = {"name": "evaluation_name"}


class StartEvaluationOperator(EvaluationBaseOperator):
    """Start a SageMaker evaluation pipeline execution and (optionally) wait for it, blocking or deferred.

    A retried try of the same task instance reattaches to the execution an earlier try started
    (found through Airflow 3.3's ``task_state_store``, else through a marker in the execution
    description): it waits on it while it runs, reuses it once it succeeded, and when it failed
    does what ``on_failed_execution`` says.

    XCom (the gate and downstream tasks read these):

    - ``execution_arn`` (pushed as soon as the execution exists, before waiting): the ARN.
    - ``steps``: list of ``StepDetail`` dicts (name, status, start_time, end_time, display_name,
      failure_reason, job_arn).
    - ``results``: ``EvaluationSummary`` dict (eval_type, execution_arn, metrics
      ``{"custom": {...}, "base": {...}}``, deltas, win_rates, example_counts, artifact_uris,
      truncated, non_numeric_metrics), or None when results were not read.
    - ``return_value``: ``{"execution_arn", "eval_type", "status", "failure_reason", "steps",
      "results", "console_url"}`` with the same ``steps`` and ``results``. Without waiting,
      ``status`` is the status right after the start and ``steps`` / ``results`` are not final.

    :param eval_type: ``benchmark``, ``customscorer`` or ``llmasjudge``.
    :param evaluation_name: name of the evaluation (display name ``{name}-{unix_time}``).
    :param pipeline_definition: the pipeline definition as a dict, a JSON string or a path to a
        ``.json`` file.
    :param role_arn: IAM role the pipeline runs as.
    :param s3_output_path: ``s3://bucket/prefix`` receiving the results (passed as the
        ``S3OutputPath`` pipeline parameter when the definition declares it).
    :param tags: tags of the pipeline, as a dict or a list of ``{"Key", "Value"}``.
    :param pipeline_parameters: values of parameters the definition declares.
    :param wait_for_completion: wait for a terminal status (else return right after the start).
    :param deferrable: wait in the triggerer; default ``[operators] default_deferrable``.
    :param poll_interval: seconds between status polls (jittered; never longer), blocking or deferred.
    :param success_statuses: terminal statuses that count as success, in both waiting modes.
    :param on_failed_execution: when an earlier try's execution ended unsuccessfully:
        ``restart`` starts a new execution, ``retry`` resumes it from the failed steps
        (RetryPipelineExecution; a CompletedWithFailures execution is restarted), ``fail`` fails.
    :param stop_on_kill: stop the execution when the task is killed, times out or is marked
        failed while deferred.
    :param read_results: read the results summary of a succeeded execution into XCom.
    :param results_log_limit: LLM-as-judge examples shown in the results table of the task log.
    :param studio_domain_id: SageMaker Studio domain; the execution link then opens Studio.
    :param event_queue_url: deferred only: SQS queue of SageMaker's status-change events
        (README "Event-driven completion"): the wait then ends soon after its event, and within
        ``poll_interval`` in any case. Default: ``[sm_eval] event_queue_url``.
    :param dry_run: validate every input and return the definition that would be started
        (``{"dry_run": True, "eval_type", "definition", ...}``) without creating or starting
        anything in AWS.
    :param kwargs: the connection arguments of :class:`EvaluationBaseOperator` and
        ``BaseOperator``'s.
    """

    template_fields: Sequence[str] = aws_template_fields(
        "eval_type",
        "evaluation_name",
        "pipeline_definition",
        "role_arn",
        "s3_output_path",
        "tags",
        "pipeline_parameters",
        "studio_domain_id",
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {
        "pipeline_definition": "json",
        "tags": "json",
        "pipeline_parameters": "json",
    }
    operator_extra_links = (EvaluationExecutionLink(), EvaluationResultsLink())
    #: This operator's argument for each StartRequest field it names differently.
    argument_of_field: ClassVar[Mapping[str, str]] = _ARGUMENT_OF_FIELD
    ui_color = "#e6f1f2"

    def __init__(
        self,
        *,
        eval_type: EvalType | str,
        evaluation_name: str,
        pipeline_definition: Mapping[str, Any] | str,
        role_arn: str,
        s3_output_path: str | None = None,
        tags: Mapping[str, str] | list[dict[str, str]] | None = None,
        pipeline_parameters: Mapping[str, str | int | float] | None = None,
        wait_for_completion: bool = True,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poll_interval: float = 30,
        success_statuses: Collection[ExecutionStatus | str] = DEFAULT_SUCCESS_STATUSES,
        on_failed_execution: OnFailedExecution = "restart",
        stop_on_kill: bool = True,
        read_results: bool = True,
        results_log_limit: int = 5,
        studio_domain_id: str | None = None,
        event_queue_url: str | None = None,
        dry_run: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if on_failed_execution not in ON_FAILED_EXECUTION:
            raise ValueError(
                f"on_failed_execution {on_failed_execution!r} is not one of: {', '.join(ON_FAILED_EXECUTION)}"
            )
        self.eval_type = eval_type
        self.evaluation_name = evaluation_name
        self.pipeline_definition = pipeline_definition
        self.role_arn = role_arn
        self.s3_output_path = s3_output_path
        self.tags = tags
        self.pipeline_parameters = pipeline_parameters
        self.wait_for_completion = require_bool(wait_for_completion, "wait_for_completion")
        self.deferrable = require_bool(deferrable, "deferrable")
        self.poll_interval = validate_poll_interval(poll_interval)
        self.success_statuses = parse_success_statuses(success_statuses)
        self.on_failed_execution = on_failed_execution
        self.stop_on_kill = require_bool(stop_on_kill, "stop_on_kill")
        self.read_results = require_bool(read_results, "read_results")
        self.results_log_limit = require_count(results_log_limit, "results_log_limit")
        self.studio_domain_id = studio_domain_id
        self.event_queue_url = validate_queue_url(event_queue_url)
        #: ``dry_run`` (BaseOperator.dry_run is a method: it renders the templates).
        self.dry_run_only = require_bool(dry_run, "dry_run")
        self._execution_arn: str | None = None
        #: Result files of the succeeded execution, for OpenLineage.
        self._result_uris: list[str] = []

    # Execute -------------------------------------------------------------------------------------

    def execute(self, context: Context) -> dict[str, Any]:
        """Validate; decide once whether to reattach to an earlier try's execution, resume or replace
        it, or start one; then follow the execution (publish, wait blocking or deferred, complete)."""
        hook = self.hook
        request = self._start_request(context, hook)
        if self.dry_run_only:
            return self._dry_run_value(request)
        earlier = self._earlier_execution(context, hook, request.eval_type)
        execution, reattached = self._attach(context, hook, request, earlier)
        return self._follow(context, hook, execution, reattached=reattached)

    def _follow(
        self,
        context: Context,
        hook: SageMakerEvaluationHook,
        execution: EvaluationExecutionData,
        *,
        reattached: bool,
    ) -> dict[str, Any]:
        """Publish the execution, wait for it (blocking, or deferred: ``execute_complete`` goes on),
        then end the task on it."""
        self._execution_arn = execution.arn
        self._publish_execution(context, execution)
        if not execution.status.is_terminal:
            if not self.wait_for_completion:
                self.log.info("Not waiting for evaluation execution %s", execution.arn)
                return self._return_value(execution, results=None)
            if self.deferrable:
                self._defer(execution, reattached=reattached)
            hook.wait_for_execution(
                execution, success_statuses=TERMINAL_STATUSES, poll_interval=self.poll_interval
            )
        return self._ended(context, hook, execution, reattached=reattached)

    def _ended(
        self,
        context: Context,
        hook: SageMakerEvaluationHook,
        execution: EvaluationExecutionData,
        *,
        reattached: bool,
    ) -> dict[str, Any]:
        """Complete the task on the execution it followed, which has ended.

        One exception: an execution this try reattached to that then ended Stopped was stopped by
        the kill of the try that started it (the kill can land after this try reattached). The
        decision is then made on it as on an execution found stopped (never a reattach, since
        Stopped is no success here), and its outcome followed instead.
        """
        status = execution.status.overall_status
        if reattached and status is ExecutionStatus.STOPPED and status not in self.success_statuses:
            request = self._start_request(context, hook)
            replacement, _ = self._attach(context, hook, request, execution)
            return self._follow(context, hook, replacement, reattached=False)
        return self._complete(context, hook, execution)

    def _defer(self, execution: EvaluationExecutionData, *, reattached: bool) -> None:
        """Wait in the triggerer; what ``execute_complete`` needs besides the event travels in its kwargs."""
        from airflow_provider_sm_eval.triggers.evaluation_execution import EvaluationExecutionTrigger

        if self.stop_on_kill and not AIRFLOW_V_3_3_PLUS:
            self.log.warning(
                "Airflow %s does not call a trigger's on_kill (Airflow 3.3 does): if this deferred task "
                "is cleared or marked failed or success, evaluation execution %s is stopped by the "
                "trigger when the triggerer cancels it and the task instance is no longer deferred",
                AIRFLOW_VERSION,
                execution.arn,
            )
        self.defer(
            trigger=EvaluationExecutionTrigger(
                execution.arn,
                **self.connection_args.as_kwargs(),
                poll_interval=self.poll_interval,
                stop_on_kill=self.stop_on_kill,
                event_queue_url=settings.event_queue_url(self.event_queue_url),
            ),
            method_name="execute_complete",
            kwargs={
                "execution_arn": execution.arn,
                "pipeline_name": execution.pipeline_name,
                "s3_output_path": execution.s3_output_path,
                "reattached": reattached,
            },
            timeout=self.execution_timeout,
        )

    def execute_complete(
        self,
        context: Context,
        event: dict[str, Any] | None = None,
        *,
        execution_arn: str | None = None,
        pipeline_name: str | None = None,
        s3_output_path: str | None = None,
        reattached: bool = False,
    ) -> dict[str, Any]:
        """Resume after the trigger's event: the same success rule and XCom as the blocking path.

        The status comes from the event, once it is checked to be an event of the execution this
        task deferred on; AWS is called again only to read results. Airflow passes the defer
        kwargs back; ``dag.test()`` drops them, so the ARN this try pushed before deferring stands in.
        """
        from airflow_provider_sm_eval.evaluation.models import EvaluationExecutionData

        arn = execution_arn or context["ti"].xcom_pull(task_ids=self.task_id, key=XCOM_EXECUTION_ARN)
        if not isinstance(arn, str) or not arn:
            raise AirflowException("Resumed without the ARN of the execution this task deferred on")
        self._execution_arn = arn
        execution = EvaluationExecutionData(
            arn=arn,
            name=self.evaluation_name,
            eval_type=EvalType.parse(self.eval_type),
            status=status_from_event(event, arn),
            pipeline_name=pipeline_name or parse_execution_arn(arn).pipeline_name,
            s3_output_path=s3_output_path,
        )
        return self._ended(context, self.hook, execution, reattached=reattached)

    def render_template(
        self,
        content: Any,
        context: Context,
        jinja_env: jinja2.Environment | None = None,
        seen_oids: set[int] | None = None,
    ) -> Any:
        """Render like any operator, except that the SageMaker SDK's ``{{ pipeline_name }}`` stays as
        it is: the pipeline's real name replaces it when the pipeline is created or updated."""
        if isinstance(content, str):
            content = PIPELINE_NAME_PLACEHOLDER.sub(
                lambda match: f"{{% raw %}}{match.group(0)}{{% endraw %}}", content
            )
        return super().render_template(content, context, jinja_env, seen_oids)

    def resume_execution(self, next_method: str, next_kwargs: dict[str, Any] | None, context: Context) -> Any:
        """Stop the execution when the deferral timed out (``execution_timeout`` reached while deferred)."""
        try:
            return super().resume_execution(next_method, next_kwargs, context)
        except TaskDeferralTimeout:
            arn = context["ti"].xcom_pull(task_ids=self.task_id, key=XCOM_EXECUTION_ARN)
            if self.stop_on_kill and arn:
                self.log.info("Timed out while deferred: stopping evaluation execution %s", arn)
                self.hook.stop_execution(arn)
            raise

    def on_kill(self) -> None:
        """Stop the execution this try is waiting on, when ``stop_on_kill``."""
        if self.stop_on_kill and self._execution_arn:
            self.log.info("Task killed: stopping evaluation execution %s", self._execution_arn)
            self.hook.stop_execution(self._execution_arn)

    def get_openlineage_facets_on_start(self) -> OperatorLineage | None:
        """OpenLineage before the run: the models and S3 data to evaluate and the S3 output root."""
        return self._lineage(result_uris=[], execution_arn=None)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage | None:
        """OpenLineage: the models and S3 data evaluated, the result files written, the execution."""
        return self._lineage(result_uris=self._result_uris, execution_arn=self._execution_arn)

    def _lineage(self, *, result_uris: list[str], execution_arn: str | None) -> OperatorLineage | None:
        from airflow_provider_sm_eval.utils.lineage import operator_lineage

        input_uris, models = self._lineage_inputs()
        return operator_lineage(
            input_uris,
            result_uris or ([self.s3_output_path] if self.s3_output_path else []),
            models=models,
            execution_arn=execution_arn,
        )

    def _lineage_inputs(self) -> tuple[list[str], list[str]]:
        """The S3 URIs and the models the evaluation reads, from the given definition (no AWS call)."""
        from airflow_provider_sm_eval.evaluation.definition import load_pipeline_definition
        from airflow_provider_sm_eval.utils.lineage import definition_input_uris, definition_model_ids

        definition = load_pipeline_definition(self.pipeline_definition).document
        return (
            definition_input_uris(definition, self.pipeline_parameters),
            definition_model_ids(definition, self.pipeline_parameters),
        )

    # Steps ------------------------------------------------------------------------------------------

    def _start_request(self, context: Context, hook: SageMakerEvaluationHook) -> StartRequest:
        """Check every rendered input before any AWS call; bad input fails without retries.

        The region is the one the hook's client resolves (argument, connection or environment).
        """
        from airflow_provider_sm_eval.evaluation.exceptions import InvalidInputError
        from airflow_provider_sm_eval.evaluation.request import StartRequest

        identity = TaskInstanceIdentity.from_context(context)
        try:
            fields: dict[str, Any] = {
                "eval_type": self.eval_type,
                "name": self.evaluation_name,
                "role_arn": self.role_arn,
                "s3_output_path": self.s3_output_path,
                "tags": self.tags,
                "pipeline_parameters": self.pipeline_parameters,
                "client_request_token": identity.client_request_token("start", context["ti"].try_number),
                "description": f"Evaluation execution: {self.evaluation_name} {identity.description_marker}",
                "region": _resolved_region(hook),
            }
            return StartRequest(**{**fields, **self._definition_fields(context, hook)})
        except InvalidInputError as error:
            argument = self.argument_of_field.get(error.field, error.field)
            message = str(error) if argument == error.field else f"{argument}: {error}"
            raise AirflowFailException(message) from None

    def _definition_fields(self, context: Context, hook: SageMakerEvaluationHook) -> dict[str, Any]:
        """The ``StartRequest`` fields that come with the definition to start: here the definition
        given. The evaluator operators build theirs here, at execute time, with the fields their
        builder sets (pipeline-name positions, the pipeline's tags); an ``InvalidInputError``
        raised here fails the task naming the argument."""
        return {"pipeline_definition": self.pipeline_definition}

    def _dry_run_value(self, request: StartRequest) -> dict[str, Any]:
        """What a dry run returns: the validated definition that a run would start, and its inputs."""
        self.log.info("Dry run: nothing started; the %s definition is valid", request.eval_type.value)
        return {
            "dry_run": True,
            "eval_type": request.eval_type.value,
            "display_name": request.display_name,
            "definition": request.pipeline_definition.document,
            "parameters": request.execution_parameters(),
        }

    def _attach(
        self,
        context: Context,
        hook: SageMakerEvaluationHook,
        request: StartRequest,
        earlier: EvaluationExecutionData | None,
    ) -> tuple[EvaluationExecutionData, bool]:
        """Do what :func:`decide_attachment` says about ``earlier`` (the execution an earlier try
        started, if any): the execution to follow, and whether it is ``earlier`` itself (reattached)."""
        decision = decide_attachment(
            None if earlier is None else earlier.status.overall_status,
            success_statuses=self.success_statuses,
            on_failed_execution=self.on_failed_execution,
        )
        if earlier is None or decision is Attachment.START:
            return self._start(context, hook, request), False
        status = earlier.status.overall_status.value
        if decision is Attachment.REATTACH:
            self.log.info("Reattaching to evaluation execution %s (%s)", earlier.arn, status)
            return earlier, True
        if decision is Attachment.FAIL:
            raise AirflowFailException(
                f"Evaluation execution {earlier.arn} of an earlier try ended {status} "
                "and on_failed_execution is 'fail'"
            )
        if decision is Attachment.RETRY:
            self.log.info("Resuming evaluation execution %s from its failed steps", earlier.arn)
            identity = TaskInstanceIdentity.from_context(context)
            token = identity.client_request_token("retry", context["ti"].try_number)
            return hook.retry_execution(earlier.arn, client_request_token=token), False
        self.log.info("Evaluation execution %s ended %s: starting a new one", earlier.arn, status)
        return self._start(context, hook, request), False

    def _start(
        self, context: Context, hook: SageMakerEvaluationHook, request: StartRequest
    ) -> EvaluationExecutionData:
        execution = hook.start_evaluation(request)
        store = context.get("task_state_store")
        if store is not None:
            store.set(STATE_STORE_ARN_KEY, execution.arn)
        return execution

    def _earlier_execution(
        self, context: Context, hook: SageMakerEvaluationHook, eval_type: EvalType
    ) -> EvaluationExecutionData | None:
        """The execution an earlier try of this task instance started, if any; once it ended when
        it was stopping (stopped by that try's kill, a cleared deferred task: never reattached to).

        A first try has no earlier try: it searches nothing. The same first try run twice (a task
        message delivered twice) sends the same ClientRequestToken, so SageMaker answers its
        start with the execution the other run started.
        """
        store = context.get("task_state_store")
        arn = store.get(STATE_STORE_ARN_KEY) if store is not None else None
        if isinstance(arn, str) and arn:
            earlier = hook.get_execution(arn)
        elif context["ti"].try_number <= 1:
            return None
        else:
            marker = TaskInstanceIdentity.from_context(context).description_marker
            found = hook.find_execution(eval_type, marker, created_after=_earliest_start(context))
            if not found:
                return None
            earlier = hook.get_execution(found[0].arn)
        if earlier.status.overall_status is ExecutionStatus.STOPPING:
            self.log.info("Evaluation execution %s of an earlier try is stopping: waiting", earlier.arn)
            hook.wait_for_execution(
                earlier, success_statuses=TERMINAL_STATUSES, poll_interval=self.poll_interval
            )
        return earlier

    def _publish_execution(self, context: Context, execution: EvaluationExecutionData) -> None:
        """Push the ARN and store the extra links before any waiting."""
        context["ti"].xcom_push(key=XCOM_EXECUTION_ARN, value=execution.arn)
        EvaluationExecutionLink.persist(
            context,
            self,
            execution_console_url(execution.arn, self.studio_domain_id, execution.pipeline_name),
        )
        output = execution.s3_output_path or self.s3_output_path
        if output:
            arn = parse_execution_arn(execution.arn)
            EvaluationResultsLink.persist(context, self, s3_console_url(output, arn.region, arn.partition))
        self.log.info("Evaluation execution: %s", execution.arn)

    def _complete(
        self, context: Context, hook: SageMakerEvaluationHook, execution: EvaluationExecutionData
    ) -> dict[str, Any]:
        """Apply the success rule, push steps and results, log the results table."""
        from airflow_provider_sm_eval.evaluation.steps_table import format_step_table

        status = execution.status
        self.log.info(
            "Evaluation execution %s ended %s\n%s",
            execution.arn,
            status.overall_status.value,
            format_step_table(status.step_details),
        )
        context["ti"].xcom_push(key=XCOM_STEPS, value=steps_payload(status))
        raise_for_outcome(execution.arn, status, self.success_statuses)
        results = self._read_results(hook, execution) if status.is_succeeded and self.read_results else None
        context["ti"].xcom_push(key=XCOM_RESULTS, value=results)
        self._result_uris = list(results["artifact_uris"]) if results else []
        return self._return_value(execution, results)

    def _read_results(
        self, hook: SageMakerEvaluationHook, execution: EvaluationExecutionData
    ) -> dict[str, Any]:
        summary = hook.get_summary(execution)
        results_table = hook.render_results(execution, self.results_log_limit, summary)
        self.log.info("Evaluation results\n%s", results_table)
        return summary.model_dump(mode="json")

    def _return_value(
        self, execution: EvaluationExecutionData, results: dict[str, Any] | None
    ) -> dict[str, Any]:
        status = execution.status
        return {
            "execution_arn": execution.arn,
            "eval_type": EvalType.parse(self.eval_type).value,
            "status": status.overall_status.value,
            "failure_reason": status.failure_reason,
            "steps": steps_payload(status),
            "results": results,
            "console_url": execution_console_url(
                execution.arn, self.studio_domain_id, execution.pipeline_name
            ),
        }


#: Clock skew allowed between Airflow and AWS when bounding the search for an earlier try's
#: execution: AWS refuses requests signed more than 5 minutes off its clock (SigV4).
_CLOCK_SKEW = timedelta(minutes=5)


def _earliest_start(context: Context) -> datetime | None:
    """No try of this task instance can have started an execution before its DAG run was due."""
    dag_run = context.get("dag_run")
    run_after = getattr(dag_run, "run_after", None)
    return run_after - _CLOCK_SKEW if isinstance(run_after, datetime) else None


def _resolved_region(hook: SageMakerEvaluationHook) -> str | None:
    """The region of the hook's client; None when none is configured, so that bad input is still
    reported first (the start then fails on the missing region)."""
    from botocore.exceptions import NoRegionError

    try:
        return hook.conn_region_name
    except NoRegionError:
        return None
