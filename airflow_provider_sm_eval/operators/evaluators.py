"""Evaluator operators: evaluate a model as the SageMaker SDK's evaluators do, from their arguments.

``BenchmarkEvaluationOperator``, ``LLMAsJudgeEvaluationOperator`` and
``CustomScorerEvaluationOperator`` take the arguments of the SDK's ``BenchMarkEvaluator``,
``LLMAsJudgeEvaluator`` and ``CustomScorerEvaluator`` (``role_arn`` for ``role``). At execute
time they resolve what the SDK looks up (hub content, model package, dataset, MLflow app) and
build the definition the SDK would start, then start and follow it as
:class:`StartEvaluationOperator` does: they are that operator with one step replaced, the one
that gives the definition. Literal arguments are checked when the DAG is parsed; templated ones
first thing in ``execute``. Importing this module imports neither the core's models nor boto3.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_sm_eval.evaluation.constants import INFERENCE_HYPERPARAMETERS, EvalType
from airflow_provider_sm_eval.operators.start_evaluation import StartEvaluationOperator
from airflow_provider_sm_eval.utils.mixins import aws_template_fields
from airflow_provider_sm_eval.utils.reattach import TaskInstanceIdentity
from airflow_provider_sm_eval.utils.validation import require_bool
from airflow_provider_sm_eval.utils.xcom import XCOM_DEFINITION

if TYPE_CHECKING:
    from airflow_provider_sm_eval.evaluation.definitions import PreparedDefinition
    from airflow_provider_sm_eval.evaluation.definitions.inputs import EvaluatorInputs
    from airflow_provider_sm_eval.evaluation.request import StartRequest
    from airflow_provider_sm_eval.hooks.evaluation import SageMakerEvaluationHook
    from airflow_provider_sm_eval.version_compat import Context

#: Characters of the definition written to the task log (the whole one is in the rendered view).
DEFINITION_LOG_LIMIT = 2_000
#: Arguments of every evaluator operator that are fields of the core's inputs models.
_COMMON_INPUTS = (
    "model",
    "s3_output_path",
    "role_arn",
    "evaluate_base_model",
    "mlflow_resource_arn",
    "mlflow_experiment_name",
    "mlflow_run_name",
    "networking",
    "kms_key_id",
    "model_package_group",
    "tags",
)
#: Arguments a scheduled DAG varies: templated in every evaluator operator.
_TEMPLATED = (
    "evaluation_name",
    "model",
    "s3_output_path",
    "role_arn",
    "mlflow_resource_arn",
    "mlflow_experiment_name",
    "mlflow_run_name",
    "kms_key_id",
    "model_package_group",
    "tags",
    "studio_domain_id",
)
#: The evaluation's display name is ``{base_eval_name}-{unix_time}``; the default names the type.
_DEFAULT_NAME_PREFIX = "eval"


class _EvaluatorOperator(StartEvaluationOperator):
    """A :class:`StartEvaluationOperator` whose definition is built from SDK-style arguments.

    Subclasses name their eval type, the core's inputs model and their own arguments; everything
    else (waits, reattach, kill, XCom, links, UI, gate, lineage, events) is the start operator's.
    """

    #: The eval type this operator evaluates.
    evaluation_type: ClassVar[EvalType]
    #: Name of the inputs model in ``evaluation.definitions.inputs``.
    inputs_model: ClassVar[str]
    #: The constructor arguments that are fields of the inputs model.
    input_arguments: ClassVar[tuple[str, ...]]

    argument_of_field: ClassVar[Mapping[str, str]] = {"name": "base_eval_name"}
    template_fields_renderers: ClassVar[dict[str, str]] = {
        "tags": "json",
        "rendered_definition": "json",
    }
    #: The built definition is set during ``execute``: store the rendered fields again after it.
    overwrite_rtif_after_execution = True

    def __init__(
        self,
        *,
        model: str,
        s3_output_path: str,
        role_arn: str,
        base_eval_name: str | None = None,
        evaluate_base_model: bool = False,
        mlflow_resource_arn: str | None = None,
        mlflow_experiment_name: str | None = None,
        mlflow_run_name: str | None = None,
        networking: Mapping[str, Sequence[str]] | None = None,
        kms_key_id: str | None = None,
        model_package_group: str | None = None,
        tags: Mapping[str, str] | list[dict[str, str]] | None = None,
        max_new_tokens: int | None = None,
        temperature: float | None = None,
        top_k: int | None = None,
        top_p: float | None = None,
        max_model_len: int | None = None,
        aggregation: str | None = None,
        postprocessing: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            eval_type=self.evaluation_type,
            evaluation_name=base_eval_name or f"{_DEFAULT_NAME_PREFIX}-{self.evaluation_type.value}",
            pipeline_definition={},
            role_arn=role_arn,
            s3_output_path=s3_output_path,
            tags=tags,
            **kwargs,
        )
        self.model = model
        self.evaluate_base_model = require_bool(evaluate_base_model, "evaluate_base_model")
        self.mlflow_resource_arn = mlflow_resource_arn
        self.mlflow_experiment_name = mlflow_experiment_name
        self.mlflow_run_name = mlflow_run_name
        self.networking = networking
        self.kms_key_id = kms_key_id
        self.model_package_group = model_package_group
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature
        self.top_k = top_k
        self.top_p = top_p
        self.max_model_len = max_model_len
        self.aggregation = aggregation
        self.postprocessing = postprocessing
        #: The definition built at execute time, shown in the task's rendered view.
        self.rendered_definition: dict[str, Any] | None = None
        self._prepared: PreparedDefinition | None = None

    # Inputs -----------------------------------------------------------------------------------------

    def _check_literal_inputs(self) -> None:
        """ValueError naming the argument when a literal (non-templated) argument is refused.

        Run by the subclasses' constructors once every argument is set. An argument that holds a
        template is checked once rendered, first thing in ``execute``.
        """
        from airflow_provider_sm_eval.evaluation.exceptions import InvalidInputError

        try:
            self._inputs()
        except InvalidInputError as error:
            if not (error.field in self.template_fields and _holds_template(getattr(self, error.field))):
                raise ValueError(_naming(error)) from None

    def _inputs(self) -> EvaluatorInputs:
        """The core's inputs model of this operator's arguments (InvalidInputError naming one)."""
        from airflow_provider_sm_eval.evaluation.definitions import inputs

        model_class: type[EvaluatorInputs] = getattr(inputs, self.inputs_model)
        values = {name: getattr(self, name) for name in self.input_arguments}
        return model_class(**{name: value for name, value in values.items() if value is not None})

    # The step of the start operator this operator replaces -----------------------------------------

    def _definition_fields(self, context: Context, hook: SageMakerEvaluationHook) -> dict[str, Any]:
        """Validate the rendered arguments, resolve what they name, build the definition (once a try)."""
        if self._prepared is None:
            from airflow_provider_sm_eval.evaluation.definitions import prepare

            inputs = self._inputs()
            upload_key = TaskInstanceIdentity.from_context(context).key
            prepared = prepare(inputs, hook.aws_clients, upload_key=upload_key)
            self.log.info(
                "Built the %s definition: %d AWS calls, %.2f s. %s",
                prepared.eval_type.value,
                prepared.aws_calls,
                prepared.seconds,
                bounded_json(prepared.definition, DEFINITION_LOG_LIMIT),
            )
            self._prepared = prepared
            self.rendered_definition = prepared.definition
            context["ti"].xcom_push(key=XCOM_DEFINITION, value=prepared.definition)
        return {
            "pipeline_definition": self._prepared.definition,
            "pipeline_name_fields": self._prepared.pipeline_name_fields,
            "tags": list(self._prepared.tags),
        }

    def _dry_run_value(self, request: StartRequest) -> dict[str, Any]:
        """The start operator's dry-run value, with what was resolved and what it cost."""
        value = super()._dry_run_value(request)
        if self._prepared is not None:
            value["resolved"] = _json_safe(self._prepared.resolved)
            value["aws_calls"] = self._prepared.aws_calls
            value["seconds"] = round(self._prepared.seconds, 3)
        return value

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """Resume as the start operator does; the rendered view keeps the definition built before."""
        shown = context["ti"].xcom_pull(task_ids=self.task_id, key=XCOM_DEFINITION)
        self.rendered_definition = shown if isinstance(shown, dict) else None
        return super().execute_complete(context, event, **kwargs)

    def _lineage_inputs(self) -> tuple[list[str], list[str]]:
        """The model and, when it is an S3 URI, the dataset: from the arguments, with no AWS call."""
        dataset = getattr(self, "dataset", None)
        uris = [dataset] if isinstance(dataset, str) and dataset.startswith("s3://") else []
        return uris, [self.model] if isinstance(self.model, str) and self.model else []


