"""The inputs of the three SageMaker evaluators, validated without AWS.

Fields are named like the SageMaker Python SDK's evaluator fields (``role_arn`` for its
``role``). Construction checks everything that needs no AWS call: catalog names, URI and ARN
shapes, that ``custom_metrics`` is a JSON list; a refused input raises
:class:`~..exceptions.InvalidInputError` whose ``field`` is the argument's name. What needs AWS
(the model's hub content, a model package's base model, ...) is checked by :mod:`.resolve`.

Beyond the SDK: model package ARNs of every partition, VPC ids and KMS key shapes, numeric
hyperparameter ranges, duplicate subtasks/metrics and a judge with no metric at all are refused
here instead of failing later in a job.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from airflow_provider_sm_eval.evaluation.arns import validate_role_arn
from airflow_provider_sm_eval.evaluation.constants import INFERENCE_HYPERPARAMETERS, EvalType
from airflow_provider_sm_eval.evaluation.definitions.catalog import (
    ALL_SUBTASKS,
    BENCHMARKS,
    JUDGE_BUILTIN_METRICS,
    Benchmark,
    check_benchmark_for_model,
    check_subtasks,
    find_benchmark,
    find_custom_scorer_metric,
    find_judge_metric,
    is_nova_model,
)
from airflow_provider_sm_eval.evaluation.exceptions import InvalidInputError
from airflow_provider_sm_eval.evaluation.request import input_error
from airflow_provider_sm_eval.evaluation.s3_layout import parse_s3_uri
from airflow_provider_sm_eval.evaluation.validators import validate_tags

#: SageMaker hub content names (JumpStart model ids).
_HUB_CONTENT_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_PARTITION = r"aws(?:-cn|-us-gov|-iso|-iso-b|-iso-f)?"
_MODEL_PACKAGE_ARN = re.compile(
    rf"^arn:(?P<partition>{_PARTITION}):sagemaker:(?P<region>[a-z0-9-]+):(?P<account>\d{{12}}):"
    r"model-package/(?P<name>[a-zA-Z0-9](?:-*[a-zA-Z0-9]){0,62})(?:/(?P<version>\d+))?$"
)
_MODEL_PACKAGE_GROUP_ARN = re.compile(
    rf"^arn:{_PARTITION}:sagemaker:[a-z0-9-]{{9,16}}:\d{{12}}:model-package-group/[a-zA-Z0-9](-*[a-zA-Z0-9]){{0,62}}$"
)
_MLFLOW_ARN = re.compile(
    rf"^arn:{_PARTITION}:sagemaker:[a-z0-9-]+:\d{{12}}:(mlflow-tracking-server|mlflow-app)/[a-zA-Z0-9-]{{1,256}}$"
)
_HUB_CONTENT_ARN = re.compile(
    rf"^arn:{_PARTITION}:sagemaker:[a-z0-9-]+:(\d{{12}}|aws):hub-content/(?P<hub>[^/\s]+)/"
    r"(?P<type>[A-Za-z]+)/(?P<name>[^/\s]+)(/(?P<version>[^/\s]+))?$"
)
#: Security group and subnet ids (VpcConfig: at most 5 groups and 16 subnets).
_VPC_ID = re.compile(r"^[-0-9a-zA-Z]{1,32}$")
_MAX_SECURITY_GROUPS, _MAX_SUBNETS = 5, 16
_MAX_KMS_KEY_ID = 2048
#: A Bedrock model id, inference profile id or ARN.
_JUDGE_MODEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.:/_-]{0,2047}$")
DATASET_CONTENT_TYPE = "DataSet"


def _fail(field: str, message: str) -> InvalidInputError:
    return InvalidInputError(field, f"{field}: {message}")


def parse_model_package_arn(value: str) -> re.Match[str] | None:
    """The parts of a model package ARN (partition, region, account, name, version), or None."""
    return _MODEL_PACKAGE_ARN.match(value)


def parse_hub_content_arn(value: str) -> re.Match[str] | None:
    """The parts of a hub-content ARN (hub, type, name, version), or None."""
    return _HUB_CONTENT_ARN.match(value)


def is_hub_dataset_arn(value: str) -> bool:
    """True for a versioned hub-content ``DataSet`` ARN (the SDK then uses a ``DatasetSource``)."""
    match = _HUB_CONTENT_ARN.match(value)
    return (
        match is not None
        and match["type"] == DATASET_CONTENT_TYPE
        and re.fullmatch(r"[\d.]+", match["version"] or "") is not None
    )


def validate_dataset(value: Any, *, field: str = "dataset") -> str:
    """An S3 URI ``s3://bucket/key`` or a hub-content DataSet ARN (an object with ``arn`` is read)."""
    value = getattr(value, "arn", value)
    if not isinstance(value, str):
        raise _fail(field, f"must be an S3 URI or a hub-content DataSet ARN, got {type(value).__name__}")
    if value.startswith("arn:"):
        if not is_hub_dataset_arn(value):
            raise _fail(
                field,
                f"{value!r} is not a hub-content DataSet ARN "
                "(arn:aws:sagemaker:REGION:ACCOUNT:hub-content/HUB/DataSet/NAME/VERSION)",
            )
        return value
    try:
        uri = parse_s3_uri(value, name=field)
    except ValueError as error:
        raise InvalidInputError(field, f"{error} or a hub-content DataSet ARN") from None
    if not uri.key:
        raise _fail(field, f"{value!r} names a bucket but no object or prefix")
    return value


