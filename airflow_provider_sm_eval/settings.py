"""The provider's deployment settings: the ``[sm_eval]`` section of Airflow's configuration.

The one module that reads ``[sm_eval]``. Each option is declared once, in :data:`OPTIONS`, which
``get_provider_info()`` publishes under ``config`` (so ``airflow config list`` shows it with its
default) and which the readers below take their defaults from. A value read is validated by the
validator of a task's argument of the same meaning (:mod:`..evaluation.pipeline_events`).

Importing this module is cheap and imports no Airflow: the readers import Airflow's ``conf`` on call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from airflow_provider_sm_eval.evaluation.pipeline_events import validate_queue_url

#: The section of ``airflow.cfg`` (environment variables ``AIRFLOW__SM_EVAL__<OPTION>``).
SECTION = "sm_eval"


@dataclass(frozen=True)
class Option:
    """One ``[sm_eval]`` option, as Airflow's provider-info schema describes options."""

    name: str
    type: Literal["string", "boolean", "integer", "float"]
    default: str
    example: str
    description: str
    version_added: str = "0.1.0"

    @property
    def qualified_name(self) -> str:
        """``[sm_eval] name``, as error messages name the option."""
        return f"[{SECTION}] {self.name}"

    def provider_info(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "version_added": self.version_added,
            "type": self.type,
            "example": self.example,
            "default": self.default,
        }


UI_PLUGIN_ENABLED = Option(
    name="ui_plugin_enabled",
    type="boolean",
    default="True",
    example="False",
    description="Whether the API server serves the Evaluation and Evaluations tabs of the provider's "
    "UI plugin (read when the plugin is loaded).",
)
EVENT_QUEUE_URL = Option(
    name="event_queue_url",
    type="string",
    default="",
    example="https://sqs.us-east-1.amazonaws.com/123456789012/sm-eval-events",
    description="The SQS queue of SageMaker's pipeline status-change events (made by "
    "``sm-eval-event-setup``) that deferred waits read to "
    "end soon after their execution does; a task's ``event_queue_url`` overrides it. Empty: "
    "waits poll only.",
)
#: Every ``[sm_eval]`` option.
OPTIONS = (UI_PLUGIN_ENABLED, EVENT_QUEUE_URL)


def provider_config() -> dict[str, Any]:
    """The ``config`` entry of ``get_provider_info()``: the section and its options."""
    return {
        SECTION: {
            "description": "Settings of the Amazon SageMaker evaluation provider (airflow-provider-sm-eval).",
            "options": {option.name: option.provider_info() for option in OPTIONS},
        }
    }


def ui_plugin_enabled() -> bool:
    """``[sm_eval] ui_plugin_enabled``: whether the UI plugin registers its tabs."""
    from airflow_provider_sm_eval.version_compat import conf

    return bool(
        conf.getboolean(SECTION, UI_PLUGIN_ENABLED.name, fallback=UI_PLUGIN_ENABLED.default == "True")
    )


def default_event_queue_url() -> str | None:
    """``[sm_eval] event_queue_url``, None when empty; ValueError naming the option if no queue URL."""
    from airflow_provider_sm_eval.version_compat import conf

    value = str(conf.get(SECTION, EVENT_QUEUE_URL.name, fallback=EVENT_QUEUE_URL.default)).strip()
    return validate_queue_url(value or None, name=EVENT_QUEUE_URL.qualified_name)


def event_queue_url(task_value: str | None) -> str | None:
    """The queue a deferred wait reads: the task's (already validated) when set, else the deployment's."""
    return task_value if task_value is not None else default_event_queue_url()
