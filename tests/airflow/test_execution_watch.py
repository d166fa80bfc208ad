"""The triggerer-wide pipeline watch: API calls shared by the waits of one pipeline, against the emulator."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from aiobotocore.session import get_session

from airflow_provider_sm_eval.evaluation.arns import parse_execution_arn
from airflow_provider_sm_eval.triggerer import watch as execution_watch
from airflow_provider_sm_eval.triggerer.runtime import RUNTIME
from airflow_provider_sm_eval.triggerer.watch import PipelineWatch
from airflow_provider_sm_eval.triggers.evaluation_execution import EvaluationExecutionTrigger
from sagemaker_eval_emulator import EvaluationEmulator
from sagemaker_eval_emulator.server import ACCESS_KEY_ID, SECRET_ACCESS_KEY
from tests.airflow.test_trigger import FAST, run_to_event, start

pytestmark = pytest.mark.timeout(90)


def sagemaker_calls(emulator: EvaluationEmulator, operation: str) -> int:
    return emulator.calls.count("sagemaker", operation)


def older_executions(older: int, newer: int) -> list[str]:
    """Start ``older`` executions, then ``newer`` ones on the same pipeline; the older ARNs."""
    arns = [start() for _ in range(older)]
    for _ in range(newer):
        start()
    return arns


async def test_waits_of_one_pipeline_share_the_listing_and_describe_once_at_the_end(
    emulator: EvaluationEmulator,
) -> None:
    emulator.step_seconds = 1.0  # several cycles before the end
    arns = [start() for _ in range(5)]
    emulator.calls.reset()

    payloads = await asyncio.gather(*(run_to_event(EvaluationExecutionTrigger(a, **FAST)) for a in arns))

    assert [p["execution_status"]["overall_status"] for p in payloads] == ["Succeeded"] * 5
    assert all(len(p["execution_status"]["step_details"]) >= 4 for p in payloads)
    assert sagemaker_calls(emulator, "ListPipelineExecutions") >= 1
    # One describe and one step listing per execution, at its end; the cycles are shared.
    assert sagemaker_calls(emulator, "DescribePipelineExecution") == 5
    assert sagemaker_calls(emulator, "ListPipelineExecutionSteps") == 5
    assert len(RUNTIME.watches) == 0


async def test_duplicate_waits_on_one_execution_are_merged(emulator: EvaluationEmulator) -> None:
    emulator.step_seconds = 0.3
    arn = start()
    emulator.calls.reset()

    payloads = await asyncio.gather(
        *(run_to_event(EvaluationExecutionTrigger(arn, **FAST)) for _ in range(3))
    )

    assert {p["execution_status"]["overall_status"] for p in payloads} == {"Succeeded"}
    assert sagemaker_calls(emulator, "DescribePipelineExecution") == 1


async def test_executions_beyond_the_first_page_are_found_on_the_next_pages(
    emulator: EvaluationEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(execution_watch, "LIST_EXECUTIONS_PAGE_SIZE", 1)
    emulator.step_seconds = 0.5
    (older,) = older_executions(1, 1)  # the newer one fills the one-summary first page
    emulator.calls.reset()

    payload = await run_to_event(EvaluationExecutionTrigger(older, **FAST))

    assert payload["execution_status"]["overall_status"] == "Succeeded"
    assert sagemaker_calls(emulator, "ListPipelineExecutions") >= 2
    assert sagemaker_calls(emulator, "DescribePipelineExecution") == 1, "described only at its end"


async def test_waits_on_older_executions_are_listed_from_their_start_not_described_each_cycle(
    emulator: EvaluationEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pages of two: three open waits allow three pages, and the three executions waited on are
    # the oldest of eight (as with 1,000 mapped evaluations on two triggerers, each holding every
    # other one). Described once to learn their start, they are then listed each cycle from the
    # oldest one's start on (four pages), not described each cycle until they end.
    monkeypatch.setattr(execution_watch, "LIST_EXECUTIONS_PAGE_SIZE", 2)
    emulator.step_seconds = 60  # no end until the stops below
    older = older_executions(3, 5)
    emulator.calls.reset()
    waits = asyncio.gather(*(run_to_event(EvaluationExecutionTrigger(a, **FAST)) for a in older))
    while sum(w.list_calls for w in RUNTIME.watches.values()) < 60:  # noqa: ASYNC110
        await asyncio.sleep(0.01)  # 15 cycles or more of 0.02 s with the three waits open

    # The three end together: stopped and past their stopping phase while the loop is held, so
    # that no cycle sees some of them ended (one wait left alone on the fourth page is described
    # each cycle by design: a page more would cost what it spares).
    emulator.step_seconds = 0.05
    for arn in older:
        emulator.client("sagemaker").stop_pipeline_execution(PipelineExecutionArn=arn)
    time.sleep(0.2)  # noqa: ASYNC251
    payloads = await waits

    assert {p["execution_status"]["overall_status"] for p in payloads} == {"Stopped"}
    # Once at the end, and once or twice to learn the start while the waits join the watch (the
    # old watch: once every cycle, 45 times or more for these three).
    assert sagemaker_calls(emulator, "DescribePipelineExecution") <= 3 * len(older)


async def test_a_wait_far_behind_the_newest_executions_is_described_not_listed_up_to(
    emulator: EvaluationEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pages of one, and the execution waited on is the oldest of eight (a days-old evaluation on
    # a busy pipeline): reading down to it would cost seven pages a cycle to spare one describe.
    monkeypatch.setattr(execution_watch, "LIST_EXECUTIONS_PAGE_SIZE", 1)
    emulator.step_seconds = 0.5
    (oldest,) = older_executions(1, 7)
    emulator.calls.reset()

    payload = await run_to_event(EvaluationExecutionTrigger(oldest, **FAST))

    assert payload["execution_status"]["overall_status"] == "Succeeded"
    cycles = sagemaker_calls(emulator, "DescribePipelineExecution")  # described each cycle
    # Two pages for one wait, one more while its known start is missing: three a cycle at most.
    assert sagemaker_calls(emulator, "ListPipelineExecutions") <= 3 * cycles


async def test_without_permission_to_list_the_waits_poll_alone(
    emulator: EvaluationEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    emulator.step_seconds = 0.2
    arn = start()
    emulator.faults.fail_call("ListPipelineExecutions", "AccessDeniedException", "not allowed", times=None)

    payload = await run_to_event(EvaluationExecutionTrigger(arn, **FAST))

    assert payload["status"] == "success"
    assert payload["execution_status"]["overall_status"] == "Succeeded"
    assert "polling" in caplog.text and "alone" in caplog.text


async def test_a_cancelled_wait_leaves_the_others_running(emulator: EvaluationEmulator) -> None:
    emulator.step_seconds = 1.0
    arns = [start(), start()]
    waits = [asyncio.ensure_future(run_to_event(EvaluationExecutionTrigger(a, **FAST))) for a in arns]
    while not any(arns[0] in w.waits for w in RUNTIME.watches.values()):  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    waits[0].cancel()

    payload: dict[str, Any] = await waits[1]

    assert payload["execution_status"]["overall_status"] == "Succeeded"
    with pytest.raises(asyncio.CancelledError):
        await waits[0]
    assert len(RUNTIME.watches) == 0


class InFlightDescribes:
    """A SageMaker client that counts the DescribePipelineExecution calls under way at once."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.in_flight = 0
        self.most = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    async def describe_pipeline_execution(self, **arguments: Any) -> Any:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            return await self._client.describe_pipeline_execution(**arguments)
        finally:
            self.in_flight -= 1


