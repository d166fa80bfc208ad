"""The evaluation tabs in the Airflow UI of the local stack, in headless Chromium (Debian's package).

The example DAGs run on the stack against the emulator: the scheduled gate DAG for several
nights (each night's evaluation scores the fine-tuned model differently, and the gate compares
it with the model promoted before), the LLM-as-judge DAG once, watched while its sensor is
deferred. The tests open the tabs as a user does (the UI's own routes, the plugin's page in the
tab's iframe) and check what is drawn; Airflow's own task instance page of a night's deferred
evaluation shows its extra links and, in its log, the step table. Screenshots go to the test's
temporary folder, or with
``SM_EVAL_WRITE_SCREENSHOTS=1`` to ``docs/screenshots/`` (the README shows them).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from devstack import AirflowStack
from devstack.airflow_stack import REPO
from devstack.browser import logged_in_page
from example_dags.run_demo import DEMO_BUCKET, DEMO_DATASET_KEY, DEMO_PROMPTS
from tests.stack.stack_support import emulator_step_seconds, run_to_end, unique_name, wait_for_deferred

#: The stack starts with the first test that asks for it (minutes on a loaded machine).
pytestmark = [pytest.mark.stack, pytest.mark.browser, pytest.mark.timeout(900)]

SHOTS = REPO / "docs" / "screenshots"
SCHEDULED_DAG = "example_sm_eval_scheduled_gate"
JUDGE_DAG = "example_sm_eval_llm_as_judge"
NIGHTS = ("2026-11-24", "2026-11-25", "2026-11-26")
TASK_TAB, DAG_TAB = "plugin/sm-eval-evaluation", "plugin/sm-eval-evaluations"
#: Tall enough for a whole tab in one screenshot.
SCREEN = {"width": 1440, "height": 1700}


@pytest.fixture(scope="module")
def nights(airflow_stack: AirflowStack) -> list[str]:
    """Runs of the scheduled gate DAG for several nights (queued here; they run one after the other)."""
    airflow_stack.wait_for_dags([SCHEDULED_DAG, JUDGE_DAG])
    tag = unique_name("ui")
    return [
        airflow_stack.api.post(
            f"/dags/{SCHEDULED_DAG}/dagRuns",
            {"dag_run_id": f"{tag}__{night}", "logical_date": f"{night}T02:00:00Z", "conf": {}},
        )["dag_run_id"]
        for night in NIGHTS
    ]


@pytest.fixture(scope="module")
def judge_dataset(airflow_stack: AirflowStack) -> None:
    """The LLM-as-judge DAG's dataset in the stack's emulator: its start checks the object exists."""
    s3 = airflow_stack.emulator_client("s3")
    s3.put_object(Bucket=DEMO_BUCKET, Key=DEMO_DATASET_KEY, Body=DEMO_PROMPTS)


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where the screenshots go."""
    folder = SHOTS if os.environ.get("SM_EVAL_WRITE_SCREENSHOTS") else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def page(airflow_stack: AirflowStack) -> Iterator[Any]:
    with logged_in_page(airflow_stack, SCREEN["width"], SCREEN["height"]) as page:
        yield page


def finished_nights(stack: AirflowStack, nights: list[str]) -> list[str]:
    """Wait for every night's run; the nights that succeeded (at least two).

    On a loaded machine Airflow 3.3's LocalExecutor now and then fails a deferred task whose
    trigger fires before the scheduler saw it defer (see tests/stack): such a night has no
    evaluation to draw, the others must.
    """
    states = stack.api.wait_for_runs(SCHEDULED_DAG, nights)
    succeeded = [run_id for run_id in nights if states[run_id] == "success"]
    assert len(succeeded) >= 2, states
    return succeeded


def open_tab(page: Any, url: str, title: str) -> Any:
    """Open a UI page and return the frame of its plugin tab (``title``: the external view's name)."""
    page.goto(url)
    frame = page.frame_locator(f'iframe[title="{title}"]')
    frame.locator("body h1, body .empty").first.wait_for(timeout=60_000)
    return frame


def test_the_task_tab_shows_live_status_while_the_sensor_is_deferred_then_the_results(
    airflow_stack: AirflowStack, nights: list[str], judge_dataset: None, page: Any, shots: Path
) -> None:
    base = airflow_stack.base_url
    with emulator_step_seconds(airflow_stack, 20):  # the sensor defers long before the execution ends
        run_id = airflow_stack.api.trigger(JUDGE_DAG, run_id=unique_name("ui-judge"))
        wait_for_deferred(airflow_stack, JUDGE_DAG, run_id, "wait")

        frame = open_tab(page, f"{base}/dags/{JUDGE_DAG}/runs/{run_id}/tasks/wait/{TASK_TAB}", "Evaluation")

        assert "live status from SageMaker" in frame.locator("body").inner_text()
        assert frame.locator(".badge.status").first.get_attribute("data-status") == "Executing"
        assert frame.locator("svg.timeline rect.step-bar").count() >= 1
        assert frame.locator("#no-results").is_visible()
        page.screenshot(path=shots / "ui-task-tab-deferred.png")
    run_to_end(airflow_stack, JUDGE_DAG, run_id)
    page.set_viewport_size({"width": SCREEN["width"], "height": 2350})  # down to the judge records

    frame = open_tab(
        page, f"{base}/dags/{JUDGE_DAG}/runs/{run_id}/tasks/read_results/{TASK_TAB}", "Evaluation"
    )

    assert frame.locator(".badge.status").first.get_attribute("data-status") == "Succeeded"
    assert frame.locator("svg.metrics rect.metric-bar").count() == 4  # 2 judge metrics x 2 models
    assert frame.locator('svg.win-rates rect.win-rate[data-model="custom"]').count() == 1
    assert frame.locator("#examples .example").count() == 5
    assert "The response to question 1 rates" in frame.locator("#examples").inner_text()
    assert frame.locator("#gate-outcome").get_attribute("data-gate") == "passed"
    page.screenshot(path=shots / "ui-task-tab-llm-as-judge.png")


