"""The evaluators' inputs and the catalog: what is refused before any AWS call, and how."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import airflow_provider_sm_eval.evaluation
from airflow_provider_sm_eval.evaluation.constants import EvalType
from airflow_provider_sm_eval.evaluation.definitions import catalog
from airflow_provider_sm_eval.evaluation.definitions.inputs import (
    BenchmarkEvaluation,
    CustomScorerEvaluation,
    EvaluatorInputs,
    LLMAsJudgeEvaluation,
)
from airflow_provider_sm_eval.evaluation.exceptions import InvalidInputError

ROLE = "arn:aws:iam::123456789012:role/EvalRole"
MODEL = "meta-textgeneration-llama-3-2-1b-instruct"
PACKAGE = "arn:aws:sagemaker:us-west-2:123456789012:model-package/my-group/3"
DATASET_ARN = "arn:aws:sagemaker:us-west-2:123456789012:hub-content/AIRegistry/DataSet/qa/1.0.0"
EVALUATOR_ARN = "arn:aws:sagemaker:us-west-2:123456789012:hub-content/AIRegistry/JsonDoc/my-scorer/1.0.0"
CUSTOM_METRIC = {"customMetricDefinition": {"name": "Tone", "instructions": "Rate {{prediction}}"}}


def common(**overrides: Any) -> dict[str, Any]:
    return {"model": MODEL, "s3_output_path": "s3://bucket/evals/", "role_arn": ROLE, **overrides}


def benchmark(**overrides: Any) -> BenchmarkEvaluation:
    return BenchmarkEvaluation(**common(benchmark="mmlu", **overrides))


def judge(**overrides: Any) -> LLMAsJudgeEvaluation:
    fields = {"evaluator_model": "anthropic.claude-3-haiku-20240307-v1:0", "dataset": "s3://bucket/qa.jsonl"}
    return LLMAsJudgeEvaluation(**common(**{**fields, "builtin_metrics": ["Correctness"], **overrides}))


def scorer(**overrides: Any) -> CustomScorerEvaluation:
    return CustomScorerEvaluation(
        **common(**{"evaluator": "prime_math", "dataset": DATASET_ARN, **overrides})
    )


def refused(build: Any, **overrides: Any) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as caught:
        build(**overrides)
    return caught.value


def test_every_sdk_benchmark_is_in_the_catalog() -> None:
    assert set(catalog.BENCHMARKS) == {
        "mmlu", "mmlu_pro", "bbh", "gpqa", "math", "strong_reject", "ifeval", "mmmu", "llm_judge"
    }  # fmt: skip
    assert len(catalog.BENCHMARKS["mmlu"].subtasks or ()) == 57
    assert catalog.BENCHMARKS["bbh"].strategy == "fs_cot"
    assert catalog.BENCHMARKS["math"].metric == "exact_match"
    assert catalog.BENCHMARKS["strong_reject"].metric == "deflection"


def test_each_type_says_its_eval_type() -> None:
    assert benchmark().eval_type is EvalType.BENCHMARK
    assert judge().eval_type is EvalType.LLM_AS_JUDGE
    assert scorer().eval_type is EvalType.CUSTOM_SCORER


def test_subtasks_default_to_all_and_lists_join_with_commas() -> None:
    assert benchmark().subtasks == "ALL"
    assert benchmark().subtask is None
    assert benchmark(subtasks="all").subtask is None
    assert benchmark(subtasks=["anatomy", "astronomy"]).subtask == "anatomy,astronomy"
    assert benchmark(subtasks="anatomy").subtask == "anatomy"
    assert BenchmarkEvaluation(**common(benchmark="GPQA")).subtasks is None


@pytest.mark.hostile("start")
@pytest.mark.parametrize(
    ("overrides", "field", "names"),
    [
        ({"benchmark": "mmlu_x"}, "benchmark", "mmlu_pro"),
        ({"subtasks": ["anatomy", "cooking"]}, "subtasks", "abstract_algebra"),
        ({"subtasks": []}, "subtasks", "ALL"),
        ({"subtasks": ["anatomy", "anatomy"]}, "subtasks", "twice"),
        ({"benchmark": "gpqa", "subtasks": "anatomy"}, "subtasks", "takes no subtasks"),
        ({"benchmark": "strong_reject", "subtasks": ["a,b"]}, "subtasks", "comma"),
        ({"benchmark": "mmmu"}, "benchmark", "Nova"),
    ],
)
def test_unknown_benchmark_or_subtask_is_refused_listing_the_valid_ones(
    overrides: dict[str, Any], field: str, names: str
) -> None:
    error = refused(BenchmarkEvaluation, **common(**{"benchmark": "mmlu", **overrides}))
    assert error.field == field
    assert names in str(error)


def test_judge_metrics_take_the_builtin_prefix_or_not() -> None:
    metrics = judge(
        builtin_metrics=["Builtin.Correctness", "faithfulness", " Builtin.Helpfulness"]
    ).builtin_metrics
    assert metrics == ["Correctness", "Faithfulness", "Helpfulness"]


@pytest.mark.hostile("start")
@pytest.mark.parametrize(
    ("overrides", "field", "expected"),
    [
        ({"builtin_metrics": ["Builtin.Sparkle"]}, "builtin_metrics", "Correctness"),
        ({"builtin_metrics": ["Correctness", "Builtin.Correctness"]}, "builtin_metrics", "twice"),
        ({"builtin_metrics": "Correctness"}, "builtin_metrics", "list"),
        ({"builtin_metrics": [], "custom_metrics": None}, "builtin_metrics", "at least one metric"),
        ({"custom_metrics": '{"name": "x"}'}, "custom_metrics", "JSON list"),
        ({"custom_metrics": "[{"}, "custom_metrics", "not valid JSON"),
        ({"custom_metrics": "[]"}, "custom_metrics", "non-empty"),
        ({"custom_metrics": json.dumps([{"name": "x"}])}, "custom_metrics", "customMetricDefinition"),
        ({"custom_metrics": 7}, "custom_metrics", "JSON list"),
        ({"dataset": "s3://bucket"}, "dataset", "no object"),
        ({"dataset": "gs://bucket/qa.jsonl"}, "dataset", "S3 URI"),
        ({"dataset": DATASET_ARN.replace("/DataSet/", "/Model/")}, "dataset", "DataSet ARN"),
        ({"dataset": DATASET_ARN.rsplit("/", 1)[0]}, "dataset", "DataSet ARN"),
        ({"evaluator_model": "judge me please"}, "evaluator_model", "Bedrock"),
        ({"model": "amazon-nova-lite-v1"}, "model", "InspectAI"),
    ],
)
def test_judge_inputs_are_refused_naming_the_argument(
    overrides: dict[str, Any], field: str, expected: str
) -> None:
    error = refused(judge, **overrides)
    assert error.field == field
    assert expected in str(error)


def test_custom_metrics_are_kept_as_given_or_serialized_once() -> None:
    text = json.dumps([CUSTOM_METRIC], indent=2)
    assert judge(custom_metrics=text).custom_metrics == text
    assert json.loads(judge(custom_metrics=[CUSTOM_METRIC]).custom_metrics or "") == [CUSTOM_METRIC]


def test_custom_scorer_takes_a_builtin_metric_or_an_evaluator_arn() -> None:
    assert scorer(evaluator="PRIME_CODE").preset_reward_function == "prime_code"
    assert scorer(evaluator=EVALUATOR_ARN).evaluator_arn == EVALUATOR_ARN
    assert scorer(evaluator=EVALUATOR_ARN).preset_reward_function is None


@pytest.mark.hostile("start")
@pytest.mark.parametrize(
    ("overrides", "field", "expected"),
    [
        ({"evaluator": "prime_poetry"}, "evaluator", "prime_math, prime_code"),
        ({"evaluator": DATASET_ARN}, "evaluator", "evaluator hub-content ARN"),
        ({"evaluator": "arn:aws:lambda:us-west-2:123456789012:function:f"}, "evaluator", "hub-content"),
        ({"dataset": None}, "dataset", "S3 URI"),
    ],
)
def test_scorer_inputs_are_refused_naming_the_argument(
    overrides: dict[str, Any], field: str, expected: str
) -> None:
    error = refused(scorer, **overrides)
    assert error.field == field
    assert expected in str(error)


@pytest.mark.hostile("start")
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"model": "s3://bucket/checkpoint/"}, "model"),
        ({"model": "arn:aws:sagemaker:us-west-2:123456789012:model-package-group/g"}, "model"),
        ({"model": "llama 3"}, "model"),
        ({"model": None}, "model"),
        ({"model": PACKAGE.rsplit("/", 1)[0]}, "model_package_group"),
        ({"s3_output_path": "https://bucket/evals"}, "s3_output_path"),
        ({"role_arn": "arn:aws:iam::123456789012:user/me"}, "role_arn"),
        (
            {"mlflow_resource_arn": "arn:aws:sagemaker:us-west-2:123456789012:experiment/x"},
            "mlflow_resource_arn",
        ),
        ({"mlflow_experiment_name": ""}, "mlflow_experiment_name"),
        ({"networking": {"security_group_ids": [], "subnets": ["subnet-1"]}}, "networking"),
        ({"networking": {"security_group_ids": ["sg-1"], "subnets": ["subnet 1"]}}, "networking"),
        ({"networking": {"security_group_ids": ["sg-1"], "subnets": ["s-1"], "vpc": "v"}}, "networking"),
        ({"kms_key_id": "my key"}, "kms_key_id"),
        ({"model_package_group": "arn:aws:s3:::bucket"}, "model_package_group"),
        ({"tags": [{"Key": "aws:x", "Value": "y"}]}, "tags"),
        ({"evaluate_base_model": "yes"}, "evaluate_base_model"),
        ({"temperature": -0.5}, "temperature"),
        ({"top_p": 1.5}, "top_p"),
        ({"max_new_tokens": 0}, "max_new_tokens"),
        ({"max_new_tokens": True}, "max_new_tokens"),
        ({"top_k": 2.5}, "top_k"),
        ({"postprocessing": "True"}, "postprocessing"),
        ({"unknown_argument": 1}, "unknown_argument"),
    ],
)
def test_common_inputs_are_refused_naming_the_argument(overrides: dict[str, Any], field: str) -> None:
    error = refused(benchmark, **overrides)
    assert error.field == field
    assert field in str(error)


def test_model_package_and_networking_shapes_are_accepted() -> None:
    inputs = benchmark(
        model=PACKAGE,
        networking={"SecurityGroupIds": ["sg-0abc"], "Subnets": ["subnet-1", "subnet-2"]},
        model_package_group="my-group",
    )
    assert inputs.is_model_package
    assert inputs.networking is not None and inputs.networking.subnets == ["subnet-1", "subnet-2"]
    assert not benchmark().is_model_package


def test_hyperparameter_overrides_are_the_strings_the_definition_holds() -> None:
    inputs = benchmark(max_new_tokens=512, temperature=0, top_p=0.9, postprocessing=False)
    assert inputs.hyperparameter_overrides() == {
        "max_new_tokens": "512",
        "temperature": "0",
        "top_p": "0.9",
        "postprocessing": "False",
    }


def test_every_input_type_shares_the_common_base() -> None:
    for inputs in (benchmark(), judge(), scorer()):
        assert isinstance(inputs, EvaluatorInputs)


def test_no_core_module_imports_airflow() -> None:
    """The layer rule, checked on the source of every module under ``evaluation/``."""
    root = Path(airflow_provider_sm_eval.evaluation.__file__).parent
    offenders = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            offenders += [f"{path.relative_to(root)}: {n}" for n in names if n.split(".")[0] == "airflow"]
    assert offenders == []


def test_importing_the_definitions_loads_neither_airflow_nor_boto3() -> None:
    """DAG files validate literal inputs at parse time: that import must stay cheap."""
    code = (
        "import sys, airflow_provider_sm_eval.evaluation.definitions as d\n"
        "import airflow_provider_sm_eval.evaluation.definitions.inputs\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('airflow', 'boto3', 'botocore')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
