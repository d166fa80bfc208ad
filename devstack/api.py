"""A client of Airflow's public REST API (``/api/v2``) that logs in through ``/auth/token``."""

from __future__ import annotations

import time
from typing import Any

import httpx


class AirflowApi:
    """``/api/v2`` of one API server, with a JWT of the SimpleAuthManager user (re-fetched on 401)."""

    def __init__(self, base_url: str, username: str, password: str, timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._username = username
        self._password = password
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)
        self._token: str | None = None

    def close(self) -> None:
        self._http.close()

    def token(self) -> str:
        """A JWT for the API, as ``POST /auth/token`` issues it to the user and password."""
        if self._token is None:
            answer = self._http.post(
                "/auth/token", json={"username": self._username, "password": self._password}
            )
            answer.raise_for_status()
            self._token = str(answer.json()["access_token"])
        return self._token

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request to ``/api/v2`` + ``path``; the answer is returned whatever its status."""
        url = path if path.startswith(("/api/", "/auth/")) else f"/api/v2{path}"
        for _ in range(2):
            answer = self._http.request(
                method, url, headers={"Authorization": f"Bearer {self.token()}"}, **kwargs
            )
            if answer.status_code != 401:
                return answer
            self._token = None
        return answer

    def get(self, path: str, **params: Any) -> Any:
        """GET ``path``; the JSON body (raises on an error status)."""
        answer = self.request("GET", path, params=params or None)
        answer.raise_for_status()
        return answer.json()

    def get_all(self, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
        """Every item of the collection ``path`` (its list under ``key``), page after page.

        The API gives at most ``[api] maximum_page_limit`` items (100 by default) whatever ``limit``
        asks: one ``limit=1000`` request silently drops the rest of a long list.
        """
        items: list[dict[str, Any]] = []
        params.setdefault("limit", 1000)  # as many per page as the server gives
        while True:
            page = self.get(path, **params, offset=len(items))
            items.extend(page[key])
            if not page[key] or len(items) >= page["total_entries"]:
                return items

    def post(self, path: str, body: Any) -> Any:
        answer = self.request("POST", path, json=body)
        answer.raise_for_status()
        return answer.json()

    def patch(self, path: str, body: Any, **params: Any) -> Any:
        answer = self.request("PATCH", path, json=body, params=params or None)
        answer.raise_for_status()
        return answer.json()

    # -- DAG runs and task instances -------------------------------------------------------------

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None, run_id: str | None = None) -> str:
        """Trigger a run of ``dag_id`` now; its run id."""
        body: dict[str, Any] = {"logical_date": None, "conf": conf or {}}
        if run_id is not None:
            body["dag_run_id"] = run_id
        return str(self.post(f"/dags/{dag_id}/dagRuns", body)["dag_run_id"])

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return dict(self.get(f"/dags/{dag_id}/dagRuns/{run_id}"))

    def task_instance(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        return dict(self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}"))

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 300.0) -> str:
        """Wait until the run ends; its final state (``success`` or ``failed``)."""
        return self.wait_for_runs(dag_id, [run_id], timeout)[run_id]

    def wait_for_runs(self, dag_id: str, run_ids: list[str], timeout: float = 300.0) -> dict[str, str]:
        """Wait until every run ends; run id -> final state. Raises TimeoutError naming the rest."""
        deadline = time.monotonic() + timeout
        states: dict[str, str] = {}
        by_id: dict[str, str] = {}
        while True:
            try:
                runs = self.get_all(f"/dags/{dag_id}/dagRuns", "dag_runs")
                by_id = {run["dag_run_id"]: run["state"] for run in runs}
            except (httpx.TransportError, httpx.HTTPStatusError) as error:
                if isinstance(error, httpx.HTTPStatusError) and error.response.status_code < 500:
                    raise
                # A loaded API server times out now and then (500, read timeout): ask again.
            states = {run_id: by_id.get(run_id, "missing") for run_id in run_ids}
            if all(state in ("success", "failed") for state in states.values()):
                return states
            if time.monotonic() > deadline:
                pending = {
                    run_id: state for run_id, state in states.items() if state not in ("success", "failed")
                }
                raise TimeoutError(f"DAG runs of {dag_id} still not done after {timeout:g} s: {pending}")
            time.sleep(2.0)

    def wait_for_task_state(
        self, dag_id: str, run_id: str, task_id: str, states: set[str], timeout: float = 180.0
    ) -> dict[str, Any]:
        """Wait until the task instance is in one of ``states``; the task instance."""
        deadline = time.monotonic() + timeout
        while True:
            instance = self.task_instance(dag_id, run_id, task_id)
            if instance["state"] in states:
                return instance
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{dag_id}/{run_id}/{task_id} is {instance['state']!r}, not in {sorted(states)}, "
                    f"after {timeout:g} s"
                )
            time.sleep(0.5)

    def xcom(
        self, dag_id: str, run_id: str, task_id: str, key: str = "return_value", map_index: int = -1
    ) -> Any:
        """The deserialised value of an XCom (of one mapped task instance with ``map_index``)."""
        return self.get(
            f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}",
            deserialize=True,
            map_index=map_index,
        )["value"]

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int, map_index: int = -1) -> str:
        """The task's log of one try as text (the structured lines' events joined)."""
        answer = self.get(
            f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}",
            full_content=True,
            map_index=map_index,
        )
        content = answer.get("content", [])
        if isinstance(content, str):
            return content
        lines = []
        for entry in content:
            if isinstance(entry, dict):
                extra = {k: v for k, v in entry.items() if k not in ("event", "timestamp", "level", "logger")}
                lines.append(" ".join([str(entry.get("event", "")), *(f"{k}={v}" for k, v in extra.items())]))
            else:
                lines.append(str(entry))
        return "\n".join(lines)
