"""Constants and test doubles shared by the Airflow layer tests.

The doubles stand in for the parts of a running task that need an Airflow API server
(``ti.xcom_push``, ``task_state_store``); the end-to-end tests use ``dag.test()`` instead.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_sm_eval.hooks.evaluation import SageMakerEvaluationHook

CONN_ID = "sm_eval_emulator"
ROLE_ARN = "arn:aws:iam::123456789012:role/EvaluationRole"
BUCKET = "eval-results"
DEFINITIONS = Path(__file__).resolve().parents[2] / "example_dags" / "pipeline_definitions"
#: A well-formed ARN of an execution the emulator does not know.
UNKNOWN_EXECUTION_ARN = (
    "arn:aws:sagemaker:us-east-1:123456789012:pipeline/"
    "sagemakerevaluation-benchmarkevaluation-nothere/execution/abc123def456"
)


def definition_path(kind: str) -> str:
    """Path of an example pipeline definition: benchmark, custom_scorer or llm_as_judge."""
    return str(DEFINITIONS / f"{kind}.json")


def start_execution(
    name: str,
    output: str,
    *,
    kind: str = "benchmark",
    eval_type: str = "benchmark",
    description: str | None = None,
    hook: SageMakerEvaluationHook | None = None,
) -> str:
    """Start an evaluation through ``hook`` (default: one on the emulator connection); return its ARN."""
    from airflow_provider_sm_eval.evaluation.request import StartRequest
    from airflow_provider_sm_eval.hooks.evaluation import SageMakerEvaluationHook

    request = StartRequest(
        eval_type=eval_type,
        name=name,
        pipeline_definition=definition_path(kind),
        role_arn=ROLE_ARN,
        s3_output_path=f"s3://{BUCKET}/{output}",
        description=description,
    )
    return (hook or SageMakerEvaluationHook(aws_conn_id=CONN_ID)).start_evaluation(request).arn


class RecordingTaskInstance:
    """Task instance double: identity fields and an in-memory XCom."""

    def __init__(self, *, run_id: str = "manual__1", try_number: int = 1, map_index: int = -1) -> None:
        self.dag_id = "test_dag"
        self.task_id = "start_evaluation"
        self.run_id = run_id
        self.map_index = map_index
        self.try_number = try_number
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value

    def xcom_pull(self, task_ids: str | None = None, key: str = "return_value") -> Any:
        return self.xcom.get(key)


class DictTaskStateStore:
    """Airflow 3.3 ``task_state_store`` double: get / set over a dict that outlives tries."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def set(self, key: str, value: Any, **_: Any) -> None:
        self.values[key] = value


def task_context(
    ti: RecordingTaskInstance, store: DictTaskStateStore | None = None, run_after: datetime | None = None
) -> dict[str, Any]:
    """The context keys the operators read."""
    context: dict[str, Any] = {"ti": ti, "task_instance": ti}
    if run_after is not None:
        context["dag_run"] = SimpleNamespace(run_after=run_after)
    if store is not None:
        context["task_state_store"] = store
    return context
