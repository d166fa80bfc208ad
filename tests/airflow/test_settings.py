"""The ``[sm_eval]`` settings: declared in the provider info, read in one place, a task's value first."""

from __future__ import annotations

import json
from importlib.resources import files

import jsonschema
import pytest
from airflow.sdk.exceptions import TaskDeferred

from airflow_provider_sm_eval.get_provider_info import get_provider_info
from airflow_provider_sm_eval.plugins.evaluation_ui import SageMakerEvaluationPlugin
from airflow_provider_sm_eval.triggers.evaluation_events import EvaluationEndedTrigger
from sagemaker_eval_emulator import EvaluationEmulator
from tests.airflow.airflow_test_support import RecordingTaskInstance, task_context
from tests.airflow.test_sensor_and_operators import sensor, start

pytestmark = pytest.mark.timeout(120)

DEPLOYMENT_QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/sm-eval-events"
TASK_QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/task-events"


def test_the_provider_info_is_valid_for_airflow() -> None:
    """Checked against the schema Airflow's providers manager validates every provider with."""
    schema = json.loads(files("airflow").joinpath("provider_info.schema.json").read_text())

    jsonschema.validate(get_provider_info(), schema)


def test_the_provider_info_declares_the_options_and_the_plugin() -> None:
    info = get_provider_info()

    options = info["config"]["sm_eval"]["options"]
    assert set(options) == {"ui_plugin_enabled", "event_queue_url"}
    assert options["ui_plugin_enabled"]["type"] == "boolean"
    assert options["ui_plugin_enabled"]["default"] == "True"
    assert options["event_queue_url"]["default"] == ""
    assert all(option["description"] and option["version_added"] for option in options.values())
    (plugin,) = info["plugins"]
    module, _, name = plugin["plugin-class"].rpartition(".")
    assert (
        f"{SageMakerEvaluationPlugin.__module__}.{SageMakerEvaluationPlugin.__name__}" == f"{module}.{name}"
    )
    assert plugin["name"] == SageMakerEvaluationPlugin.name


def test_airflow_reads_the_defaults_of_the_options() -> None:
    from airflow.providers_manager import ProvidersManager

    configs = dict(ProvidersManager().provider_configs)

    assert configs["airflow-provider-sm-eval"]["sm_eval"]["options"]["event_queue_url"]["default"] == ""


def deferred_queue(emulator: EvaluationEmulator, **overrides: object) -> str | None:
    """The queue the trigger of a deferring sensor reads."""
    emulator.step_seconds = 30  # still running when the sensor looks
    with pytest.raises(TaskDeferred) as deferred:
        sensor(start(), deferrable=True, timeout=600, **overrides).execute(
            task_context(RecordingTaskInstance())
        )
    _, kwargs = deferred.value.trigger.serialize()
    return kwargs["event_queue_url"]


def test_a_deferred_wait_reads_the_deployment_queue(
    emulator: EvaluationEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert deferred_queue(emulator) is None
    monkeypatch.setenv("AIRFLOW__SM_EVAL__EVENT_QUEUE_URL", DEPLOYMENT_QUEUE)

    assert deferred_queue(emulator) == DEPLOYMENT_QUEUE
    assert deferred_queue(emulator, event_queue_url=TASK_QUEUE) == TASK_QUEUE


def test_a_bad_deployment_queue_fails_naming_the_option(
    emulator: EvaluationEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW__SM_EVAL__EVENT_QUEUE_URL", "http://example.com/not-a-queue")

    with pytest.raises(ValueError, match=r"\[sm_eval\] event_queue_url 'http://example.com/not-a-queue'"):
        deferred_queue(emulator)


def test_the_asset_trigger_reads_the_deployment_queue(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(
        ValueError, match=r"event_queue_url is required.*\[sm_eval\] event_queue_url is empty"
    ):
        EvaluationEndedTrigger()
    monkeypatch.setenv("AIRFLOW__SM_EVAL__EVENT_QUEUE_URL", DEPLOYMENT_QUEUE)

    assert EvaluationEndedTrigger().serialize()[1]["event_queue_url"] == DEPLOYMENT_QUEUE
    assert EvaluationEndedTrigger(TASK_QUEUE).serialize()[1]["event_queue_url"] == TASK_QUEUE
