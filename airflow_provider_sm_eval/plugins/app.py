"""The plugin's FastAPI app (mounted under ``evaluation_ui.URL_PREFIX``): the two pages and their JSON.

Every route checks the caller against Airflow's auth manager with the api-server's own
dependency (``requires_access_dag``): the user must be allowed to read the DAG's XComs. The
routes are synchronous: FastAPI runs them in its thread pool, so the database and AWS calls
never block the api-server's event loop.
"""

from __future__ import annotations

from typing import Annotated

from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.core_api.security import requires_access_dag
from fastapi import Depends, FastAPI, HTTPException, Query
from fastapi.responses import HTMLResponse

from airflow_provider_sm_eval.plugins import metadata, pages
from airflow_provider_sm_eval.plugins.evaluation_ui import airflow_base_path
from airflow_provider_sm_eval.plugins.views import (
    MAX_HISTORY_RUNS,
    DagHistoryView,
    TaskEvaluationView,
    dag_history_view,
    task_evaluation_view,
)

#: Per-example judge records shown by default, and at most.
DEFAULT_EXAMPLES, MAX_EXAMPLES = 5, 20

ReadXCom = Depends(requires_access_dag("GET", DagAccessEntity.XCOM))
MapIndex = Annotated[str, Query(description="map index; the UI's unfilled '{MAP_INDEX}' means -1")]
Examples = Annotated[int, Query(ge=0, le=MAX_EXAMPLES)]
TaskFilter = Annotated[str | None, Query(alias="task_id")]
MetricFilter = Annotated[str | None, Query(alias="metric")]
MaxRuns = Annotated[int, Query(ge=1, le=MAX_HISTORY_RUNS)]


def parse_map_index(value: str) -> int:
    """The map index of the page URL: an integer, or -1 for an unmapped task ('', '-1', '{MAP_INDEX}')."""
    try:
        return int(value)
    except ValueError:
        if value in ("", "{MAP_INDEX}"):
            return -1
        raise HTTPException(422, f"map_index must be an integer, got {value!r}") from None


def read_task_view(
    *,
    session: SessionDep,
    dag_id: str,
    run_id: str,
    task_id: str,
    map_index: MapIndex = "-1",
    examples: Examples = DEFAULT_EXAMPLES,
) -> TaskEvaluationView:
    """The evaluation of the task instance the path names (404 when there is no such task instance)."""
    record = metadata.task_instance(session, dag_id, run_id, task_id, parse_map_index(map_index))
    if record is None:
        raise HTTPException(404, f"No task instance {task_id!r} in run {run_id!r} of DAG {dag_id!r}")
    return task_evaluation_view(session, record, example_limit=examples)


def read_history_view(
    session: SessionDep,
    dag_id: str,
    task_filter: TaskFilter = None,
    metric_filter: MetricFilter = None,
    max_runs: MaxRuns = MAX_HISTORY_RUNS,
) -> DagHistoryView:
    """The evaluations of the DAG's latest runs, oldest first."""
    return dag_history_view(
        session, dag_id, task_filter=task_filter, metric_filter=metric_filter, max_runs=max_runs
    )


TaskView = Annotated[TaskEvaluationView, Depends(read_task_view)]
HistoryView = Annotated[DagHistoryView, Depends(read_history_view)]
TASK_PATH = "/dags/{dag_id}/runs/{run_id}/tasks/{task_id}"


def create_app() -> FastAPI:
    app = FastAPI(
        title="SageMaker evaluations",
        description="Evaluation tabs of the Airflow UI (airflow-provider-sm-eval)",
        docs_url=None,
        redoc_url=None,
    )

    @app.get(f"/api{TASK_PATH}/evaluation", dependencies=[ReadXCom], response_model=TaskEvaluationView)
    def task_evaluation_json(view: TaskView) -> TaskEvaluationView:
        """The evaluation of a task instance (status, steps, results, gate, judge records, links)."""
        return view

    @app.get(TASK_PATH, dependencies=[ReadXCom], response_class=HTMLResponse)
    def task_evaluation_page(view: TaskView) -> HTMLResponse:
        """The "Evaluation" tab of a task instance."""
        return HTMLResponse(pages.task_page(view))

    @app.get("/api/dags/{dag_id}/evaluations", dependencies=[ReadXCom], response_model=DagHistoryView)
    def dag_history_json(view: HistoryView) -> DagHistoryView:
        """The evaluations of the DAG's latest runs, oldest first."""
        return view

    @app.get("/dags/{dag_id}", dependencies=[ReadXCom], response_class=HTMLResponse)
    def dag_history_page(view: HistoryView) -> HTMLResponse:
        """The "Evaluations" tab of a DAG."""
        return HTMLResponse(pages.dag_page(view, airflow_base_path()))

    return app
