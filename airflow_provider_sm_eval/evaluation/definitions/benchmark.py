"""The benchmark evaluation definition (the SDK's ``DETERMINISTIC_TEMPLATE`` and its base-model-only
variant), built as data from validated inputs and what :mod:`.resolve` looked up."""

from __future__ import annotations

from typing import Any

from airflow_provider_sm_eval.evaluation.constants import StepName
from airflow_provider_sm_eval.evaluation.definitions.inputs import BenchmarkEvaluation
from airflow_provider_sm_eval.evaluation.definitions.parts import (
    BENCHMARK_JOB,
    document,
    metric_key,
    one_job_per_model,
    training_step,
)
from airflow_provider_sm_eval.evaluation.definitions.resolve import Resolved


def hyperparameters(inputs: BenchmarkEvaluation, resolved: Resolved) -> dict[str, str]:
    """The benchmark's task, strategy and metric, the inference hyperparameters, the subtask(s)."""
    entry = inputs.entry
    values = {"task": entry.name, "strategy": entry.strategy, metric_key(resolved): entry.metric}
    values.update(resolved.hyperparameters)
    if inputs.subtask is not None:
        values["subtask"] = inputs.subtask
    return values


def build(inputs: BenchmarkEvaluation, resolved: Resolved) -> dict[str, Any]:
    """A JumpStart model runs one step on the base model; a model package runs the custom model
    (and the base model when ``evaluate_base_model``) between the two lineage steps."""

    def evaluate(step: StepName, custom: bool) -> dict[str, Any]:
        return training_step(
            step,
            inputs,
            resolved,
            evaluation_type=BENCHMARK_JOB,
            hyperparameters=hyperparameters(inputs, resolved),
            s3_output_path=inputs.s3_output_path,
            model_package=custom,
        )

    return document(inputs, resolved, one_job_per_model(inputs, resolved, evaluate))
