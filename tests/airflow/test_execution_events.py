"""Event-driven waits: the SQS consumer, two triggerers competing for one queue, the set-up."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import ExitStack
from typing import Any

import pytest
from aiobotocore.session import get_session

from airflow_provider_sm_eval.emulator import EvaluationEmulator
from airflow_provider_sm_eval.evaluation.constants import EvalType
from airflow_provider_sm_eval.evaluation.event_setup import (
    EXECUTION_STATUS_CHANGE,
    PIPELINE_ARN_NAME_PREFIX,
    ensure_event_queue,
    event_pattern,
    validate_queue_url,
)
from airflow_provider_sm_eval.evaluation.types.registry import kind_of
from airflow_provider_sm_eval.hooks import execution_events
from airflow_provider_sm_eval.hooks.execution_events import EventConsumer, parse_event
from airflow_provider_sm_eval.triggers.evaluation_events import EvaluationEndedTrigger
from airflow_provider_sm_eval.triggers.evaluation_execution import EVENT_TERMINAL, EvaluationExecutionTrigger
from tests.airflow.airflow_test_support import CONN_ID
from tests.airflow.test_trigger import run_to_event, start

pytestmark = pytest.mark.timeout(90)

ACCOUNT = "123456789012"
PIPELINE = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:pipeline/sagemakerevaluation-benchmarkevaluation-x"


def status_event(arn: str, status: str, detail_type: str = EXECUTION_STATUS_CHANGE) -> str:
    """An EventBridge event as the rule's SQS target receives it."""
    return json.dumps(
        {
            "version": "0",
            "id": "e",
            "detail-type": detail_type,
            "source": "aws.sagemaker",
            "account": ACCOUNT,
            "region": "us-east-1",
            "resources": [PIPELINE, arn],
            "detail": {
                "pipelineArn": PIPELINE,
                "pipelineExecutionArn": arn,
                "currentPipelineExecutionStatus": status,
                "previousPipelineExecutionStatus": "Executing",
            },
        }
    )


def execution(n: int) -> str:
    return f"{PIPELINE}/execution/exec{n}"


@pytest.fixture
async def sqs(emulator: EvaluationEmulator) -> AsyncIterator[Any]:
    async with get_session().create_client(
        "sqs",
        region_name="us-east-1",
        endpoint_url=emulator.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ) as client:
        yield client


@pytest.fixture
async def queue_url(sqs: Any) -> str:
    return str((await sqs.create_queue(QueueName="sm-eval-events-test"))["QueueUrl"])


async def visible_messages(sqs: Any, queue_url: str) -> int:
    attributes = await sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )
    return sum(int(v) for v in attributes["Attributes"].values())