class Networking(BaseModel):
    """The VPC the evaluation jobs run in (the SDK's ``VpcConfig``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    security_group_ids: list[str]
    subnets: list[str]

    @model_validator(mode="before")
    @classmethod
    def _shapes(cls, value: Any) -> Any:
        """Takes snake_case, the API's ``SecurityGroupIds``/``Subnets``, or an object with attributes."""
        if not isinstance(value, Mapping):
            if hasattr(value, "security_group_ids") and hasattr(value, "subnets"):
                return {"security_group_ids": value.security_group_ids, "subnets": value.subnets}
            raise _fail("networking", "must have security_group_ids and subnets")
        renamed = {"SecurityGroupIds": "security_group_ids", "Subnets": "subnets"}
        data = {renamed.get(k, k): v for k, v in value.items()}
        for key, limit in (("security_group_ids", _MAX_SECURITY_GROUPS), ("subnets", _MAX_SUBNETS)):
            ids = data.get(key)
            if not isinstance(ids, (list, tuple)) or not 1 <= len(ids) <= limit:
                raise _fail("networking", f"{key} must be a list of 1-{limit} ids")
            for item in ids:
                if not isinstance(item, str) or not _VPC_ID.match(item):
                    raise _fail("networking", f"{key} holds {item!r}, not a VPC id (letters, digits, '-')")
            data[key] = list(ids)
        unknown = set(data) - {"security_group_ids", "subnets"}
        if unknown:
            raise _fail(
                "networking",
                f"unknown keys {sorted(map(str, unknown))}; expected security_group_ids, subnets",
            )
        return data


def _number(field: str, value: Any, *, integer: bool, low: float, high: float | None) -> int | float | None:
    if value is None:
        return None
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise _fail(field, f"must be {'an integer' if integer else 'a number'}, got {value!r}")
    if value < low or (high is not None and value > high):
        upper = "" if high is None else f" and {high}"
        raise _fail(field, f"{value!r} is out of range (between {low}{upper})")
    return value


