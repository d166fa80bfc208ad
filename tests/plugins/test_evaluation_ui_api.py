"""The UI plugin's endpoints in Airflow's own api-server app: data shapes, auth, empty states, pages."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from conftest import JUDGE_DAG, SCHEDULED_DAG, UiRuns

from airflow_provider_sm_eval.plugins import evaluation_ui

#: One pytest-xdist worker runs the whole module: its module-scoped DAG runs (``ui_runs``) run once.
pytestmark = [pytest.mark.xdist_group(__name__), pytest.mark.dag_run]

PREFIX = evaluation_ui.URL_PREFIX
#: Users limited to one DAG (``DagScopedAuthManager``).
SCHEDULED_READER, JUDGE_READER = f"reader-of-{SCHEDULED_DAG}", f"reader-of-{JUDGE_DAG}"
#: Hosts the pages may link to: the AWS console (of the ``aws`` partition here).
CONSOLE_HOSTS = ("console.aws.amazon.com", ".console.aws.amazon.com")


def task_url(run: Any, task_id: str, *, page: bool = False, query: str = "") -> str:
    path = f"/dags/{run.dag_id}/runs/{quote(run.run_id, safe='')}/tasks/{task_id}"
    return f"{PREFIX}{path}{query}" if page else f"{PREFIX}/api{path}/evaluation{query}"


def get_json(ui: UiRuns, url: str, user: str = "viewer") -> Any:
    response = ui.client.get(url, headers=ui.token(user))
    assert response.status_code == 200, response.text
    return response.json()


def get_page(ui: UiRuns, url: str, user: str = "viewer") -> str:
    response = ui.client.get(url, headers=ui.token(user))
    assert response.status_code == 200, response.text
    return response.text


def recorded_xcoms(run: Any, task_id: str) -> dict[str, Any]:
    """The XComs the task instance holds now (read from the metadata database)."""
    from airflow.utils.session import create_session

    from airflow_provider_sm_eval.plugins import metadata

    with create_session() as session:
        record = metadata.task_instance(session, run.dag_id, run.run_id, task_id, -1)
        assert record is not None
        return record.xcoms


@contextmanager
def tampered_xcom(ui: UiRuns, run: Any, task_id: str, key: str, value: Any, *, user: str) -> Iterator[None]:
    """Write an XCom the way a user who may edit the DAG's XComs can: through Airflow's REST API.

    The XCom is put back (or deleted) afterwards, so that the other tests see the runs unchanged.
    """
    entries = (
        f"/api/v2/dags/{run.dag_id}/dagRuns/{quote(run.run_id, safe='')}/taskInstances/{task_id}/xcomEntries"
    )
    before = recorded_xcoms(run, task_id)
    headers = ui.token(user, role="user")
    if key in before:
        written = ui.client.patch(f"{entries}/{key}", json={"value": value, "map_index": -1}, headers=headers)
    else:
        written = ui.client.post(entries, json={"key": key, "value": value, "map_index": -1}, headers=headers)
    assert written.status_code in (200, 201), written.text
    try:
        yield
    finally:
        admin = ui.token("admin", role="admin")
        if key in before:
            restored = ui.client.patch(
                f"{entries}/{key}", json={"value": before[key], "map_index": -1}, headers=admin
            )
        else:
            restored = ui.client.delete(f"{entries}/{key}", headers=admin)
        assert restored.status_code in (200, 204), restored.text


def test_the_plugin_is_registered_with_both_tabs(ui_runs: UiRuns) -> None:
    plugins = get_json(ui_runs, "/api/v2/plugins", user="admin")["plugins"]
    (plugin,) = [p for p in plugins if p["name"] == "sm_eval_ui"]
    views = {view["destination"]: view for view in plugin["external_views"]}
    assert views["task_instance"]["name"] == "Evaluation"
    assert views["task_instance"]["href"] == (
        f"{PREFIX}/dags/{{DAG_ID}}/runs/{{RUN_ID}}/tasks/{{TASK_ID}}?map_index={{MAP_INDEX}}"
    )
    assert views["dag"]["href"] == f"{PREFIX}/dags/{{DAG_ID}}"
    assert [app["url_prefix"] for app in plugin["fastapi_apps"]] == [PREFIX]


def test_a_finished_benchmark_task_shows_its_steps_results_and_gate(ui_runs: UiRuns) -> None:
    run = ui_runs.scheduled_runs[0]

    view = get_json(ui_runs, task_url(run, "evaluate"))

    assert view["has_evaluation"] is True
    assert view["source"] == "xcom"
    assert view["status"] == "Succeeded"
    assert view["eval_type"] == "benchmark"
    assert [step["name"] for step in view["steps"]] == [
        "CreateEvaluationAction",
        "EvaluateBaseModel",
        "EvaluateCustomModel",
        "AssociateLineage",
    ]
    assert all(step["status"] == "Succeeded" and step["duration_seconds"] >= 0 for step in view["steps"])
    metrics = view["results"]["metrics"]
    assert set(metrics) == {"custom", "base"}
    assert set(view["results"]["deltas"]) == {"acc", "acc_norm", "exact_match"}
    assert view["gate_report"]["task_id"] == "quality_gate"
    assert view["gate_report"]["execution_arn"] == view["execution_arn"]
    assert view["links"][0]["url"].startswith("https://us-east-1.console.aws.amazon.com/sagemaker/")
    assert view["examples"] == []  # a benchmark has no per-example judge records


def test_the_gate_task_shows_the_evaluation_it_judged(ui_runs: UiRuns) -> None:
    run = ui_runs.scheduled_runs[0]
    evaluation = get_json(ui_runs, task_url(run, "evaluate"))

    gate = get_json(ui_runs, task_url(run, "quality_gate"))

    assert gate["execution_arn"] == evaluation["execution_arn"]
    assert gate["gate_report"]["passed"] is True
    assert gate["results"] == evaluation["results"]
    # The gate recorded no steps: they are read live, through the gate's connection.
    assert gate["source"] == "live"
    assert [step["name"] for step in gate["steps"]] == [step["name"] for step in evaluation["steps"]]


def test_judge_tasks_show_win_rates_and_the_first_records_with_explanations(ui_runs: UiRuns) -> None:
    run = ui_runs.judge_run

    view = get_json(ui_runs, task_url(run, "wait", query="?examples=3"))

    assert view["eval_type"] == "llmasjudge"
    assert view["status"] == "Succeeded"
    rates = view["results"]["win_rates"]
    assert rates["pairs"] == 10
    assert rates["custom_wins"] + rates["base_wins"] + rates["ties"] == 10
    assert [example["index"] for example in view["examples"]] == [0, 1, 2]
    first = view["examples"][0]
    assert first["prompt"] == "Question 1: what is 0 + 1?"
    assert first["custom"]["response"] == "The answer to question 1 is 1."
    for role in ("custom", "base"):
        scores = first[role]["scores"]
        # The example DAG's built-in metrics (``builtin_metrics``).
        assert {score["metric"] for score in scores} == {"Builtin.Correctness", "Builtin.Helpfulness"}
        assert all(score["explanation"].startswith("The response to question 1 rates") for score in scores)


def test_records_are_bounded(ui_runs: UiRuns) -> None:
    response = ui_runs.client.get(
        task_url(ui_runs.judge_run, "wait", query="?examples=1000"), headers=ui_runs.token("viewer")
    )
    assert response.status_code == 422


def test_a_task_that_returned_before_the_execution_ended_shows_live_status(ui_runs: UiRuns) -> None:
    view = get_json(ui_runs, task_url(ui_runs.running_judge_run, "start"))

    assert view["source"] == "live"
    assert view["status"] == "Executing"
    assert view["results"] is None
    # Steps not yet started are not listed; those listed are still running.
    assert view["steps"], "a running execution has a running step"
    assert all(
        step["status"] in {"Starting", "Executing"} and step["end_time"] is None for step in view["steps"]
    )
    page = ui_runs.client.get(
        task_url(ui_runs.running_judge_run, "start", page=True), headers=ui_runs.token("viewer")
    )
    assert '<meta http-equiv="refresh"' in page.text
    assert 'id="no-results"' in page.text


def test_a_task_that_never_started_an_execution_shows_an_empty_state(ui_runs: UiRuns) -> None:
    run = ui_runs.scheduled_runs[0]

    view = get_json(ui_runs, task_url(run, "promote_model"))

    assert view["has_evaluation"] is False
    assert view["execution_arn"] is None
    assert view["empty_reason"].startswith(
        "This task instance never started or watched a SageMaker evaluation"
    )
    page = ui_runs.client.get(task_url(run, "promote_model", page=True), headers=ui_runs.token("viewer"))
    assert page.status_code == 200
    assert 'id="empty-state"' in page.text
    assert "<svg" not in page.text


def test_an_unknown_task_instance_is_not_found(ui_runs: UiRuns) -> None:
    run = ui_runs.scheduled_runs[0]
    response = ui_runs.client.get(task_url(run, "no_such_task"), headers=ui_runs.token("viewer"))
    assert response.status_code == 404


@pytest.mark.parametrize("page", [False, True], ids=["json", "html"])
def test_a_user_who_may_not_read_the_dag_is_refused(ui_runs: UiRuns, page: bool) -> None:
    run = ui_runs.scheduled_runs[0]
    judge_reader = ui_runs.token("reader-of-example_sm_eval_llm_as_judge")
    dag_reader = ui_runs.token(f"reader-of-{SCHEDULED_DAG}")

    assert ui_runs.client.get(task_url(run, "evaluate", page=page), headers=judge_reader).status_code == 403
    assert ui_runs.client.get(task_url(run, "evaluate", page=page), headers=dag_reader).status_code == 200
    history = f"{PREFIX}/dags/{SCHEDULED_DAG}" if page else f"{PREFIX}/api/dags/{SCHEDULED_DAG}/evaluations"
    assert ui_runs.client.get(history, headers=judge_reader).status_code == 403
    assert ui_runs.client.get(history, headers=dag_reader).status_code == 200
    assert ui_runs.client.get(history).status_code == 401  # no credentials at all


def test_the_dag_history_has_a_point_per_night_with_the_gate_outcome(ui_runs: UiRuns) -> None:
    history = get_json(ui_runs, f"{PREFIX}/api/dags/{SCHEDULED_DAG}/evaluations")

    assert history["task_ids"] == ["evaluate"]
    assert history["metrics"] == ["acc", "acc_norm", "exact_match"]
    rows = history["rows"]
    assert [row["run_id"] for row in rows] == [run.run_id for run in ui_runs.scheduled_runs]  # oldest first
    assert all(row["gate_task_id"] == "quality_gate" and row["gate_passed"] is not None for row in rows)
    assert rows[0]["gate_passed"] is True  # no baseline on the first night
    # The base model scores the same every night; the fine-tuned model's uplift differs per execution.
    assert len({row["base"]["acc"] for row in rows}) == 1
    assert len({row["custom"]["acc"] for row in rows}) == len(rows)
    assert all("acc_stderr" not in row["custom"] for row in rows)


def test_the_history_filters_by_task_and_metric(ui_runs: UiRuns) -> None:
    url = f"{PREFIX}/api/dags/{SCHEDULED_DAG}/evaluations"
    assert get_json(ui_runs, f"{url}?task_id=quality_gate")["rows"] == []
    chosen = get_json(ui_runs, f"{url}?task_id=evaluate&metric=acc")
    assert chosen["task_filter"] == "evaluate" and chosen["metric_filter"] == "acc"
    assert len(chosen["rows"]) == len(ui_runs.scheduled_runs)

    page = ui_runs.client.get(
        f"{PREFIX}/dags/{SCHEDULED_DAG}?metric=acc", headers=ui_runs.token("viewer")
    ).text
    assert page.count('class="history-line" data-metric="acc"') == 2  # custom and base
    assert 'data-metric="acc_norm"' not in page
    assert page.count('class="gate-mark"') == len(ui_runs.scheduled_runs)


def test_the_pages_draw_server_side_svg_and_load_nothing_from_elsewhere(ui_runs: UiRuns) -> None:
    run = ui_runs.judge_run
    pages = [
        ui_runs.client.get(task_url(run, "read_results", page=True), headers=ui_runs.token("viewer")).text,
        ui_runs.client.get(f"{PREFIX}/dags/{SCHEDULED_DAG}", headers=ui_runs.token("viewer")).text,
    ]
    task_page, dag_page = pages
    assert task_page.count('class="metric-bar"') == 4  # 2 judge metrics x 2 models
    assert 'class="win-rate" data-model="custom"' in task_page
    assert 'class="example"' in task_page
    assert dag_page.count('class="history-line"') == 6  # 3 metrics x 2 models
    for page in pages:
        assert "<script" not in page
        assert "http://" not in page and "src=" not in page
        assert "https://" not in page.replace('href="https://', "")


def test_no_credential_reaches_the_browser(ui_runs: UiRuns) -> None:
    from sagemaker_eval_emulator.server import ACCESS_KEY_ID, SECRET_ACCESS_KEY

    run = ui_runs.judge_run
    for task_id in ("start", "wait"):  # read live, and from XCom with the judge records
        text = ui_runs.client.get(task_url(run, task_id, page=True), headers=ui_runs.token("viewer")).text
        assert "Succeeded" in text
        assert SECRET_ACCESS_KEY not in text
        assert ACCESS_KEY_ID not in text
        assert ui_runs.emulator.endpoint_url not in text


def test_the_plugin_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__SM_EVAL__UI_PLUGIN_ENABLED", "False")
    try:
        disabled = importlib.reload(evaluation_ui).SageMakerEvaluationPlugin
        assert disabled.fastapi_apps == []
        assert disabled.external_views == []
    finally:
        monkeypatch.undo()
        importlib.reload(evaluation_ui)
    assert len(evaluation_ui.SageMakerEvaluationPlugin.external_views) == 2


def test_the_tab_names_the_task_of_the_run_that_started_the_execution(ui_runs: UiRuns) -> None:
    run = ui_runs.scheduled_runs[0]
    start = get_json(ui_runs, task_url(run, "evaluate"))
    gate = get_json(ui_runs, task_url(run, "quality_gate"))
    sensor = get_json(ui_runs, task_url(ui_runs.judge_run, "wait"))

    assert (start["ownership"], start["started_by_task_id"]) == ("this_task", "evaluate")
    assert (gate["ownership"], gate["started_by_task_id"]) == ("this_run", "evaluate")
    assert (sensor["ownership"], sensor["started_by_task_id"]) == ("this_run", "start")
    assert 'id="started-by"' in get_page(ui_runs, task_url(ui_runs.judge_run, "wait", page=True))


@pytest.mark.hostile("ui")
def test_a_task_whose_xcom_names_another_dags_execution_shows_none_of_it(ui_runs: UiRuns) -> None:
    """A user limited to DAG A points a task of A at an execution of DAG B: A's tab reads nothing of it."""
    judge = get_json(ui_runs, task_url(ui_runs.judge_run, "start"), user="admin")
    assert judge["examples"], "B's tab shows its judge records to those who may read B"
    run = ui_runs.scheduled_runs[1]

    with tampered_xcom(
        ui_runs, run, "quality_gate", "execution_arn", judge["execution_arn"], user=SCHEDULED_READER
    ):
        view = get_json(ui_runs, task_url(run, "quality_gate", query="?examples=5"), user=SCHEDULED_READER)
        page = get_page(ui_runs, task_url(run, "quality_gate", page=True), user=SCHEDULED_READER)

    # No live status, steps, records or links of B's execution.
    first = judge["examples"][0]
    for text in (first["prompt"], first["custom"]["response"], first["custom"]["scores"][0]["explanation"]):
        assert text not in page
    assert 'id="timeline"' not in page and 'class="example"' not in page
    assert view["source"] == "xcom"
    assert (view["status"], view["steps"], view["results"]) == (None, [], None)
    assert (view["examples"], view["links"]) == ([], [])
    assert view["eval_type"] == "benchmark"  # what A's gate recorded, not B's type
    # The tab says why.
    assert view["execution_arn"] == judge["execution_arn"]
    assert view["ownership"] == "foreign"
    assert "not started by a task of this DAG run" in view["ownership_note"]
    assert 'id="foreign-execution"' in page
    # B's own tab still refuses that user.
    for page_route in (False, True):
        url = task_url(ui_runs.judge_run, "start", page=page_route)
        assert ui_runs.client.get(url, headers=ui_runs.token(SCHEDULED_READER)).status_code == 403


