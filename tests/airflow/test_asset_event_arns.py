"""The executions a run scheduled on the evaluation asset gates: every event it consumed, each once."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from airflow.sdk.execution_time.comms import AssetEventDagRunReferenceResult
from airflow.sdk.execution_time.context import TriggeringAssetEventsAccessor

from airflow_provider_sm_eval.triggers.evaluation_events import ended_execution_arns

PIPELINE = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/sagemakerevaluation-benchmarkevaluation-x"
ASSET = {"name": "sm-eval://evaluations/succeeded", "uri": "sm-eval://evaluations/succeeded", "extra": {}}
START = datetime(2026, 12, 4, 21, 52, tzinfo=timezone.utc)


def consumed(*extras: dict[str, Any], aliases: tuple[str, ...] = ()) -> TriggeringAssetEventsAccessor:
    """A run's ``triggering_asset_events`` as the task context gives them, one event per extra."""
    return TriggeringAssetEventsAccessor.build(
        AssetEventDagRunReferenceResult(
            asset=ASSET,
            extra=extra,
            source_task_id=None,
            source_dag_id=None,
            source_run_id=None,
            source_map_index=None,
            source_aliases=[{"name": alias} for alias in aliases],
            timestamp=START + timedelta(seconds=index),
        )
        for index, extra in enumerate(extras)
    )


def ended(execution: str) -> dict[str, Any]:
    return {"from_trigger": True, "payload": {"execution_arn": f"{PIPELINE}/execution/{execution}"}}


def test_every_event_of_the_run_is_gated_not_the_last_one() -> None:
    events = consumed(ended("a1"), ended("b2"), ended("c3"))

    assert ended_execution_arns(events) == [f"{PIPELINE}/execution/{e}" for e in ("a1", "b2", "c3")]


def test_an_execution_reported_twice_or_through_an_alias_is_gated_once() -> None:
    events = consumed(ended("a1"), ended("b2"), ended("a1"), aliases=("evaluations",))

    assert ended_execution_arns(events) == [f"{PIPELINE}/execution/a1", f"{PIPELINE}/execution/b2"]


@pytest.mark.hostile("events")
@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"payload": None},
        {"payload": {"execution_arn": 42}},
        {"payload": {"execution_arn": "arn:aws:s3:::bucket/key"}},
        {"payload": {"execution_arn": f"{PIPELINE}/execution/x; DROP TABLE"}},
    ],
)
def test_an_event_without_an_execution_arn_is_left_out_and_named(
    extra: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """Anyone allowed to create asset events through Airflow's API can write one."""
    with caplog.at_level(logging.WARNING):
        arns = ended_execution_arns(consumed(ended("a1"), extra))

    assert arns == [f"{PIPELINE}/execution/a1"]
    assert "Leaving out an event of" in caplog.text and "sm-eval://evaluations/succeeded" in caplog.text
    assert "execution_arn" in caplog.text


def test_a_run_without_asset_events_gates_nothing() -> None:
    assert ended_execution_arns(None) == []
    assert ended_execution_arns(consumed()) == []