class EvaluatorInputs(BaseModel):
    """What every evaluator takes. Subclasses add their type's fields.

    ``evaluate_base_model`` defaults to False, as in the SDK. The inference hyperparameters
    (``max_new_tokens`` ... ``postprocessing``) override the model's hub defaults when given.
    ``mlflow_run_name`` is carried for callers; the SDK's serverless definitions do not hold it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", protected_namespaces=())
    eval_type_value: ClassVar[EvalType]

    model: str
    s3_output_path: str
    role_arn: str
    evaluate_base_model: bool = False
    mlflow_resource_arn: str | None = None
    mlflow_experiment_name: str | None = None
    mlflow_run_name: str | None = None
    networking: Networking | None = None
    kms_key_id: str | None = None
    model_package_group: str | None = None
    tags: list[dict[str, str]] = []
    max_new_tokens: int | None = None
    temperature: int | float | None = None
    top_k: int | None = None
    top_p: int | float | None = None
    max_model_len: int | None = None
    aggregation: str | None = None
    postprocessing: bool | None = None

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as error:
            raise input_error(error) from None

    @property
    def eval_type(self) -> EvalType:
        return self.eval_type_value

    @property
    def is_model_package(self) -> bool:
        return self.model.startswith("arn:")

    @field_validator("model", mode="before")
    @classmethod
    def _model(cls, value: Any) -> str:
        value = getattr(value, "model_package_arn", value)
        if not isinstance(value, str):
            raise _fail(
                "model", f"must be a JumpStart model id or a model package ARN, got {type(value).__name__}"
            )
        value = value.strip()
        if value.startswith("s3://"):
            raise _fail(
                "model",
                f"{value!r} is an S3 checkpoint; serverless evaluation takes a JumpStart model id or a "
                "model package ARN (training-job and HyperPod compute are not supported)",
            )
        if value.startswith("arn:"):
            if not _MODEL_PACKAGE_ARN.match(value):
                raise _fail(
                    "model",
                    f"{value!r} is not a model package ARN "
                    "(arn:aws:sagemaker:REGION:ACCOUNT:model-package/GROUP/VERSION)",
                )
            return value
        if not _HUB_CONTENT_NAME.match(value):
            raise _fail(
                "model",
                f"{value!r} is neither a JumpStart model id (1-63 letters, digits, '-') "
                "nor a model package ARN",
            )
        return value

    @field_validator("s3_output_path", mode="before")
    @classmethod
    def _output(cls, value: Any) -> str:
        try:
            parse_s3_uri(value, name="s3_output_path")
        except ValueError as error:
            raise InvalidInputError("s3_output_path", str(error)) from None
        return str(value).strip()

    @field_validator("role_arn", mode="before")
    @classmethod
    def _role(cls, value: Any) -> str:
        try:
            return validate_role_arn(value)
        except ValueError as error:
            raise InvalidInputError("role_arn", str(error)) from None

    @field_validator("evaluate_base_model", mode="before")
    @classmethod
    def _flag(cls, value: Any) -> bool:
        if not isinstance(value, bool):
            raise _fail("evaluate_base_model", f"must be True or False, got {value!r}")
        return value

    @field_validator("mlflow_resource_arn", mode="before")
    @classmethod
    def _mlflow(cls, value: Any) -> str | None:
        if value is not None and (not isinstance(value, str) or not _MLFLOW_ARN.match(value)):
            raise _fail(
                "mlflow_resource_arn",
                f"{value!r} is not an MLflow tracking server or app ARN "
                "(arn:aws:sagemaker:REGION:ACCOUNT:mlflow-tracking-server/NAME or .../mlflow-app/ID)",
            )
        return value

    @field_validator("mlflow_experiment_name", "mlflow_run_name", "aggregation", mode="before")
    @classmethod
    def _text(cls, value: Any, info: Any) -> str | None:
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise _fail(info.field_name, f"must be a non-empty string, got {value!r}")
        return value

    @field_validator("networking", mode="before")
    @classmethod
    def _networking(cls, value: Any) -> Any:
        return None if value is None else Networking.model_validate(value)

    @field_validator("kms_key_id", mode="before")
    @classmethod
    def _kms(cls, value: Any) -> str | None:
        if value is None:
            return None
        if (
            not isinstance(value, str)
            or not value
            or len(value) > _MAX_KMS_KEY_ID
            or any(c.isspace() for c in value)
        ):
            raise _fail("kms_key_id", f"must be a KMS key id, alias or ARN of 1-{_MAX_KMS_KEY_ID} characters")
        return value

    @field_validator("model_package_group", mode="before")
    @classmethod
    def _group(cls, value: Any) -> str | None:
        value = getattr(value, "model_package_group_arn", value)
        if value is None:
            return None
        if not isinstance(value, str) or not (
            _MODEL_PACKAGE_GROUP_ARN.match(value) or _HUB_CONTENT_NAME.match(value)
        ):
            raise _fail(
                "model_package_group",
                f"{value!r} is neither a model package group ARN nor a model package group name",
            )
        return value

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, value: Any) -> list[dict[str, str]]:
        """``{"Key", "Value"}`` dicts, or the SDK's ``{"key", "value"}`` ones, or a mapping."""
        if isinstance(value, list):
            value = [
                {"Key": t["key"], "Value": t["value"]}
                if isinstance(t, dict) and set(t) == {"key", "value"}
                else t
                for t in value
            ]
        return validate_tags(value)

    @field_validator("max_new_tokens", "max_model_len", mode="before")
    @classmethod
    def _positive(cls, value: Any, info: Any) -> int | float | None:
        return _number(info.field_name, value, integer=True, low=1, high=None)

    @field_validator("top_k", mode="before")
    @classmethod
    def _top_k(cls, value: Any) -> int | float | None:
        return _number("top_k", value, integer=True, low=-1, high=None)

    @field_validator("temperature", mode="before")
    @classmethod
    def _temperature(cls, value: Any) -> int | float | None:
        return _number("temperature", value, integer=False, low=0, high=None)

    @field_validator("top_p", mode="before")
    @classmethod
    def _top_p(cls, value: Any) -> int | float | None:
        return _number("top_p", value, integer=False, low=0, high=1)

    @field_validator("postprocessing", mode="before")
    @classmethod
    def _postprocessing(cls, value: Any) -> bool | None:
        if value is not None and not isinstance(value, bool):
            raise _fail("postprocessing", f"must be True or False, got {value!r}")
        return value

    @model_validator(mode="after")
    def _group_known(self) -> EvaluatorInputs:
        """An unversioned model package names no group: the SDK cannot infer one either."""
        match = _MODEL_PACKAGE_ARN.match(self.model)
        if match is not None and match["version"] is None and self.model_package_group is None:
            raise _fail(
                "model_package_group",
                f"model {self.model!r} is an unversioned model package; give its model_package_group",
            )
        return self

    def hyperparameter_overrides(self) -> dict[str, str]:
        """The inference hyperparameters given, as the strings the definition holds."""
        return {
            name: str(getattr(self, name))
            for name in INFERENCE_HYPERPARAMETERS
            if getattr(self, name) is not None
        }