@pytest.mark.hostile("ui")
def test_a_start_task_whose_xcom_names_another_runs_execution_shows_none_of_it(ui_runs: UiRuns) -> None:
    first, second = ui_runs.scheduled_runs
    other_night = get_json(ui_runs, task_url(first, "evaluate"))["execution_arn"]

    with tampered_xcom(ui_runs, second, "evaluate", "execution_arn", other_night, user=SCHEDULED_READER):
        view = get_json(ui_runs, task_url(second, "evaluate"), user=SCHEDULED_READER)

    assert view["execution_arn"] == other_night
    assert view["links"] == []
    assert all(step["log_url"] is None for step in view["steps"])
    assert view["ownership"] == "foreign"


@pytest.mark.hostile("ui")
def test_links_are_built_from_validated_arns_only(ui_runs: UiRuns) -> None:
    run = ui_runs.scheduled_runs[0]
    before = recorded_xcoms(run, "evaluate")
    bad_job = "arn:aws:sagemaker:evil.example/x#:123456789012:training-job/judge-job"
    steps = [{**step, "job_arn": bad_job} for step in before["steps"]]
    returned = {**before["return_value"], "console_url": "javascript:alert(document.domain)", "steps": steps}

    with (
        tampered_xcom(ui_runs, run, "evaluate", "return_value", returned, user=SCHEDULED_READER),
        tampered_xcom(ui_runs, run, "evaluate", "steps", steps, user=SCHEDULED_READER),
    ):
        view = get_json(ui_runs, task_url(run, "evaluate"), user=SCHEDULED_READER)
        page = get_page(ui_runs, task_url(run, "evaluate", page=True), user=SCHEDULED_READER)

    assert "javascript:" not in page and "evil.example" not in page
    assert view["links"][0]["url"].startswith("https://us-east-1.console.aws.amazon.com/sagemaker/")
    for link in view["links"]:
        parts = urlsplit(link["url"])
        assert parts.scheme == "https" and str(parts.hostname).endswith(CONSOLE_HOSTS), link
    assert [step["job_arn"] for step in view["steps"]] == [bad_job] * len(steps)
    assert all(step["log_url"] is None for step in view["steps"])
    assert view["ownership"] == "this_task"  # links are drawn for an execution of this run only


