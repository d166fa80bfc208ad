"""An auth manager for the plugin's tests: Airflow's simple auth manager, with users limited to some DAGs.

A user named ``reader-of-<dag_id>`` may read that DAG only; every other user is the simple auth
manager's. The pages must ask the auth manager about the very DAG they show.
"""

from __future__ import annotations

from typing import Any

from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

SCOPED_USER_PREFIX = "reader-of-"


class DagScopedAuthManager(SimpleAuthManager):
    def is_authorized_dag(
        self, *, method: Any, user: Any, access_entity: Any = None, details: Any = None
    ) -> bool:
        if user.username.startswith(SCOPED_USER_PREFIX):
            dag_id = getattr(details, "id", None)
            if dag_id != user.username.removeprefix(SCOPED_USER_PREFIX):
                return False
        return super().is_authorized_dag(
            method=method, user=user, access_entity=access_entity, details=details
        )
