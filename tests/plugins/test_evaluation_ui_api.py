"""The UI plugin's endpoints in Airflow's own api-server app: data shapes, auth, empty states, pages."""

from __future__ import annotations

import importlib
from typing import Any
from urllib.parse import quote

import pytest
from conftest import SCHEDULED_DAG, UiRuns

from airflow_provider_sm_eval.plugins import evaluation_ui

PREFIX = evaluation_ui.URL_PREFIX


def task_url(run: Any, task_id: str, *, page: bool = False, query: str = "") -> str:
    path = f"/dags/{run.dag_id}/runs/{quote(run.run_id, safe='')}/tasks/{task_id}"
    return f"{PREFIX}{path}{query}" if page else f"{PREFIX}/api{path}/evaluation{query}"


def get_json(ui: UiRuns, url: str, user: str = "viewer") -> Any:
    response = ui.client.get(url, headers=ui.token(user))
    assert response.status_code == 200, response.text
    return response.json()


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
        assert {score["metric"] for score in scores} == {
            "Builtin.Correctness",
            "Builtin.Completeness",
            "Builtin.Helpfulness",
        }
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
    assert task_page.count('class="metric-bar"') == 6  # 3 judge metrics x 2 models
    assert 'class="win-rate" data-model="custom"' in task_page
    assert 'class="example"' in task_page
    assert dag_page.count('class="history-line"') == 6  # 3 metrics x 2 models
    for page in pages:
        assert "<script" not in page
        assert "http://" not in page and "src=" not in page
        assert "https://" not in page.replace('href="https://', "")


def test_no_credential_reaches_the_browser(ui_runs: UiRuns) -> None:
    from airflow_provider_sm_eval.emulator.server import ACCESS_KEY_ID, SECRET_ACCESS_KEY

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