@pytest.mark.hostile("ui")
def test_every_response_forbids_scripts_foreign_framing_and_sniffing(ui_runs: UiRuns) -> None:
    run = ui_runs.scheduled_runs[0]
    viewer, judge_reader = ui_runs.token("viewer"), ui_runs.token(JUDGE_READER)
    responses = {
        "task page": ui_runs.client.get(task_url(run, "evaluate", page=True), headers=viewer),
        "task json": ui_runs.client.get(task_url(run, "evaluate"), headers=viewer),
        "dag page": ui_runs.client.get(f"{PREFIX}/dags/{SCHEDULED_DAG}", headers=viewer),
        "dag json": ui_runs.client.get(f"{PREFIX}/api/dags/{SCHEDULED_DAG}/evaluations", headers=viewer),
        "refused": ui_runs.client.get(task_url(run, "evaluate", page=True), headers=judge_reader),
        "no credentials": ui_runs.client.get(task_url(run, "evaluate", page=True)),
        "not found": ui_runs.client.get(task_url(run, "no_such_task", page=True), headers=viewer),
        "malformed": ui_runs.client.get(task_url(run, "evaluate", query="?map_index=x"), headers=viewer),
        "stylesheet": ui_runs.client.get(f"{PREFIX}/static/evaluation.css"),
    }
    assert [r.status_code for r in responses.values()] == [200, 200, 200, 200, 403, 401, 404, 422, 200]
    for name, response in responses.items():
        policy = response.headers.get("content-security-policy", "")
        directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
        assert directives.get("frame-ancestors") == ["'self'"], name
        assert directives.get("default-src") == ["'none'"], name
        assert directives.get("style-src") == ["'self'"], name  # the app's stylesheet, no inline style
        assert "script-src" not in directives, name
        assert response.headers.get("x-content-type-options") == "nosniff", name


