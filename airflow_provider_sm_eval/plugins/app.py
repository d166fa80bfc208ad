"""The plugin's FastAPI app (mounted under ``paths.URL_PREFIX``): the two pages, their JSON, the stylesheet.

Every route first refuses path values that cannot name a DAG, run or task instance (422), then
checks the caller against Airflow's auth manager with the api-server's own dependency
(``requires_access_dag``): the user must be allowed to read the DAG's XComs. Every response
carries :data:`SECURITY_HEADERS`. The routes are synchronous: FastAPI runs them in its thread
pool, so the database and AWS calls never block the api-server's event loop.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.core_api.security import requires_access_dag
from airflow.models.base import ID_LEN
from fastapi import Depends, FastAPI, HTTPException, Query
from fastapi.responses import HTMLResponse
from starlette.datastructures import MutableHeaders
from starlette.staticfiles import StaticFiles

from airflow_provider_sm_eval.plugins import metadata, pages
from airflow_provider_sm_eval.plugins.data import MAX_HISTORY_RUNS, dag_history_view, task_evaluation_view
from airflow_provider_sm_eval.plugins.paths import STATIC_ROUTE, airflow_base_path
from airflow_provider_sm_eval.plugins.view_models import DagHistoryView, TaskEvaluationView

#: Per-example judge records shown by default, and at most.
DEFAULT_EXAMPLES, MAX_EXAMPLES = 5, 20

#: Headers of every response: no script, no inline style (the app's own stylesheet only), nothing loaded
#: from elsewhere, framed by Airflow's own pages only.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
}
#: A DAG or task id as Airflow allows it (``airflow.sdk`` KEY_REGEX, at most ID_LEN characters).
_KEY = re.compile(rf"[\w.-]{{1,{ID_LEN}}}")
#: A run id: any printable text of at most ID_LEN characters (the allowed pattern is configurable).
_RUN_ID = re.compile(rf"[^\x00-\x1f\x7f]{{1,{ID_LEN}}}")
#: Map indexes Airflow stores (a 32-bit integer column); -1 is an unmapped task.
MIN_MAP_INDEX, MAX_MAP_INDEX = -1, 2**31 - 1

ReadXCom = Depends(requires_access_dag("GET", DagAccessEntity.XCOM))
MapIndex = Annotated[str, Query(description="map index; the UI's unfilled '{MAP_INDEX}' means -1")]
Examples = Annotated[int, Query(ge=0, le=MAX_EXAMPLES)]
TaskFilter = Annotated[str | None, Query(alias="task_id")]
MetricFilter = Annotated[str | None, Query(alias="metric")]
MaxRuns = Annotated[int, Query(ge=1, le=MAX_HISTORY_RUNS)]


def parse_map_index(value: str) -> int:
    """The map index of the page URL: an integer, or -1 for an unmapped task ('', '-1', '{MAP_INDEX}')."""
    if value in ("", "{MAP_INDEX}"):
        return -1
    if not re.fullmatch(r"-?[0-9]{1,10}", value) or not MIN_MAP_INDEX <= int(value) <= MAX_MAP_INDEX:
        raise HTTPException(
            422, f"map_index must be -1 or an integer from 0 to {MAX_MAP_INDEX}, got {value[:40]!r}"
        )
    return int(value)


def _check_id(name: str, value: str, pattern: re.Pattern[str]) -> None:
    if not pattern.fullmatch(value):
        raise HTTPException(
            422, f"{name} {value[:40]!r} is not an Airflow {name} (at most {ID_LEN} characters)"
        )


def valid_dag_path(dag_id: str) -> None:
    """Refuse (422) a dag_id no DAG can have, before any database query (the auth check's too)."""
    _check_id("dag_id", dag_id, _KEY)


def valid_task_path(dag_id: str, run_id: str, task_id: str) -> None:
    """Refuse (422) ids no task instance can have, before any database query."""
    _check_id("dag_id", dag_id, _KEY)
    _check_id("run_id", run_id, _RUN_ID)
    _check_id("task_id", task_id, _KEY)


ValidDagPath, ValidTaskPath = Depends(valid_dag_path), Depends(valid_task_path)


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

    @app.get(
        f"/api{TASK_PATH}/evaluation",
        dependencies=[ValidTaskPath, ReadXCom],
        response_model=TaskEvaluationView,
    )
    def task_evaluation_json(view: TaskView) -> TaskEvaluationView:
        """The evaluation of a task instance (status, steps, results, gate, judge records, links)."""
        return view

    @app.get(TASK_PATH, dependencies=[ValidTaskPath, ReadXCom], response_class=HTMLResponse)
    def task_evaluation_page(view: TaskView) -> HTMLResponse:
        """The "Evaluation" tab of a task instance."""
        return HTMLResponse(pages.task_page(view, airflow_base_path()))

    @app.get(
        "/api/dags/{dag_id}/evaluations", dependencies=[ValidDagPath, ReadXCom], response_model=DagHistoryView
    )
    def dag_history_json(view: HistoryView) -> DagHistoryView:
        """The evaluations of the DAG's latest runs, oldest first."""
        return view

    @app.get("/dags/{dag_id}", dependencies=[ValidDagPath, ReadXCom], response_class=HTMLResponse)
    def dag_history_page(view: HistoryView) -> HTMLResponse:
        """The "Evaluations" tab of a DAG."""
        return HTMLResponse(pages.dag_page(view, airflow_base_path()))

    app.mount(
        STATIC_ROUTE, StaticFiles(packages=[("airflow_provider_sm_eval.plugins", "static")]), name="static"
    )
    app.add_middleware(SecurityHeadersMiddleware)
    return app


class SecurityHeadersMiddleware:
    """Adds :data:`SECURITY_HEADERS` to every response of the app (pages, JSON, errors)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
