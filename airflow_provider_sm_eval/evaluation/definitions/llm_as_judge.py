"""The LLM-as-judge evaluation definition (the SDK's ``LLMAJ_TEMPLATE`` and its base-model-only
variant), built as data: per evaluated model an inference job on the dataset, then a judge job
scoring its output."""

from __future__ import annotations

import json
from typing import Any

from airflow_provider_sm_eval.evaluation.constants import StepName
from airflow_provider_sm_eval.evaluation.definitions.inputs import LLMAsJudgeEvaluation
from airflow_provider_sm_eval.evaluation.definitions.parts import (
    BENCHMARK_JOB,
    LLMAJ_JOB,
    associate_lineage,
    create_evaluation_action,
    document,
    execution_id,
    get,
    join,
    training_step,
)
from airflow_provider_sm_eval.evaluation.definitions.resolve import Resolved

#: The inference job's fixed name and its output file below ``{S3OutputPath}/{job}/output/output/``.
_INFERENCE_OUTPUT = "/eval_results/inference_output.jsonl"


def _inference_step(
    inputs: LLMAsJudgeEvaluation,
    resolved: Resolved,
    step: StepName,
    job_name: str,
    *,
    custom: bool,
    lineage: bool,
) -> dict[str, Any]:
    return training_step(
        step,
        inputs,
        resolved,
        evaluation_type=BENCHMARK_JOB,
        training_job_name=job_name,
        hyperparameters={"name": job_name, "task": "inference_only"},
        s3_output_path=_output_path(inputs),
        dataset=inputs.dataset,
        model_package=custom,
        depends_on=[StepName.CREATE_EVALUATION_ACTION] if lineage else None,
    )


def _metrics_step(
    inputs: LLMAsJudgeEvaluation,
    resolved: Resolved,
    step: StepName,
    *,
    prefix: str,
    inference: StepName,
    inference_job: str,
    custom: bool,
) -> dict[str, Any]:
    """The judge job scoring the output of ``inference``."""
    name = join("-", [prefix, execution_id()])
    hyperparameters: dict[str, Any] = {
        "name": name,
        "judge_model_id": inputs.evaluator_model,
        "inference_data_s3_path": join(
            "",
            [
                get(f"Steps.{inference.value}.OutputDataConfig.S3OutputPath"),
                "/",
                get(f"Steps.{inference.value}.TrainingJobName"),
                "/output/output/",
                inference_job,
                _INFERENCE_OUTPUT,
            ],
        ),
        "output_path": _output_path(inputs),
        "llmaj_metrics": json.dumps(inputs.builtin_metrics),
    }
    if resolved.custom_metrics_s3_uri is not None:
        hyperparameters["custom_metrics"] = resolved.custom_metrics_s3_uri
    hyperparameters.update(resolved.hyperparameters)
    return training_step(
        step,
        inputs,
        resolved,
        evaluation_type=LLMAJ_JOB,
        training_job_name=join("-", [prefix, execution_id()]),
        hyperparameters=hyperparameters,
        s3_output_path=_output_path(inputs),
        in_vpc=False,
        model_package=custom,
        depends_on=[inference],
    )


def _output_path(inputs: LLMAsJudgeEvaluation) -> str:
    """The SDK strips a trailing slash from the judge's output path (only for this type)."""
    return inputs.s3_output_path.rstrip("/")


def build(inputs: LLMAsJudgeEvaluation, resolved: Resolved) -> dict[str, Any]:
    """A JumpStart model: the base model's inference and judge jobs. A model package: the lineage
    action, the custom model's (and with ``evaluate_base_model`` the base model's) jobs, and the
    lineage of their inference results and reports."""
    lineage = resolved.source_model_package_arn is not None
    base = [
        _inference_step(
            inputs,
            resolved,
            StepName.EVALUATE_BASE_INFERENCE_MODEL,
            "BaseInference",
            custom=False,
            lineage=lineage,
        ),
        _metrics_step(
            inputs,
            resolved,
            StepName.EVALUATE_BASE_MODEL_METRICS,
            prefix="base-llmaj-eval",
            inference=StepName.EVALUATE_BASE_INFERENCE_MODEL,
            inference_job="BaseInference",
            custom=False,
        ),
    ]
    if not lineage:
        return document(inputs, resolved, base)
    with_base = inputs.evaluate_base_model
    steps = [create_evaluation_action(resolved)]
    if with_base:
        steps.append(base[0])
    steps.append(
        _inference_step(
            inputs,
            resolved,
            StepName.EVALUATE_CUSTOM_INFERENCE_MODEL,
            "CustomInference",
            custom=True,
            lineage=True,
        )
    )
    if with_base:
        steps.append(base[1])
    steps.append(
        _metrics_step(
            inputs,
            resolved,
            StepName.EVALUATE_CUSTOM_MODEL_METRICS,
            prefix="custom-llmaj-eval",
            inference=StepName.EVALUATE_CUSTOM_INFERENCE_MODEL,
            inference_job="CustomInference",
            custom=True,
        )
    )
    artifacts = []
    if with_base:
        artifacts += [
            ("base-inference-results", "InferenceResults", StepName.EVALUATE_BASE_INFERENCE_MODEL),
            ("base-eval-report", "EvaluationReport", StepName.EVALUATE_BASE_MODEL_METRICS),
        ]
    artifacts += [
        ("custom-inference-results", "InferenceResults", StepName.EVALUATE_CUSTOM_INFERENCE_MODEL),
        ("custom-eval-report", "EvaluationReport", StepName.EVALUATE_CUSTOM_MODEL_METRICS),
    ]
    steps.append(associate_lineage(resolved, artifacts))
    return document(inputs, resolved, steps)