def test_the_pages_link_the_apps_stylesheet(ui_runs: UiRuns) -> None:
    page = get_page(ui_runs, f"{PREFIX}/dags/{SCHEDULED_DAG}")
    stylesheet = ui_runs.client.get(f"{PREFIX}/static/evaluation.css")

    assert f'<link rel="stylesheet" href="{PREFIX}/static/evaluation.css">' in page
    assert stylesheet.headers["content-type"].startswith("text/css")
    assert ".badge" in stylesheet.text


@pytest.mark.hostile("ui")
@pytest.mark.parametrize("path", ["..%2fapp.py", "%2e%2e/templates/task.html", "..%2f..%2f__init__.py"])
def test_the_static_route_serves_nothing_outside_its_folder(ui_runs: UiRuns, path: str) -> None:
    assert ui_runs.client.get(f"{PREFIX}/static/{path}").status_code == 404


@pytest.mark.hostile("ui")
def test_an_endpoint_url_with_credentials_is_never_echoed(
    ui_runs: UiRuns, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sagemaker_eval_emulator.server import ACCESS_KEY_ID, SECRET_ACCESS_KEY

    endpoint = "http://sm-eval-url-user:sm-eval-url-password@127.0.0.1:1"
    connection = {
        "conn_type": "aws",
        "login": ACCESS_KEY_ID,
        "password": SECRET_ACCESS_KEY,
        "extra": {"endpoint_url": endpoint, "region_name": "us-east-1"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps(connection))
    run = ui_runs.running_judge_run  # read live: the execution was still running when the task ended

    view = get_json(ui_runs, task_url(run, "start"))
    page = get_page(ui_runs, task_url(run, "start", page=True))

    for text in (json.dumps(view), page):
        for secret in ("sm-eval-url-password", "sm-eval-url-user", "127.0.0.1:1", SECRET_ACCESS_KEY):
            assert secret not in text
    assert view["live_error"].startswith("EndpointConnectionError")
    assert view["ownership"] == "unverified"
    assert 'id="unverified-execution"' in page


@pytest.mark.hostile("ui")
@pytest.mark.parametrize(
    "map_index", [str(2**70), str(2**31), "-2", "-" + "9" * 30, "1e3", "\u0663", "0x10", " 1", "9" * 5000]
)
def test_odd_map_indexes_are_refused(ui_runs: UiRuns, map_index: str) -> None:
    url = task_url(ui_runs.scheduled_runs[0], "evaluate", query=f"?map_index={quote(map_index)}")
    response = ui_runs.client.get(url, headers=ui_runs.token("viewer"))
    assert response.status_code == 422, response.text


@pytest.mark.hostile("ui")
@pytest.mark.parametrize(
    "part, value",
    [
        ("dag_id", "d" * 300),
        ("dag_id", "a\x00b"),
        ("task_id", "t" * 300),
        ("task_id", "a b"),
        ("task_id", "\u202eevaluate"),
        ("run_id", "r" * 5000),
        ("run_id", "a\nb"),
    ],
)
def test_odd_ids_in_the_path_are_refused(ui_runs: UiRuns, part: str, value: str) -> None:
    run = ui_runs.scheduled_runs[0]
    ids = {"dag_id": run.dag_id, "run_id": run.run_id, "task_id": "evaluate", part: value}
    dag_id, run_id, task_id = (quote(ids[name], safe="") for name in ("dag_id", "run_id", "task_id"))
    path = f"/dags/{dag_id}/runs/{run_id}/tasks/{task_id}"
    urls = [f"{PREFIX}{path}", f"{PREFIX}/api{path}/evaluation"]
    if part == "dag_id":
        urls += [
            f"{PREFIX}/dags/{quote(value, safe='')}",
            f"{PREFIX}/api/dags/{quote(value, safe='')}/evaluations",
        ]
    for url in urls:
        # 422 from the plugin; a few never reach it (no route matches a newline): 404.
        assert ui_runs.client.get(url, headers=ui_runs.token("viewer")).status_code in (404, 422), url


@pytest.mark.hostile("ui")
def test_a_unicode_dag_id_is_just_not_found(ui_runs: UiRuns) -> None:
    url = f"{PREFIX}/api/dags/{quote('évaluation_ünïcode', safe='')}/runs/r/tasks/t/evaluation"
    assert ui_runs.client.get(url, headers=ui_runs.token("viewer")).status_code == 404


@pytest.mark.hostile("ui")
def test_odd_xcom_values_never_break_the_tabs(ui_runs: UiRuns) -> None:
    run = ui_runs.scheduled_runs[1]
    before = recorded_xcoms(run, "evaluate")
    steps = ["not a step", 7, {"name": 5, "display_name": 7, "failure_reason": ["x"], "job_arn": {"a": 1}}]
    returned = {**before["return_value"], "failure_reason": {"nested": 1}, "status": 3, "steps": steps}
    gate = {**recorded_xcoms(run, "quality_gate")["gate_report"], "execution_arn": ["x"], "violations": 3}

    with (
        tampered_xcom(ui_runs, run, "evaluate", "return_value", returned, user=SCHEDULED_READER),
        tampered_xcom(ui_runs, run, "evaluate", "steps", steps, user=SCHEDULED_READER),
        tampered_xcom(ui_runs, run, "quality_gate", "gate_report", gate, user=SCHEDULED_READER),
    ):
        view = get_json(ui_runs, task_url(run, "evaluate"), user=SCHEDULED_READER)
        get_page(ui_runs, task_url(run, "evaluate", page=True), user=SCHEDULED_READER)
        get_json(ui_runs, task_url(run, "quality_gate"), user=SCHEDULED_READER)
        get_page(ui_runs, f"{PREFIX}/dags/{SCHEDULED_DAG}", user=SCHEDULED_READER)

    assert view["failure_reason"] is None
    assert [step["name"] for step in view["steps"]] == ["5"]
