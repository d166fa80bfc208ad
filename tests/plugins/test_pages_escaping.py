"""Text a task, an XCom or a judge wrote is shown as text on both pages, in the HTML and in the SVG charts.

The pages are rendered from view models (what ``data`` reads from XComs and SageMaker) and
parsed as a browser would: every hostile value must come back as the text it was, and no
element, attribute or script may come from it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from typing import Any

import pytest

from airflow_provider_sm_eval.evaluation.results.summary import EvaluationSummary
from airflow_provider_sm_eval.plugins.pages import dag_page, task_page
from airflow_provider_sm_eval.plugins.view_models import (
    DagHistoryView,
    ExampleView,
    HistoryRow,
    JudgeAnswerView,
    JudgeScoreView,
    StepView,
    TaskEvaluationView,
)

#: Closes an attribute (either quote) and the element, opens a script and an element with a handler.
HOSTILE = "\"'><script>alert(1)</script><img src=x onerror='alert(2)'>"
ARN = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/sagemakerevaluation-llmajevaluation-1/execution/a"
T0 = datetime(2026, 11, 29, 2, tzinfo=timezone.utc)


@dataclass
class Parsed(HTMLParser):
    """The elements of a page (tag, attributes, whether inside an ``<svg>``) and its texts."""

    elements: list[tuple[str, dict[str, str | None], bool]] = field(default_factory=list)
    texts: list[tuple[str, bool]] = field(default_factory=list)
    depth_in_svg: int = 0

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "svg":
            self.depth_in_svg += 1
        self.elements.append((tag, dict(attrs), self.depth_in_svg > 0))

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self.depth_in_svg -= 1

    def handle_data(self, data: str) -> None:
        self.texts.append((data, self.depth_in_svg > 0))

    def shown(self, *, in_svg: bool) -> list[str]:
        """Texts and attribute values, in the SVG charts or in the HTML around them."""
        values = [v for _, attrs, svg in self.elements if svg == in_svg for v in attrs.values() if v]
        return values + [text for text, svg in self.texts if svg == in_svg]


def parse(page: str) -> Parsed:
    parsed = Parsed()
    parsed.feed(page)
    parsed.close()
    return parsed


def task_view(**fields: Any) -> TaskEvaluationView:
    values: dict[str, Any] = {
        "dag_id": "nightly",
        "run_id": "run",
        "task_id": "evaluate",
        "map_index": -1,
        "task_state": "success",
        "operator": "LLMAsJudgeEvaluationOperator",
        "as_of": T0 + timedelta(minutes=5),
        "has_evaluation": True,
        "execution_arn": ARN,
        "eval_type": "llmasjudge",
        "status": "Succeeded",
        "steps": [step()],
        "results": summary(),
    }
    return TaskEvaluationView(**{**values, **fields})


def step(**fields: Any) -> StepView:
    values = {"name": "EvaluateCustomModel", "status": "Failed", "start_time": T0, "end_time": T0}
    return StepView(**{**values, "failure_reason": "out of memory", **fields})


def summary(metric: str = "Builtin.Correctness") -> EvaluationSummary:
    return EvaluationSummary(
        eval_type="llmasjudge",
        execution_arn=ARN,
        metrics={"custom": {metric: 0.8}, "base": {metric: 0.6}},
        deltas={metric: 0.2},
    )


def example(prompt: str = "What is 1+1?", explanation: str = "right") -> ExampleView:
    score = JudgeScoreView(metric="Builtin.Correctness", result=1.0, explanation=explanation)
    answer = JudgeAnswerView(response="2", scores=[score])
    return ExampleView(index=0, prompt=prompt, custom=answer, base=None)


def history(task_id: str = "evaluate", metric: str = "acc", violation: str = "acc fell") -> DagHistoryView:
    row = HistoryRow(
        run_id="scheduled__night",
        run_after=T0,
        logical_date=T0,
        task_id=task_id,
        map_index=-1,
        execution_arn=ARN,
        eval_type="benchmark",
        status="Succeeded",
        custom={metric: 0.8},
        base={metric: 0.7},
        deltas={metric: 0.1},
        gate_task_id="gate",
        gate_passed=False,
        gate_violations=[violation],
    )
    return DagHistoryView(
        dag_id="nightly",
        task_ids=[task_id],
        metrics=[metric],
        task_filter=None,
        metric_filter=None,
        runs_read=1,
        rows=[row],
    )


#: A page with the hostile text in one place, and where it must show: in the SVG, the HTML, or both.
CASES: dict[str, tuple[Callable[[], str], tuple[bool, ...]]] = {
    "metric name": (lambda: task_page(task_view(results=summary(HOSTILE))), (True, False)),
    "step name": (lambda: task_page(task_view(steps=[step(name=HOSTILE)])), (True, False)),
    "step display name": (lambda: task_page(task_view(steps=[step(display_name=HOSTILE)])), (True,)),
    "step failure reason": (
        lambda: task_page(task_view(steps=[step(failure_reason=HOSTILE)])),
        (True, False),
    ),
    "execution failure reason": (lambda: task_page(task_view(failure_reason=HOSTILE)), (False,)),
    "judge prompt": (lambda: task_page(task_view(examples=[example(prompt=HOSTILE)])), (False,)),
    "judge explanation": (lambda: task_page(task_view(examples=[example(explanation=HOSTILE)])), (False,)),
    "gate check subject": (
        lambda: task_page(
            task_view(gate_report={"passed": False, "checks": [{"rule": "threshold", "subject": HOSTILE}]})
        ),
        (False,),
    ),
    "history metric": (lambda: dag_page(history(metric=HOSTILE)), (True, False)),
    "history task id": (lambda: dag_page(history(task_id=HOSTILE)), (False,)),
    "gate violation": (lambda: dag_page(history(violation=HOSTILE)), (False,)),
}


@pytest.mark.hostile("ui")
@pytest.mark.parametrize("case", list(CASES))
def test_hostile_text_is_shown_as_text_in_the_html_and_the_svg(case: str) -> None:
    render, shown_in = CASES[case]

    page = render()
    parsed = parse(page)

    for in_svg in shown_in:
        assert any(HOSTILE in value for value in parsed.shown(in_svg=in_svg)), (case, in_svg)
    assert HOSTILE not in page  # its quotes and brackets are escaped
    assert "<script" not in page and "<img" not in page
    assert not [tag for tag, _, _ in parsed.elements if tag in {"script", "img"}]
    assert not [name for _, attrs, _ in parsed.elements for name in attrs if name.startswith("on")]


@pytest.mark.parametrize("page", [task_page(task_view(examples=[example()])), dag_page(history())])
def test_the_pages_have_no_inline_style_only_the_apps_stylesheet(page: str) -> None:
    parsed = parse(page)

    assert not [tag for tag, attrs, _ in parsed.elements if "style" in attrs or tag == "style"]
    links = [attrs for tag, attrs, _ in parsed.elements if tag == "link"]
    assert links == [{"rel": "stylesheet", "href": "/sm-eval/static/evaluation.css"}]
