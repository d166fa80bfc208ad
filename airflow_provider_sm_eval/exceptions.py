"""The exceptions of the provider's Airflow layer (hooks, operators, sensors, triggers).

The lifecycle core keeps its own, Airflow-free, in :mod:`.evaluation.exceptions`; the classes here
are Airflow's, so that a task fails the way Airflow expects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_sm_eval.version_compat import AirflowException

if TYPE_CHECKING:
    from airflow_provider_sm_eval.evaluation.models import PipelineExecutionStatus


class EvaluationExecutionFailedException(AirflowException):
    """An evaluation execution ended in a status the task does not count as success."""

    def __init__(self, execution_arn: str, status: PipelineExecutionStatus, message: str) -> None:
        super().__init__(message)
        self.execution_arn = execution_arn
        self.status = status