async def test_two_triggerers_each_get_the_events_of_their_own_waits(
    sqs: Any, queue_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Whoever receives an event for a wait it does not hold releases it; the holder gets it.

    Each consumer runs its own receive loop, as in a triggerer.
    """
    caplog.set_level(logging.DEBUG, logger=execution_events.__name__)
    monkeypatch.setattr(execution_events, "RELEASE_SECONDS", 1)
    held = {"a": [execution(1), execution(2)], "b": [execution(3), execution(4)]}
    woken = {arn: asyncio.Event() for arns in held.values() for arn in arns}
    triggerers = {name: EventConsumer(sqs, queue_url) for name in held}
    with ExitStack() as routes:
        for name, arns in held.items():
            for arn in arns:
                routes.enter_context(triggerers[name].route(arn, woken[arn].set))
        for n in range(1, 5):
            await sqs.send_message(QueueUrl=queue_url, MessageBody=status_event(execution(n), "Succeeded"))
        try:
            await asyncio.wait_for(asyncio.gather(*(event.wait() for event in woken.values())), 60)
        except TimeoutError:
            late = [arn for arn, event in woken.items() if not event.is_set()]
            pytest.fail(f"not woken within 60 s: {late}; see the consumers' debug log")
        assert triggerers["a"].routed == 2
        assert triggerers["b"].routed == 2
        await until_no_messages(sqs, queue_url)


async def test_among_four_triggerers_the_one_holding_the_wait_gets_its_event(
    sqs: Any, queue_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Three consumers that do not hold the wait keep drawing the event; the holder still gets it soon.

    A visibility doubled at each lost draw let the holder wait up to a minute (a CI failure).
    """
    caplog.set_level(logging.DEBUG, logger=execution_events.__name__)
    monkeypatch.setattr(execution_events, "RELEASE_SECONDS", 1)
    consumers = [EventConsumer(sqs, queue_url) for _ in range(4)]
    woken = asyncio.Event()
    with ExitStack() as routes:
        for n, consumer in enumerate(consumers[1:], start=10):
            routes.enter_context(consumer.route(execution(n), lambda: None))
        routes.enter_context(consumers[0].route(execution(1), woken.set))
        await sqs.send_message(QueueUrl=queue_url, MessageBody=status_event(execution(1), "Succeeded"))
        await asyncio.wait_for(woken.wait(), 30)
    assert consumers[0].routed == 1


async def until_no_messages(sqs: Any, queue_url: str, timeout: float = 30) -> None:
    """Wait until the queue holds no message (a consumer deletes right after it wakes a wait)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (left := await visible_messages(sqs, queue_url)) != 0:
        assert asyncio.get_running_loop().time() < deadline, f"{left} messages still on the queue"
        await asyncio.sleep(0.2)


async def test_a_consumer_that_released_an_event_lets_the_others_receive_it_first(
    sqs: Any, queue_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its next receive waits past the release, else it takes the released event back every time."""
    monkeypatch.setattr(execution_events, "RELEASE_SECONDS", 1)
    receives: list[tuple[float, int]] = []
    three_receives = asyncio.Event()
    receive_message = sqs.receive_message

    async def recorded_receive(**kwargs: Any) -> Any:
        started = asyncio.get_running_loop().time()
        answer = await receive_message(**kwargs)
        receives.append((started, len(answer.get("Messages", []))))
        if len(receives) >= 3:
            three_receives.set()
        return answer

    monkeypatch.setattr(sqs, "receive_message", recorded_receive)
    consumer = EventConsumer(sqs, queue_url)
    await sqs.send_message(QueueUrl=queue_url, MessageBody=status_event(execution(3), "Succeeded"))
    with consumer.route(execution(1), lambda: None):
        await asyncio.wait_for(three_receives.wait(), 60)
    got = [i for i, (_, messages) in enumerate(receives) if messages]
    assert got and got[0] + 1 < len(receives), receives
    released_at, next_receive = receives[got[0]][0], receives[got[0] + 1][0]
    assert consumer.released >= 1
    assert next_receive - released_at >= execution_events.RELEASE_SECONDS, receives


async def test_an_unclaimed_end_is_released_for_longer_as_it_ages_and_other_statuses_are_deleted(
    sqs: Any, queue_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unclaimed ends come back ever later (they must not crowd out new events); no one needs the rest."""
    monkeypatch.setattr(execution_events, "RELEASE_SECONDS", 1)
    monkeypatch.setattr(execution_events, "RELEASE_AGE_FRACTION", 1.0)
    seen: list[tuple[float, float]] = []
    fourth_time = asyncio.Event()
    receive_message = sqs.receive_message

    async def recorded_receive(**kwargs: Any) -> Any:
        answer = await receive_message(**kwargs)
        for message in answer.get("Messages", []):
            if execution(3) in message["Body"]:
                now = time.time()
                seen.append((now, now - int(message["Attributes"]["SentTimestamp"]) / 1000))
                if len(seen) == 4:
                    fourth_time.set()
        return answer

    monkeypatch.setattr(sqs, "receive_message", recorded_receive)
    consumer = EventConsumer(sqs, queue_url)
    await sqs.send_message(QueueUrl=queue_url, MessageBody=status_event(execution(3), "Succeeded"))
    await sqs.send_message(QueueUrl=queue_url, MessageBody=status_event(execution(4), "Executing"))
    with consumer.route(execution(1), lambda: None):
        await asyncio.wait_for(fourth_time.wait(), 60)
        assert await visible_messages(sqs, queue_url) == 1, "the Executing event was deleted"
    for (received, age), (received_again, _) in itertools.pairwise(seen):
        assert received_again - received >= execution_events.release_seconds(age) - 0.01, seen
    assert execution_events.release_seconds(seen[-1][1]) > execution_events.release_seconds(seen[0][1]), seen


def test_a_released_event_is_invisible_for_a_share_of_its_age_within_bounds() -> None:
    """Fresh: ``RELEASE_SECONDS``, so its holder soon gets another draw; old: a share of its age, capped."""
    fresh = execution_events.RELEASE_SECONDS
    assert execution_events.release_seconds(0) == execution_events.release_seconds(4 * fresh) == fresh
    assert execution_events.release_seconds(120) == int(120 * execution_events.RELEASE_AGE_FRACTION)
    old = execution_events.UNCLAIMED_TTL * 10
    assert execution_events.release_seconds(old) == execution_events.MAX_RELEASE_SECONDS


async def test_a_queue_that_cannot_be_read_wakes_the_waits_and_is_read_once_it_exists(
    sqs: Any, emulator: EvaluationEmulator, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A missing queue neither ends the consumer nor leaves the waits on the slow safety poll."""
    monkeypatch.setattr(execution_events, "UNREADABLE_RETRY_SECONDS", 0.2)
    name = "sm-eval-events-created-later"
    missing_url = f"{emulator.endpoint_url}/{ACCOUNT}/{name}"
    wakes = 0
    woken = asyncio.Event()

    def wake() -> None:
        nonlocal wakes
        wakes += 1
        woken.set()

    async def next_wake() -> None:
        woken.clear()
        await asyncio.wait_for(woken.wait(), 60)

    consumer = EventConsumer(sqs, missing_url)
    with consumer.route(execution(1), wake):
        while wakes < 2:
            await next_wake()
        assert f"Cannot read events of {missing_url}" in caplog.text
        assert consumer.routed == 0
        queue_url = (await sqs.create_queue(QueueName=name))["QueueUrl"]
        assert queue_url == missing_url
        await sqs.send_message(QueueUrl=queue_url, MessageBody=status_event(execution(1), "Succeeded"))
        while consumer.routed == 0:  # the consumer's own loop routes it
            await next_wake()
    await until_no_messages(sqs, queue_url)


async def test_other_events_of_a_held_execution_are_deleted_without_waking(sqs: Any, queue_url: str) -> None:
    consumer = EventConsumer(sqs, queue_url)
    woken: list[str] = []
    with consumer.route(execution(1), lambda: woken.append("1")):
        await sqs.send_message(QueueUrl=queue_url, MessageBody=status_event(execution(1), "Stopping"))
        await sqs.send_message(QueueUrl=queue_url, MessageBody="not json at all")
        await consumer.receive_once(wait_seconds=1)

    assert woken == []
    assert await visible_messages(sqs, queue_url) == 0


async def test_an_event_nobody_claims_is_released_then_deleted_when_old(
    sqs: Any, queue_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    consumer = EventConsumer(sqs, queue_url)
    await sqs.send_message(QueueUrl=queue_url, MessageBody=status_event(execution(9), "Failed"))
    with consumer.route(execution(1), lambda: None):
        await consumer.receive_once(wait_seconds=1)
        assert consumer.released == 1
        assert await visible_messages(sqs, queue_url) == 1, "released, not deleted"

        monkeypatch.setattr(execution_events, "UNCLAIMED_TTL", 0.0)
        await asyncio.sleep(execution_events.RELEASE_SECONDS + 0.5)
        await consumer.receive_once(wait_seconds=1)

    assert await visible_messages(sqs, queue_url) == 0


def test_events_are_parsed_for_their_execution_and_status() -> None:
    assert parse_event(status_event(execution(1), "Succeeded"))[:2] == (execution(1), "Succeeded")
    step_event = status_event(
        execution(1), "Succeeded", "SageMaker Model Building Pipeline Execution Step Status Change"
    )
    assert parse_event(step_event)[:2] == (execution(1), None)
    assert parse_event("{}") is None
    assert parse_event(json.dumps({"source": "aws.s3", "detail": {"pipelineExecutionArn": "x"}})) is None


def test_setup_creates_the_rule_its_target_and_the_queue_policy(emulator: EvaluationEmulator) -> None:
    made = ensure_event_queue("sm-eval-setup-test", session=EmulatorSession(emulator), region="us-east-1")
    again = ensure_event_queue("sm-eval-setup-test", session=EmulatorSession(emulator), region="us-east-1")

    assert made == again, "idempotent"
    assert validate_queue_url(made.queue_url) == made.queue_url
    events = emulator.client("events")
    rule = events.describe_rule(Name="sm-eval-setup-test-rule")
    assert json.loads(rule["EventPattern"]) == event_pattern("aws", "us-east-1", ACCOUNT)
    targets = events.list_targets_by_rule(Rule="sm-eval-setup-test-rule")["Targets"]
    assert [t["Arn"] for t in targets] == [made.queue_arn]
    policy = json.loads(
        emulator.client("sqs").get_queue_attributes(QueueUrl=made.queue_url, AttributeNames=["Policy"])[
            "Attributes"
        ]["Policy"]
    )
    statement = policy["Statement"][0]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == made.rule_arn


def test_the_rule_pattern_covers_every_eval_type() -> None:
    assert all(
        kind_of(kind).pipeline_name_prefix.lower().startswith(PIPELINE_ARN_NAME_PREFIX) for kind in EvalType
    )


@pytest.mark.parametrize(
    "url", ["sqs", "https://sqs.us-east-1.amazonaws.com/queue", "ftp://x/123456789012/q"]
)
def test_bad_queue_urls_are_named(url: str) -> None:
    with pytest.raises(ValueError, match="event_queue_url"):
        validate_queue_url(url)


class EmulatorSession:
    """A boto3-session look-alike whose clients talk to the emulator."""

    def __init__(self, emulator: EvaluationEmulator) -> None:
        self.emulator = emulator

    def client(self, service: str, region_name: str | None = None) -> Any:
        return self.emulator.client(service)


async def test_an_event_ends_the_wait_with_one_describe_and_no_polling(emulator: EvaluationEmulator) -> None:
    """The emulator publishes status changes to EventBridge; the rule sends them to the queue.

    With a poll interval of an hour, only the event can end the wait within the test's timeout.
    """
    made = ensure_event_queue("sm-eval-events-e2e", session=EmulatorSession(emulator), region="us-east-1")
    emulator.step_seconds = 0.5
    arn = start()
    emulator.calls.reset()
    trigger = EvaluationExecutionTrigger(
        arn, aws_conn_id=CONN_ID, poll_interval=3600, event_queue_url=made.queue_url
    )

    payload = await run_to_event(trigger)

    assert payload["status"] == EVENT_TERMINAL
    assert payload["execution_status"]["overall_status"] == "Succeeded"
    assert len(payload["execution_status"]["step_details"]) >= 4
    assert emulator.calls.count("sagemaker", "DescribePipelineExecution") == 1, "only once, at the end"
    assert emulator.calls.count("sagemaker", "ListPipelineExecutions") == 0, "no poll before the event"
    assert emulator.calls.count("sqs", "ReceiveMessage") >= 1
    assert execution_events.consumer_count() == 0


async def test_the_asset_trigger_and_a_wait_share_one_queue(emulator: EvaluationEmulator) -> None:
    """The AssetWatcher's trigger fires for the execution and leaves its event to the wait."""
    made = ensure_event_queue("sm-eval-events-asset", session=EmulatorSession(emulator), region="us-east-1")
    emulator.step_seconds = 0.5
    asset_events = EvaluationEndedTrigger(made.queue_url, eval_type="benchmark", aws_conn_id=CONN_ID).run()
    fired = asyncio.ensure_future(asset_events.__anext__())
    arn = start()
    wait = EvaluationExecutionTrigger(
        arn, aws_conn_id=CONN_ID, poll_interval=3600, event_queue_url=made.queue_url
    )

    payload = await run_to_event(wait)
    event = await asyncio.wait_for(fired, 60)
    await asset_events.aclose()

    assert payload["execution_status"]["overall_status"] == "Succeeded"
    assert event.payload["execution_arn"] == arn
    assert event.payload["status"] == "Succeeded"
    assert execution_events.consumer_count() == 0


def test_the_asset_trigger_round_trips_and_validates() -> None:
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/q"
    trigger = EvaluationEndedTrigger(url, statuses=["Failed", "Succeeded"], eval_type="llmasjudge")
    classpath, kwargs = trigger.serialize()
    assert EvaluationEndedTrigger(**json.loads(json.dumps(kwargs))).serialize() == (classpath, kwargs)
    with pytest.raises(ValueError, match="statuses"):
        EvaluationEndedTrigger(url, statuses=["Executing"])
    with pytest.raises(ValueError, match="event_queue_url"):
        EvaluationEndedTrigger("not a url")
