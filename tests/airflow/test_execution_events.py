"""Event-driven waits: the SQS consumer, two triggerers competing for one queue, the set-up."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import ExitStack, asynccontextmanager, suppress
from typing import Any

import pytest
from aiobotocore.session import get_session

from airflow_provider_sm_eval.evaluation.arns import parse_execution_arn
from airflow_provider_sm_eval.evaluation.constants import EvalType
from airflow_provider_sm_eval.evaluation.pipeline_events import (
    EXECUTION_STATUS_CHANGE,
    PIPELINE_ARN_NAME_PREFIX,
    validate_queue_url,
)
from airflow_provider_sm_eval.evaluation.types.registry import kind_of
from airflow_provider_sm_eval.provisioning.event_setup import ensure_event_queue, event_pattern
from airflow_provider_sm_eval.triggerer import events as execution_events
from airflow_provider_sm_eval.triggerer.events import EventConsumer, MalformedEvent, parse_event
from airflow_provider_sm_eval.triggerer.runtime import RUNTIME
from airflow_provider_sm_eval.triggers.evaluation_events import EvaluationEndedTrigger
from airflow_provider_sm_eval.triggers.evaluation_execution import EvaluationExecutionTrigger
from sagemaker_eval_emulator import EvaluationEmulator
from tests.airflow.airflow_test_support import CONN_ID
from tests.airflow.test_trigger import FAST, run_to_event, start

pytestmark = pytest.mark.timeout(90)

ACCOUNT = "123456789012"
#: A body nested too deep for the JSON parser (200 KB: under the size bound).
DEEP_BODY = "[" * 100_000 + "]" * 100_000
PIPELINE = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:pipeline/sagemakerevaluation-benchmarkevaluation-x"


#: Unclaimed ends queued ahead of a wait's own end, and how many consumers share the queue.
BACKLOG = 1_000
#: What reading an end costs on top of the poll interval (a list, a describe, a step listing).
CALL_SLACK = 2.0


def status_event(
    arn: str, status: str, detail_type: str = EXECUTION_STATUS_CHANGE, *, event_id: str | None = None
) -> str:
    """An EventBridge event as the rule's SQS target receives it (a fresh id unless given)."""
    pipeline = arn.split("/execution/", maxsplit=1)[0]
    return json.dumps(
        {
            "version": "0",
            "id": event_id or str(uuid.uuid4()),
            "detail-type": detail_type,
            "source": "aws.sagemaker",
            "account": ACCOUNT,
            "region": "us-east-1",
            "resources": [pipeline, arn],
            "detail": {
                "pipelineArn": pipeline,
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


@pytest.mark.hostile("events")
async def test_a_wait_learns_its_end_within_its_poll_interval_behind_a_thousand_unclaimed_ends(
    emulator: EvaluationEmulator, sqs: Any
) -> None:
    """The design's promise under a backlog: 1,000 ends no wait here holds, 4 consumers on the queue.

    The wait has checked its execution (running) before the backlog is complete; then the
    execution is stopped, and its end event (published by the emulator through the rule) is
    queued behind the backlog and may reach any of the 4 consumers. The wait still ends within
    its poll_interval of the execution's end, plus ``CALL_SLACK`` for the list, describe and
    step calls that read it (with a 600 s safety poll it waited for the event: minutes). No
    consumer keeps an unclaimed end for later (no visibility change): each is deleted where it
    is first received.
    """
    poll = 2.0
    made = ensure_event_queue("sm-eval-events-backlog", session=EmulatorSession(emulator), region="us-east-1")
    step_seconds, emulator.step_seconds = emulator.step_seconds, 3600
    arn = start()
    others = [EventConsumer(sqs, made.queue_url) for _ in range(3)]
    wait = EvaluationExecutionTrigger(
        arn, aws_conn_id=CONN_ID, poll_interval=poll, event_queue_url=made.queue_url
    )
    noticed: list[float] = []
    with ExitStack() as routes:
        for n, consumer in enumerate(others):
            routes.enter_context(consumer.route(execution(BACKLOG + n), lambda: None))
        waiting = asyncio.ensure_future(run_to_event(wait))
        waiting.add_done_callback(lambda _: noticed.append(time.time()))
        for first in range(0, BACKLOG, 10):
            entries = [
                {"Id": str(n), "MessageBody": status_event(execution(n), "Succeeded")}
                for n in range(first, first + 10)
            ]
            await sqs.send_message_batch(QueueUrl=made.queue_url, Entries=entries)
        while emulator.calls.count("sagemaker", "ListPipelineExecutions") == 0:  # its first check
            assert not waiting.done(), waiting
            await asyncio.sleep(0.1)
        emulator.step_seconds = step_seconds
        emulator.client("sagemaker").stop_pipeline_execution(
            PipelineExecutionArn=arn, ClientRequestToken=str(uuid.uuid4())
        )
        payload = await asyncio.wait_for(waiting, 25)
    ended = emulator.client("sagemaker").describe_pipeline_execution(PipelineExecutionArn=arn)
    latency = noticed[0] - ended["LastModifiedTime"].timestamp()
    print(
        f"end noticed {latency:.2f} s after it, poll_interval {poll} s, {BACKLOG} unclaimed ends, 4 consumers"
    )

    assert payload["execution_status"]["overall_status"] == "Stopped"
    assert latency <= poll + CALL_SLACK, f"{latency:.2f} s"
    assert sum(consumer.routed for consumer in others) == 0
    assert emulator.calls.count("sqs", "ChangeMessageVisibilityBatch") == 0, "an end was kept for later"
    assert emulator.calls.count("sqs", "ChangeMessageVisibility") == 0, "an end was kept for later"


@pytest.mark.hostile("events")
async def test_a_consumer_deletes_every_message_it_receives_held_or_not(sqs: Any, queue_url: str) -> None:
    """Its own end wakes its wait; another's end, other statuses and malformed bodies are deleted.

    A body nested too deep for the parser once made every receive fail, so the wait's end behind
    it never arrived.
    """
    consumer = EventConsumer(sqs, queue_url)
    woken = asyncio.Event()
    for body in (
        DEEP_BODY,
        status_event(execution(2), "Failed"),
        status_event(execution(1), "Stopping"),
        status_event(execution(1), "Succeeded"),
    ):
        await sqs.send_message(QueueUrl=queue_url, MessageBody=body)
    with consumer.route(execution(1), woken.set):  # the consumer's own loop receives
        await asyncio.wait_for(woken.wait(), 30)
        await until_no_messages(sqs, queue_url)

    assert (consumer.routed, consumer.malformed) == (1, 1)


async def until_no_messages(sqs: Any, queue_url: str, timeout: float = 30) -> None:
    """Wait until the queue holds no message (a consumer deletes right after it wakes a wait)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (left := await visible_messages(sqs, queue_url)) != 0:
        assert asyncio.get_running_loop().time() < deadline, f"{left} messages still on the queue"
        await asyncio.sleep(0.2)


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


@asynccontextmanager
async def asset_trigger(
    queue_url: str, **kwargs: Any
) -> AsyncIterator[Callable[[], Awaitable[dict[str, Any]]]]:
    """A running EvaluationEndedTrigger on ``queue_url``: a function returning its next asset event."""
    events = EvaluationEndedTrigger(queue_url, aws_conn_id=CONN_ID, **kwargs).run()
    pending = asyncio.ensure_future(events.__anext__())

    async def next_event() -> dict[str, Any]:
        nonlocal pending
        payload = (await asyncio.wait_for(asyncio.shield(pending), 20)).payload
        pending = asyncio.ensure_future(events.__anext__())
        return dict(payload)

    try:
        yield next_event
    finally:
        pending.cancel()
        with suppress(asyncio.CancelledError, StopAsyncIteration):
            await pending
        await events.aclose()


async def asset_events_until(
    sqs: Any, queue_url: str, bodies: list[str], sentinel: str, **kwargs: Any
) -> tuple[list[dict[str, Any]], list[str]]:
    """Send ``bodies`` to the asset trigger and let it take them all, then the end of ``sentinel``.

    Returns the asset events up to the sentinel's, and the bodies' message ids. The trigger
    handles events in the order it receives them, so an event made from ``bodies`` comes first.
    """
    async with asset_trigger(queue_url, **kwargs) as next_event:
        sent = [await sqs.send_message(QueueUrl=queue_url, MessageBody=body) for body in bodies]
        await until_no_messages(sqs, queue_url)
        await sqs.send_message(QueueUrl=queue_url, MessageBody=status_event(sentinel, "Succeeded"))
        got = [await next_event()]
        while got[-1]["execution_arn"] != sentinel:
            got.append(await next_event())
    return got, [answer["MessageId"] for answer in sent]


async def ended_execution() -> str:
    """An evaluation execution that ran to Succeeded in the emulator."""
    arn = start()
    payload = await run_to_event(EvaluationExecutionTrigger(arn, **FAST))
    assert payload["execution_status"]["overall_status"] == "Succeeded"
    return arn


@pytest.mark.hostile("events")
async def test_a_forged_end_of_a_running_execution_makes_no_asset_event(
    emulator: EvaluationEmulator, sqs: Any, queue_url: str
) -> None:
    step_seconds = emulator.step_seconds
    emulator.step_seconds = 3600
    running = start()
    emulator.step_seconds = step_seconds
    sentinel = await ended_execution()

    got, _ = await asset_events_until(sqs, queue_url, [status_event(running, "Succeeded")], sentinel)

    assert [event["execution_arn"] for event in got] == [sentinel]
    assert got[0]["pipeline_arn"] == parse_execution_arn(sentinel).pipeline_arn


#: Ends of executions that no trigger of this deployment may report, and why.
FOREIGN = {
    "other-account": f"{PIPELINE.replace(ACCOUNT, '210987654321')}/execution/abc123",
    "other-region": f"{PIPELINE.replace('us-east-1', 'eu-west-1')}/execution/abc123",
    "not-an-evaluation": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:pipeline/nightly-training/execution/abc123",
}


@pytest.mark.hostile("events")
@pytest.mark.parametrize("foreign", FOREIGN.values(), ids=FOREIGN.keys())
async def test_an_end_of_another_account_region_or_pipeline_makes_no_asset_event_nor_call(
    emulator: EvaluationEmulator, sqs: Any, queue_url: str, foreign: str
) -> None:
    """Refused from the ARN, before any call (with ``eval_type=None`` they became asset events)."""
    sentinel = await ended_execution()
    emulator.calls.reset()

    got, _ = await asset_events_until(sqs, queue_url, [status_event(foreign, "Succeeded")], sentinel)

    assert [event["execution_arn"] for event in got] == [sentinel]
    assert emulator.calls.count("sagemaker", "DescribePipelineExecution") == 1, "the sentinel's only"


def padded(body: str, size: int) -> str:
    """``body`` with a ``size``-character field in its detail."""
    event = json.loads(body)
    event["detail"]["padding"] = "x" * size
    return json.dumps(event)


#: Bodies that are no pipeline event, made from an execution ARN.
MALFORMED: dict[str, Callable[[str], str]] = {
    "deeply-nested": lambda _: DEEP_BODY,
    "300-KB": lambda arn: padded(status_event(arn, "Succeeded"), 300_000),
    "not-JSON": lambda _: "not json at all",
    "status-not-a-string": lambda arn: status_event(arn, "Succeeded").replace('"Succeeded"', '{"a": 1}'),
    "detail-not-an-object": lambda _: json.dumps({"source": "aws.sagemaker", "id": "e", "detail": ["x"]}),
}


@pytest.mark.hostile("events")
@pytest.mark.parametrize("make_body", MALFORMED.values(), ids=MALFORMED.keys())
async def test_a_malformed_message_is_logged_once_and_deleted_and_the_events_behind_it_arrive(
    emulator: EvaluationEmulator,
    sqs: Any,
    queue_url: str,
    caplog: pytest.LogCaptureFixture,
    make_body: Callable[[str], str],
) -> None:
    """A body too deep to parse once stopped every receive; the asset watcher delivered nothing more."""
    await sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"MaximumMessageSize": "1048576"})
    sentinel = await ended_execution()

    got, (message_id,) = await asset_events_until(sqs, queue_url, [make_body(execution(7))], sentinel)

    assert [event["execution_arn"] for event in got] == [sentinel]
    logged = [r for r in caplog.records if message_id in r.getMessage() and r.levelno == logging.WARNING]
    assert len(logged) == 1, caplog.text


@pytest.mark.hostile("events")
async def test_duplicate_events_make_one_asset_event(
    emulator: EvaluationEmulator, sqs: Any, queue_url: str
) -> None:
    """EventBridge may deliver an event twice (same id), and a copy may carry another id."""
    ended, sentinel = await ended_execution(), await ended_execution()
    same_id = status_event(ended, "Succeeded", event_id="dup-1")

    got, _ = await asset_events_until(
        sqs, queue_url, [same_id, same_id, status_event(ended, "Succeeded")], sentinel
    )

    assert [event["execution_arn"] for event in got] == [ended, sentinel]


def test_events_are_parsed_for_their_execution_and_status() -> None:
    event = parse_event(status_event(execution(1), "Succeeded", event_id="id-1"))
    assert (event.event_id, event.execution_arn, event.status) == ("id-1", execution(1), "Succeeded")
    assert event.is_end
    step_event = status_event(
        execution(1), "Succeeded", "SageMaker Model Building Pipeline Execution Step Status Change"
    )
    assert parse_event(step_event).status is None
    assert not parse_event(status_event(execution(1), "Executing")).is_end


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{}", "source"),
        (json.dumps({"source": "aws.s3", "id": "e", "detail": {}}), "source"),
        (json.dumps({"source": "aws.sagemaker", "id": "e", "detail": {"pipelineExecutionArn": "x"}}), "ARN"),
        ("[" * 100_000 + "]" * 100_000, "deep"),
        ("x" * (execution_events.MAX_EVENT_BYTES + 1), "bytes"),
    ],
    ids=["empty", "foreign", "bad-arn", "deep", "large"],
)
def test_a_body_that_is_no_pipeline_event_is_refused_with_the_reason(body: str, reason: str) -> None:
    with pytest.raises(MalformedEvent, match=reason):
        parse_event(body)


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

    assert payload["status"] == "success"
    assert payload["execution_status"]["overall_status"] == "Succeeded"
    assert len(payload["execution_status"]["step_details"]) >= 4
    assert emulator.calls.count("sagemaker", "DescribePipelineExecution") == 1, "only once, at the end"
    assert emulator.calls.count("sagemaker", "ListPipelineExecutions") == 0, "no poll before the event"
    assert emulator.calls.count("sqs", "ReceiveMessage") >= 1
    assert len(RUNTIME.consumers) == 0


async def test_the_asset_trigger_and_a_wait_share_one_queue(emulator: EvaluationEmulator) -> None:
    """In one triggerer the AssetWatcher's trigger and a wait share the queue's consumer: both see the end."""
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
    assert len(RUNTIME.consumers) == 0


def test_the_asset_trigger_round_trips_and_validates() -> None:
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/q"
    trigger = EvaluationEndedTrigger(url, statuses=["Failed", "Succeeded"], eval_type="llmasjudge")
    classpath, kwargs = trigger.serialize()
    assert EvaluationEndedTrigger(**json.loads(json.dumps(kwargs))).serialize() == (classpath, kwargs)
    with pytest.raises(ValueError, match="statuses"):
        EvaluationEndedTrigger(url, statuses=["Executing"])
    with pytest.raises(ValueError, match="event_queue_url"):
        EvaluationEndedTrigger("not a url")