class BenchmarkEvaluationOperator(_EvaluatorOperator):
    """Evaluate ``model`` on a benchmark, as the SDK's ``BenchMarkEvaluator`` does.

    :param benchmark: the benchmark (``mmlu``, ``mmlu_pro``, ``bbh``, ``gpqa``, ``math``,
        ``strong_reject``, ``ifeval``, ``mmmu``, ``llm_judge``). Templated.
    :param subtasks: a subtask, a list of them or ``ALL`` (benchmarks that have subtasks). Templated.
    :param kwargs: the arguments of every evaluator operator (see the README table "The SDK's
        evaluator arguments") and :class:`StartEvaluationOperator`'s waiting arguments.
    """

    evaluation_type = EvalType.BENCHMARK
    inputs_model = "BenchmarkEvaluation"
    input_arguments = (*_COMMON_INPUTS, "benchmark", "subtasks", *INFERENCE_HYPERPARAMETERS)
    template_fields: Sequence[str] = aws_template_fields(
        *_TEMPLATED, "benchmark", "subtasks", "rendered_definition"
    )

    def __init__(self, *, benchmark: str, subtasks: str | list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.benchmark = benchmark
        self.subtasks = subtasks
        self._check_literal_inputs()


class LLMAsJudgeEvaluationOperator(_EvaluatorOperator):
    """Have a Bedrock judge model score ``model``'s answers, as the SDK's ``LLMAsJudgeEvaluator`` does.

    :param evaluator_model: the Bedrock model id of the judge. Templated.
    :param dataset: the prompts: an S3 URI or a hub dataset ARN. Templated.
    :param builtin_metrics: built-in judge metrics (``Correctness``, with or without ``Builtin.``).
    :param custom_metrics: custom metric definitions: a JSON list (string) or a list. Not
        templated: its prompts hold ``{{prompt}}`` and ``{{prediction}}`` for the judge.
    :param kwargs: the arguments of every evaluator operator and the start operator's.
    """

    evaluation_type = EvalType.LLM_AS_JUDGE
    inputs_model = "LLMAsJudgeEvaluation"
    input_arguments = (
        *_COMMON_INPUTS,
        "evaluator_model",
        "dataset",
        "builtin_metrics",
        "custom_metrics",
        *INFERENCE_HYPERPARAMETERS,
    )
    template_fields: Sequence[str] = aws_template_fields(
        *_TEMPLATED, "evaluator_model", "dataset", "rendered_definition"
    )

    def __init__(
        self,
        *,
        evaluator_model: str,
        dataset: str,
        builtin_metrics: Sequence[str] | None = None,
        custom_metrics: str | Sequence[Mapping[str, Any]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.evaluator_model = evaluator_model
        self.dataset = dataset
        self.builtin_metrics = list(builtin_metrics) if builtin_metrics is not None else None
        self.custom_metrics = custom_metrics
        self._check_literal_inputs()


class CustomScorerEvaluationOperator(_EvaluatorOperator):
    """Score ``model``'s answers with a built-in metric or an evaluator of the hub, as the SDK's
    ``CustomScorerEvaluator`` does.

    :param evaluator: a built-in metric name (``prime_math``, ``prime_code``) or an evaluator
        hub-content ARN. Templated.
    :param dataset: the prompts: an S3 URI or a hub dataset ARN. Templated.
    :param kwargs: the arguments of every evaluator operator and the start operator's.
    """

    evaluation_type = EvalType.CUSTOM_SCORER
    inputs_model = "CustomScorerEvaluation"
    input_arguments = (*_COMMON_INPUTS, "evaluator", "dataset", *INFERENCE_HYPERPARAMETERS)
    template_fields: Sequence[str] = aws_template_fields(
        *_TEMPLATED, "evaluator", "dataset", "rendered_definition"
    )

    def __init__(self, *, evaluator: str, dataset: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.evaluator = evaluator
        self.dataset = dataset
        self._check_literal_inputs()


def _holds_template(value: Any) -> bool:
    """Whether Airflow renders ``value`` into something else: a Jinja string (or one inside a list
    or dict), or an object that resolves at run time (an ``XComArg``, for example)."""
    if isinstance(value, str):
        return any(marker in value for marker in ("{{", "{%", "{#"))
    if isinstance(value, Mapping):
        return any(_holds_template(item) for pair in value.items() for item in pair)
    if isinstance(value, (list, tuple)):
        return any(map(_holds_template, value))
    return not isinstance(value, (bool, int, float, type(None)))


def _naming(error: Exception) -> str:
    """The message of an ``InvalidInputError``, starting with the argument unless it names it."""
    field = getattr(error, "field", "")
    message = str(error)
    return message if field in message else f"{field}: {message}"


def bounded_json(value: Any, limit: int) -> str:
    """``value`` as one line of JSON of at most ``limit`` characters (cut ones say how long it was)."""
    text = json.dumps(value, separators=(",", ":"), default=str)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} characters; the whole definition is in the rendered view)"


def _json_safe(value: Any) -> Any:
    """A pydantic model or dataclass of the core as JSON data (for XCom)."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    from dataclasses import asdict, is_dataclass

    if is_dataclass(value) and not isinstance(value, type):
        return json.loads(json.dumps(asdict(value), default=str))
    return json.loads(json.dumps(value, default=str))
