"""The Airflow UI in a real headless Chromium: the task instance page's extra links and its log.

Takes screenshots of the task instance page of an example evaluation (extra links in its header,
log with the step table). With ``SM_EVAL_WRITE_SCREENSHOTS=1`` they are written to
``docs/screenshots/`` (the README shows them); otherwise to the test's temporary folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devstack import AirflowStack
from devstack.airflow_stack import REPO
from devstack.browser import logged_in_page
from tests.stack.stack_support import run_to_end

pytestmark = pytest.mark.stack

DAG_ID = "example_sm_eval_benchmark"
DOCS = REPO / "docs" / "screenshots"


def test_task_instance_page_shows_extra_links_and_the_step_table(
    airflow_stack: AirflowStack, tmp_path: Path
) -> None:
    folder = DOCS if os.environ.get("SM_EVAL_WRITE_SCREENSHOTS") else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    run_id = airflow_stack.api.trigger(DAG_ID, run_id="screenshot-benchmark")
    run_to_end(airflow_stack, DAG_ID, run_id)

    page_url = f"{airflow_stack.base_url}/dags/{DAG_ID}/runs/{run_id}/tasks/evaluate"
    with logged_in_page(airflow_stack, 1600, 1000) as page:
        page.goto(page_url)
        page.get_by_text("Evaluation execution").first.wait_for(timeout=60_000)
        page.get_by_text("EvaluateCustomModel").first.wait_for(timeout=60_000)
        page.wait_for_timeout(1500)  # let the log panel finish rendering
        page.screenshot(path=str(folder / "task-instance-log.png"))
        page.get_by_text("Evaluation results").first.scroll_into_view_if_needed()
        links = page.screenshot(path=str(folder / "task-instance-links.png"), full_page=False)
    assert len(links) > 10_000
    assert (folder / "task-instance-log.png").stat().st_size > 10_000
