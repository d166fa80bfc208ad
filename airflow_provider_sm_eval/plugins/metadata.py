"""What the pages read from Airflow's metadata database: task instances, their XComs, rendered fields.

Only the api-server imports this module (through the plugin's app): it uses Airflow's ORM models,
which task code must not touch.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from airflow.models.dagrun import DagRun
from airflow.models.renderedtifields import RenderedTaskInstanceFields
from airflow.models.taskinstance import TaskInstance
from airflow.models.xcom import XComModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session


@dataclass
class TaskInstanceRecord:
    """A task instance's state and operator, and the XComs it pushed (by key)."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    state: str | None
    operator: str | None
    start_date: datetime | None
    end_date: datetime | None
    xcoms: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunXComs:
    """A DAG run and the XComs of given keys its task instances pushed, by (task_id, map_index)."""

    run_id: str
    run_after: datetime
    logical_date: datetime | None
    state: str | None
    by_task: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)


def task_instance(
    session: Session, dag_id: str, run_id: str, task_id: str, map_index: int
) -> TaskInstanceRecord | None:
    """The task instance with every XCom it pushed; None when there is no such task instance."""
    ti = session.scalars(
        select(TaskInstance).where(
            TaskInstance.dag_id == dag_id,
            TaskInstance.run_id == run_id,
            TaskInstance.task_id == task_id,
            TaskInstance.map_index == map_index,
        )
    ).one_or_none()
    if ti is None:
        return None
    rows = session.scalars(
        select(XComModel).where(
            XComModel.dag_id == dag_id,
            XComModel.run_id == run_id,
            XComModel.task_id == task_id,
            XComModel.map_index == map_index,
        )
    ).all()
    return TaskInstanceRecord(
        dag_id=dag_id,
        run_id=run_id,
        task_id=task_id,
        map_index=map_index,
        state=None if ti.state is None else str(ti.state),
        operator=ti.operator,
        start_date=ti.start_date,
        end_date=ti.end_date,
        xcoms={row.key: XComModel.deserialize_value(row) for row in rows},
    )


def run_task_instances(session: Session, dag_id: str, run_id: str) -> list[tuple[str, int]]:
    """Every task instance of the DAG run, as (task_id, map_index): the tasks that may have started
    the executions the run's pages show."""
    rows = session.execute(
        select(TaskInstance.task_id, TaskInstance.map_index).where(
            TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id
        )
    ).all()
    return [(task_id, map_index) for task_id, map_index in rows]


def rendered_fields(
    session: Session, dag_id: str, run_id: str, task_id: str, map_index: int
) -> dict[str, Any]:
    """The task's rendered template fields (empty before the task first ran)."""
    value = session.scalar(
        select(RenderedTaskInstanceFields.rendered_fields).where(
            RenderedTaskInstanceFields.dag_id == dag_id,
            RenderedTaskInstanceFields.run_id == run_id,
            RenderedTaskInstanceFields.task_id == task_id,
            RenderedTaskInstanceFields.map_index == map_index,
        )
    )
    return value if isinstance(value, dict) else {}


def dag_xcoms(
    session: Session, dag_id: str, keys: Collection[str], *, max_runs: int = 1, run_id: str | None = None
) -> list[RunXComs]:
    """The XComs of ``keys`` of the DAG's latest ``max_runs`` runs (or of one run), oldest run first.

    Runs are ordered by logical date (their run-after date when they have none).
    """
    query = select(DagRun.run_id, DagRun.run_after, DagRun.logical_date, DagRun.state).where(
        DagRun.dag_id == dag_id
    )
    if run_id is not None:
        query = query.where(DagRun.run_id == run_id)
    # In the order of the dates the runs are for: a run triggered late for an earlier night sorts there.
    moment = func.coalesce(DagRun.logical_date, DagRun.run_after)
    runs = session.execute(query.order_by(moment.desc(), DagRun.id.desc()).limit(max_runs)).all()
    by_run = {
        run.run_id: RunXComs(
            run_id=run.run_id,
            run_after=run.run_after,
            logical_date=run.logical_date,
            state=None if run.state is None else str(run.state),
        )
        for run in reversed(runs)
    }
    if not by_run:
        return []
    rows = session.scalars(
        select(XComModel).where(
            XComModel.dag_id == dag_id,
            XComModel.run_id.in_(list(by_run)),
            XComModel.key.in_(list(keys)),
        )
    ).all()
    for row in rows:
        by_run[row.run_id].by_task.setdefault((row.task_id, row.map_index), {})[row.key] = (
            XComModel.deserialize_value(row)
        )
    return list(by_run.values())