async def test_the_ends_one_listing_notices_are_described_at_once(emulator: EvaluationEmulator) -> None:
    # Six executions end between two listings; each describe takes 0.3 s (a loaded SageMaker):
    # one after the other, the last end would be told 1.8 s after the first.
    emulator.step_seconds = 60
    arns = [start() for _ in range(6)]
    async with get_session().create_client(
        "sagemaker",
        region_name="us-east-1",
        endpoint_url=emulator.endpoint_url,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
    ) as sagemaker:
        client = InFlightDescribes(sagemaker)
        watch = PipelineWatch(client, parse_execution_arn(arns[0]).pipeline_arn)
        waits = asyncio.gather(*(watch.wait(arn, 0.05) for arn in arns))
        while watch.list_calls < 2:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        emulator.step_seconds = 0.05
        for arn in arns:  # stopped and past their stopping phase while the loop is held: one cycle sees all
            emulator.client("sagemaker").stop_pipeline_execution(PipelineExecutionArn=arn)
        time.sleep(0.2)  # noqa: ASYNC251
        emulator.faults.delay(0.3, ["DescribePipelineExecution"])

        ended = await waits

    assert {status.overall_status.value for status in ended} == {"Stopped"}
    assert client.most == len(arns)


@pytest.mark.parametrize(
    ("poll_intervals", "pages", "seconds"),
    [
        ([30.0], 1, 30.0),  # one wait: its own interval
        ([30.0, 30.0], 1, 15.0),  # two waits share two listings per interval: no more than two describes
        ([30.0] * 80, 1, 10.0),  # many on one page: three listings per interval at most
        ([30.0] * 80, 2, 30.0),  # listings of two pages or more: once per interval
        ([30.0] * 500, 6, 30.0),
        ([60.0, 12.0, 30.0], 1, 5.0),  # the most demanding wait's, split, never under 5 s
        ([3.0, 30.0], 1, 3.0),  # never over the most demanding wait's interval
    ],
)
def test_waits_sharing_a_one_page_listing_are_listed_more_often_than_each_alone(
    poll_intervals: list[float], pages: int, seconds: float
) -> None:
    assert execution_watch.listing_interval(poll_intervals, pages) == seconds
