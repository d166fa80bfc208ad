"""Test support: reading a finished ``dag.test()`` run, and a task instance that records XComs."""

from __future__ import annotations

from typing import Any


def task_states(dag_run: Any) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}


def xcom(dag_run: Any, task_id: str, key: str = "return_value") -> Any:
    """The XCom value a task of the run pushed under ``key`` (None when absent)."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        row = session.scalars(
            select(XComModel).where(
                XComModel.dag_id == dag_run.dag_id,
                XComModel.run_id == dag_run.run_id,
                XComModel.task_id == task_id,
                XComModel.key == key,
            )
        ).first()
        return None if row is None else XComModel.deserialize_value(row)


def trigger_of(dag_run: Any, task_id: str) -> str | None:
    """Class path of the trigger the task deferred to in this run (None: it never deferred).

    ``dag.test()`` leaves the task instance's ``trigger_id`` in place after the trigger fired.
    """
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.trigger import Trigger
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        trigger_id = session.scalar(
            select(TaskInstance.trigger_id).where(
                TaskInstance.dag_id == dag_run.dag_id,
                TaskInstance.run_id == dag_run.run_id,
                TaskInstance.task_id == task_id,
            )
        )
        trigger = None if trigger_id is None else session.get(Trigger, trigger_id)
        return None if trigger is None else str(trigger.classpath)


class RecordingTaskInstance:
    """Stands in for the runtime task instance when an operator's ``execute`` is called directly."""

    map_index = -1

    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


def rendered_fields(dag_run: Any, task_id: str) -> dict[str, Any]:
    """The rendered template fields Airflow stored for the task (its "Rendered Template" view)."""
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        row = session.scalars(
            select(RenderedTaskInstanceFields).where(
                RenderedTaskInstanceFields.dag_id == dag_run.dag_id,
                RenderedTaskInstanceFields.run_id == dag_run.run_id,
                RenderedTaskInstanceFields.task_id == task_id,
            )
        ).first()
        return {} if row is None else dict(row.rendered_fields)
