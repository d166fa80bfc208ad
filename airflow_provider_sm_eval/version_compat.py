"""Every Airflow name the provider uses, imported from this one module.

Names moved between Airflow 3 lines (``SkipMixin``, ``conf`` and the exceptions reached
``airflow.sdk`` only in later 3.x releases), so they come from
``airflow.providers.common.compat.sdk``, which resolves each to wherever the running Airflow has it.
``TaskDeferralTimeout`` is not in that map: it is looked up in the task SDK, then in core.

Importing this module stays cheap (it is loaded by every DAG file that uses an operator): the
trigger base classes and the amazon provider's ``AwsBaseHook`` (which loads boto3) are resolved
only when asked for, through the module ``__getattr__``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from airflow import __version__ as AIRFLOW_VERSION
from airflow.providers.common.compat.sdk import (
    AirflowException,
    AirflowFailException,
    BaseOperator,
    BaseOperatorLink,
    BaseSensorOperator,
    SkipMixin,
    XCom,
    XComArg,
    conf,
)
from packaging.version import Version

if TYPE_CHECKING:
    from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
    from airflow.providers.common.compat.sdk import Context, TaskInstanceKey
    from airflow.sdk.exceptions import TaskDeferralTimeout
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance
    from airflow.triggers.base import BaseEventTrigger, BaseTrigger, TriggerEvent
else:
    try:
        from airflow.sdk.exceptions import TaskDeferralTimeout
    except ImportError:  # Airflow < 3.2 keeps it in core
        from airflow.exceptions import TaskDeferralTimeout

#: True on Airflow 3.3 and later (trigger ``on_kill``, ``task_state_store``).
AIRFLOW_V_3_3_PLUS: bool = Version(Version(AIRFLOW_VERSION).base_version) >= Version("3.3.0")

#: Names loaded on first use, with the module that holds each.
_LAZY: dict[str, str] = {
    "AwsBaseHook": "airflow.providers.amazon.aws.hooks.base_aws",
    "BaseTrigger": "airflow.triggers.base",
    "BaseEventTrigger": "airflow.triggers.base",
    "TriggerEvent": "airflow.triggers.base",
    "Context": "airflow.providers.common.compat.sdk",
    "TaskInstanceKey": "airflow.providers.common.compat.sdk",
    "RuntimeTaskInstance": "airflow.sdk.execution_time.task_runner",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AIRFLOW_V_3_3_PLUS",
    "AirflowException",
    "AirflowFailException",
    "AwsBaseHook",
    "BaseEventTrigger",
    "BaseOperator",
    "BaseOperatorLink",
    "BaseSensorOperator",
    "BaseTrigger",
    "Context",
    "RuntimeTaskInstance",
    "SkipMixin",
    "TaskDeferralTimeout",
    "TaskInstanceKey",
    "TriggerEvent",
    "XCom",
    "XComArg",
    "conf",
]
