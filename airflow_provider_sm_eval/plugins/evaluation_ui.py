"""The Airflow UI plugin: an "Evaluation" tab on task instances and an "Evaluations" tab on DAGs.

Registered through the ``airflow.plugins`` entry point, so installing the provider adds it.
Turn it off with ``[sm_eval] ui_plugin_enabled = False`` in ``airflow.cfg`` or the environment
variable ``AIRFLOW__SM_EVAL__UI_PLUGIN_ENABLED=False`` (read when the plugin is loaded; the option
is declared in :mod:`..settings`).

Every Airflow component loads plugins, so importing this module stays cheap: the FastAPI app
(and the ORM, boto3, the pages) is built by the api-server on the first request it routes here.
"""

from __future__ import annotations

import threading
from typing import Any

from airflow_provider_sm_eval.plugins.paths import URL_PREFIX, app_base_path
from airflow_provider_sm_eval.settings import ui_plugin_enabled

try:  # Airflow 3.2+: the task SDK's plugin base, cheap in workers
    from airflow.sdk.plugins_manager import AirflowPlugin
except ImportError:  # pragma: no cover - older Airflow 3
    from airflow.plugins_manager import AirflowPlugin  # type: ignore[assignment]

#: The task tab's page (the UI fills in the ids).
TASK_PAGE = "/dags/{DAG_ID}/runs/{RUN_ID}/tasks/{TASK_ID}?map_index={MAP_INDEX}"
#: Tab routes of the UI (``/dags/.../plugin/<url_route>``).
TASK_TAB_ROUTE, DAG_TAB_ROUTE = "sm-eval-evaluation", "sm-eval-evaluations"


class _LazyEvaluationApp:
    """ASGI app that builds the plugin's FastAPI app on the first request it receives."""

    def __init__(self) -> None:
        self._app: Any = None
        self._lock = threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self._app is None:
            with self._lock:
                if self._app is None:
                    from airflow_provider_sm_eval.plugins.app import create_app

                    self._app = create_app()
        await self._app(scope, receive, send)


class SageMakerEvaluationPlugin(AirflowPlugin):
    """The provider's UI: evaluation tabs drawn by the plugin's FastAPI app (server-side SVG)."""

    name = "sm_eval_ui"
    if ui_plugin_enabled():
        fastapi_apps = [
            {"app": _LazyEvaluationApp(), "url_prefix": URL_PREFIX, "name": "SageMaker evaluations"}
        ]
        external_views = [
            {
                "name": "Evaluation",
                "href": app_base_path() + TASK_PAGE,
                "destination": "task_instance",
                "url_route": TASK_TAB_ROUTE,
            },
            {
                "name": "Evaluations",
                "href": app_base_path() + "/dags/{DAG_ID}",
                "destination": "dag",
                "url_route": DAG_TAB_ROUTE,
            },
        ]