class BenchmarkEvaluation(EvaluatorInputs):
    """A benchmark evaluation (the SDK's ``BenchMarkEvaluator``). ``subtasks`` None means ALL."""

    eval_type_value: ClassVar[EvalType] = EvalType.BENCHMARK

    benchmark: str
    subtasks: str | list[str] | None = None

    @field_validator("benchmark", mode="before")
    @classmethod
    def _benchmark(cls, value: Any) -> str:
        return find_benchmark(getattr(value, "value", value)).name

    @model_validator(mode="before")
    @classmethod
    def _subtasks(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "benchmark" in data:
            try:
                entry = find_benchmark(getattr(data["benchmark"], "value", data["benchmark"]))
            except InvalidInputError:
                return data  # the benchmark's own validator reports it
            data = {**data, "subtasks": check_subtasks(entry, data.get("subtasks"))}
        return data

    @model_validator(mode="after")
    def _model_family(self) -> BenchmarkEvaluation:
        if not self.is_model_package:
            check_benchmark_for_model(self.entry, self.model)
        return self

    @property
    def entry(self) -> Benchmark:
        return BENCHMARKS[self.benchmark]

    @property
    def subtask(self) -> str | None:
        """The ``subtask`` hyperparameter: None for all subtasks, else the names joined by commas."""
        if self.subtasks is None or self.subtasks == ALL_SUBTASKS:
            return None
        return self.subtasks if isinstance(self.subtasks, str) else ",".join(self.subtasks)


class LLMAsJudgeEvaluation(EvaluatorInputs):
    """An LLM-as-judge evaluation (the SDK's ``LLMAsJudgeEvaluator``).

    ``builtin_metrics`` are stored without the ``Builtin.`` prefix; ``custom_metrics`` is the
    JSON text that is uploaded (a list given as data is serialized once).
    """

    eval_type_value: ClassVar[EvalType] = EvalType.LLM_AS_JUDGE

    evaluator_model: str
    dataset: str
    builtin_metrics: list[str] = []
    custom_metrics: str | None = None

    @field_validator("evaluator_model", mode="before")
    @classmethod
    def _judge(cls, value: Any) -> str:
        if not isinstance(value, str) or not _JUDGE_MODEL.match(value):
            raise _fail("evaluator_model", f"{value!r} is not an Amazon Bedrock model id or ARN")
        return value

    @field_validator("dataset", mode="before")
    @classmethod
    def _dataset(cls, value: Any) -> str:
        return validate_dataset(value)

    @field_validator("builtin_metrics", mode="before")
    @classmethod
    def _builtin(cls, value: Any) -> list[str]:
        if value is None:
            return []
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            raise _fail("builtin_metrics", f"must be a list of metric names, got {type(value).__name__}")
        metrics: list[str] = []
        for item in value:
            metric = find_judge_metric(item)
            if metric in metrics:
                raise _fail("builtin_metrics", f"names {metric!r} twice")
            metrics.append(metric)
        return metrics

    @field_validator("custom_metrics", mode="before")
    @classmethod
    def _custom(cls, value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, (list, tuple)):
            text, parsed = json.dumps(list(value)), list(value)
        elif isinstance(value, str):
            try:
                text, parsed = value, json.loads(value)
            except json.JSONDecodeError as error:
                raise _fail(
                    "custom_metrics", f"is not valid JSON: {error.msg} at column {error.colno}"
                ) from None
        else:
            raise _fail("custom_metrics", f"must be a JSON list (text or list), got {type(value).__name__}")
        if not isinstance(parsed, list) or not parsed:
            raise _fail(
                "custom_metrics",
                f"must be a non-empty JSON list of metric definitions, got {type(parsed).__name__}",
            )
        names: set[str] = set()
        for index, item in enumerate(parsed):
            definition = item.get("customMetricDefinition") if isinstance(item, dict) else None
            if not isinstance(definition, dict):
                raise _fail(
                    "custom_metrics", f"[{index}] must be an object with a 'customMetricDefinition' object"
                )
            for key in ("name", "instructions"):
                if not isinstance(definition.get(key), str) or not definition[key].strip():
                    raise _fail(
                        "custom_metrics", f"[{index}].customMetricDefinition needs a non-empty string {key!r}"
                    )
            if definition["name"] in names:
                raise _fail("custom_metrics", f"names metric {definition['name']!r} twice")
            names.add(definition["name"])
        return text

    @model_validator(mode="after")
    def _some_metric(self) -> LLMAsJudgeEvaluation:
        if not self.builtin_metrics and self.custom_metrics is None:
            raise _fail(
                "builtin_metrics",
                "a judge needs at least one metric: give builtin_metrics "
                f"({', '.join(JUDGE_BUILTIN_METRICS)}) or custom_metrics",
            )
        if not self.is_model_package and is_nova_model(self.model):
            raise _fail(
                "model",
                f"{self.model!r} is an Amazon Nova model; the SDK judges those through its InspectAI "
                "path, which is not supported here",
            )
        return self


class CustomScorerEvaluation(EvaluatorInputs):
    """A custom scorer evaluation (the SDK's ``CustomScorerEvaluator``).

    ``evaluator`` is a built-in metric name (``prime_math``, ``prime_code``) or an evaluator
    hub-content ARN.
    """

    eval_type_value: ClassVar[EvalType] = EvalType.CUSTOM_SCORER

    evaluator: str
    dataset: str

    @field_validator("evaluator", mode="before")
    @classmethod
    def _evaluator(cls, value: Any) -> str:
        value = getattr(value, "arn", getattr(value, "value", value))
        if isinstance(value, str) and value.startswith("arn:"):
            match = _HUB_CONTENT_ARN.match(value)
            if match is None or match["type"] in (DATASET_CONTENT_TYPE, "Model"):
                raise _fail(
                    "evaluator",
                    f"{value!r} is not an evaluator hub-content ARN "
                    "(arn:aws:sagemaker:REGION:ACCOUNT:hub-content/HUB/JsonDoc/NAME/VERSION)",
                )
            return value
        return find_custom_scorer_metric(value)

    @field_validator("dataset", mode="before")
    @classmethod
    def _dataset(cls, value: Any) -> str:
        return validate_dataset(value)

    @property
    def evaluator_arn(self) -> str | None:
        return self.evaluator if self.evaluator.startswith("arn:") else None

    @property
    def preset_reward_function(self) -> str | None:
        return None if self.evaluator.startswith("arn:") else self.evaluator


INPUT_TYPES: dict[EvalType, type[EvaluatorInputs]] = {
    cls.eval_type_value: cls for cls in (BenchmarkEvaluation, LLMAsJudgeEvaluation, CustomScorerEvaluation)
}
