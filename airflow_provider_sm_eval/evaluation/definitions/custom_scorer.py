"""The custom scorer evaluation definition (the SDK's ``CUSTOM_SCORER_TEMPLATE`` and its
base-model-only variant), built as data."""

from __future__ import annotations

from typing import Any

from airflow_provider_sm_eval.evaluation.constants import StepName
from airflow_provider_sm_eval.evaluation.definitions.catalog import (
    CUSTOM_SCORER_METRIC,
    CUSTOM_SCORER_STRATEGY,
    CUSTOM_SCORER_TASK,
)
from airflow_provider_sm_eval.evaluation.definitions.inputs import CustomScorerEvaluation
from airflow_provider_sm_eval.evaluation.definitions.parts import (
    CUSTOM_SCORER_JOB,
    document,
    metric_key,
    one_job_per_model,
    training_step,
)
from airflow_provider_sm_eval.evaluation.definitions.resolve import Resolved

#: What a job scoring with a custom evaluator (a Lambda) needs, as the SDK sets it.
_EVALUATOR_POSTPROCESSING = "True"
_DEFAULT_AGGREGATION = "mean"


def hyperparameters(inputs: CustomScorerEvaluation, resolved: Resolved) -> dict[str, str]:
    """The fixed ``gen_qa`` task, the inference hyperparameters, and the scorer: a preset reward
    function, or an evaluator ARN (postprocessing on, ``mean`` aggregation by default)."""
    values = {
        "task": CUSTOM_SCORER_TASK,
        "strategy": CUSTOM_SCORER_STRATEGY,
        metric_key(resolved): CUSTOM_SCORER_METRIC,
    }
    if resolved.is_nova:
        values["lambda_type"] = "rft"
    values.update(resolved.hyperparameters)
    if inputs.preset_reward_function is not None:
        values["preset_reward_function"] = inputs.preset_reward_function
    if inputs.evaluator_arn is not None:
        values["postprocessing"] = _EVALUATOR_POSTPROCESSING
        values["aggregation"] = values.get("aggregation") or _DEFAULT_AGGREGATION
    return values


def build(inputs: CustomScorerEvaluation, resolved: Resolved) -> dict[str, Any]:
    """As the benchmark's definition, with the dataset as input and the scorer's hyperparameters."""

    def evaluate(step: StepName, custom: bool) -> dict[str, Any]:
        return training_step(
            step,
            inputs,
            resolved,
            evaluation_type=CUSTOM_SCORER_JOB,
            evaluator_arn=inputs.evaluator_arn,
            hyperparameters=hyperparameters(inputs, resolved),
            s3_output_path=inputs.s3_output_path,
            dataset=inputs.dataset,
            model_package=custom,
        )

    return document(inputs, resolved, one_job_per_model(inputs, resolved, evaluate))