def test_the_task_tab_of_a_nightly_benchmark(
    airflow_stack: AirflowStack, nights: list[str], page: Any, shots: Path
) -> None:
    succeeded = finished_nights(airflow_stack, nights)
    base = airflow_stack.base_url

    frame = open_tab(
        page, f"{base}/dags/{SCHEDULED_DAG}/runs/{succeeded[-1]}/tasks/evaluate/{TASK_TAB}", "Evaluation"
    )

    bars = frame.locator("svg.timeline rect.step-bar")
    assert [bars.nth(i).get_attribute("data-status") for i in range(bars.count())] == ["Succeeded"] * 4
    assert frame.locator("svg.metrics rect.metric-bar").count() == 6  # acc, acc_norm, exact_match x 2 models
    assert frame.locator("svg.metrics text.delta").count() == 3
    assert frame.locator("#gate-outcome").count() == 1
    assert frame.locator("#links a").first.get_attribute("href").startswith("https://us-east-1.console.aws")
    page.screenshot(path=shots / "ui-task-tab.png")

    empty = open_tab(
        page, f"{base}/dags/{SCHEDULED_DAG}/runs/{nights[0]}/tasks/promote_model/{TASK_TAB}", "Evaluation"
    )
    assert empty.locator("#empty-state").is_visible()


def test_the_dag_tab_draws_the_history_of_the_nights(
    airflow_stack: AirflowStack, nights: list[str], page: Any, shots: Path
) -> None:
    succeeded = finished_nights(airflow_stack, nights)
    url = f"{airflow_stack.base_url}/dags/{SCHEDULED_DAG}/{DAG_TAB}"

    frame = open_tab(page, url, "Evaluations")

    lines = frame.locator("svg.history polyline.history-line")
    assert lines.count() == 6  # 3 metrics x (custom, base)
    assert all(int(lines.nth(i).get_attribute("data-points")) >= len(succeeded) for i in range(6))
    assert frame.locator("svg.history circle.gate-mark").count() >= len(succeeded)
    rows = frame.locator("table.history tbody tr")
    assert {rows.nth(i).get_attribute("data-run") for i in range(rows.count())} >= set(succeeded)
    page.screenshot(path=shots / "ui-dag-tab.png")

    frame.locator('select[name="metric"]').select_option("acc")
    frame.locator('form.filters button[type="submit"]').click()
    frame.locator('select[name="metric"] option[value="acc"][selected]').wait_for(state="attached")

    assert frame.locator("svg.history polyline.history-line").count() == 2
    assert frame.locator('svg.history polyline[data-metric="acc_norm"]').count() == 0


def test_the_task_instance_page_shows_the_extra_links_and_the_log_the_step_table(
    airflow_stack: AirflowStack, nights: list[str], page: Any, shots: Path
) -> None:
    run_id = finished_nights(airflow_stack, nights)[-1]
    value = airflow_stack.api.xcom(SCHEDULED_DAG, run_id, "evaluate")  # a deferred start's
    task_url = f"{airflow_stack.base_url}/dags/{SCHEDULED_DAG}/runs/{run_id}/tasks/evaluate"
    # Airflow's own pages (no plugin), wide enough for the step table's columns beside the grid.
    page.set_viewport_size({"width": 1600, "height": 760})

    page.goto(f"{task_url}/details")
    execution_link = page.get_by_role("link", name="Evaluation execution", exact=True)
    execution_link.wait_for(timeout=60_000)

    execution_href = unquote(execution_link.get_attribute("href") or "")
    assert execution_href.startswith("https://us-east-1.console.aws.amazon.com/sagemaker/"), execution_href
    assert f"/executions/{value['execution_arn'].rsplit('/', 1)[1]}" in execution_href
    assert execution_href == unquote(value["console_url"])
    results_link = page.get_by_role("link", name="Evaluation results (S3)", exact=True)
    results_href = unquote(results_link.get_attribute("href") or "")
    assert results_href.startswith("https://console.aws.amazon.com/s3/buckets/sm-eval-example?"), results_href
    page.screenshot(path=shots / "ui-task-instance-extra-links.png")

    page.set_viewport_size({"width": 1600, "height": 1000})
    page.goto(task_url)  # the task instance page opens on its log
    table = page.get_by_test_id(re.compile(r"^virtualized-item-")).filter(has_text="ended Succeeded")
    table.wait_for(timeout=60_000)
    table.scroll_into_view_if_needed()

    lines = table.inner_text().splitlines()
    header = next(index for index, line in enumerate(lines) if line.startswith("Step "))
    columns = ["Step", "Status", "Started (UTC)", "Ended (UTC)", "Job", "Failure reason"]
    assert re.split(r"\s{2,}", lines[header].strip()) == columns
    rows = {line.split()[0]: line.split()[1] for line in lines[header + 2 :] if line.strip()}
    assert rows == {step["name"]: "Succeeded" for step in value["steps"]}, lines
    page.screenshot(path=shots / "ui-task-log-step-table.png")
