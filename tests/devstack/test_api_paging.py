"""The stack's REST client reads whole collections: Airflow gives at most ``[api] maximum_page_limit``
(100) items per request whatever ``limit`` asks, so one request drops the rest of a long list."""

from __future__ import annotations

import httpx
import pytest

from devstack.api import AirflowApi

#: Airflow's default ``[api] maximum_page_limit``.
MAXIMUM_PAGE_LIMIT = 100


def _api_with_runs(states: list[str]) -> tuple[AirflowApi, list[dict[str, int]]]:
    """A client of a fake API server that clips pages as Airflow does; the requests it got."""
    runs = [{"dag_run_id": f"run-{index}", "state": state} for index, state in enumerate(states)]
    requests: list[dict[str, int]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/token":
            return httpx.Response(201, json={"access_token": "token"})
        assert request.url.path == "/api/v2/dags/d/dagRuns"
        offset = int(request.url.params.get("offset", 0))
        limit = min(int(request.url.params.get("limit", 50)), MAXIMUM_PAGE_LIMIT)
        requests.append({"offset": offset, "limit": limit})
        return httpx.Response(
            200, json={"dag_runs": runs[offset : offset + limit], "total_entries": len(runs)}
        )

    api = AirflowApi("http://airflow.invalid", "admin", "admin")
    api._http = httpx.Client(base_url=api.base_url, transport=httpx.MockTransport(answer))
    return api, requests


def test_get_all_reads_every_page_of_a_collection_longer_than_the_page_limit() -> None:
    api, requests = _api_with_runs(["success"] * 250)
    runs = api.get_all("/dags/d/dagRuns", "dag_runs")
    assert [run["dag_run_id"] for run in runs] == [f"run-{index}" for index in range(250)]
    assert [request["offset"] for request in requests] == [0, 100, 200]


def test_get_all_of_an_empty_collection_asks_once() -> None:
    api, requests = _api_with_runs([])
    assert api.get_all("/dags/d/dagRuns", "dag_runs") == []
    assert len(requests) == 1


def test_wait_for_runs_sees_runs_beyond_the_first_page() -> None:
    # The 150th run is on the second page: read as one limit=1000 request, it stayed "missing".
    api, _ = _api_with_runs(["success"] * 149 + ["failed"])
    states = api.wait_for_runs("d", ["run-0", "run-149"], timeout=0)
    assert states == {"run-0": "success", "run-149": "failed"}


def test_wait_for_runs_names_the_runs_still_going() -> None:
    api, _ = _api_with_runs(["success"] * 120 + ["running"])
    with pytest.raises(TimeoutError, match="run-120': 'running'"):
        api.wait_for_runs("d", ["run-0", "run-120"], timeout=0)
