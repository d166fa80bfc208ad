"""How a retried task instance finds the execution an earlier try started, instead of starting another,
and what it does with it (:func:`decide_attachment`).

Every try of one task instance (dag_id, task_id, run_id, map_index) derives the same key. The
key goes into the execution description as a marker that ListPipelineExecutions can find, and
into the ClientRequestToken, so a start request repeated after a lost answer starts nothing new.
Airflow 3.3's ``task_state_store`` remembers the ARN directly when it exists.

The UI plugin reads the marker back (:func:`marker_keys`) to prove an execution was started by a
task instance of the DAG run whose page shows it: the key names dag, task, run and map index.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal

from airflow_provider_sm_eval.evaluation.constants import (
    RETRYABLE_STATUSES,
    TERMINAL_STATUSES,
    ExecutionStatus,
)

#: What a try does with an earlier try's execution that ended in a status that is not a success.
OnFailedExecution = Literal["restart", "retry", "fail"]
ON_FAILED_EXECUTION: tuple[OnFailedExecution, ...] = ("restart", "retry", "fail")
#: Key of the execution ARN in Airflow 3.3's ``task_state_store``.
STATE_STORE_ARN_KEY = "sm_eval_execution_arn"
#: The marker's text around the key; :func:`marker_keys` parses what ``description_marker`` writes.
_MARKER_OPEN, _MARKER_CLOSE = "[airflow-ti:", "]"
_MARKER = re.compile(re.escape(_MARKER_OPEN) + r"([0-9a-f]{32})" + re.escape(_MARKER_CLOSE))


@dataclass(frozen=True)
class TaskInstanceIdentity:
    """The retry-stable identity of a task instance, and the markers derived from it."""

    dag_id: str
    task_id: str
    run_id: str
    map_index: int

    @classmethod
    def from_context(cls, context: Any) -> TaskInstanceIdentity:
        ti = context["ti"]
        map_index = getattr(ti, "map_index", -1)
        return cls(ti.dag_id, ti.task_id, ti.run_id, -1 if map_index is None else int(map_index))

    @property
    def key(self) -> str:
        """32 hex characters, the same for every try of this task instance."""
        text = "\n".join((self.dag_id, self.task_id, self.run_id, str(self.map_index)))
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    @property
    def description_marker(self) -> str:
        """Text put in the execution description so ListPipelineExecutions finds the execution."""
        return f"{_MARKER_OPEN}{self.key}{_MARKER_CLOSE}"

    def client_request_token(self, purpose: str, attempt: int) -> str:
        """Idempotency token of one start or retry request of one try (32-128 characters)."""
        return f"airflow-{self.key}-{purpose}-{attempt}"


def marker_keys(description: str | None) -> list[str]:
    """The task-instance keys of the markers in an execution description (none when it has none)."""
    return _MARKER.findall(description or "")


class Attachment(Enum):
    """What a try does about the execution an earlier try of its task instance started."""

    #: There is none: start one.
    START = "start"
    #: It runs, or it ended in a success status: follow it.
    REATTACH = "reattach"
    #: It ended Failed or Stopped and ``on_failed_execution`` is ``retry``: resume its failed steps.
    RETRY = "retry"
    #: It ended otherwise: start a new one.
    RESTART = "restart"
    #: It ended otherwise and ``on_failed_execution`` is ``fail``: fail the try.
    FAIL = "fail"


def decide_attachment(
    earlier: ExecutionStatus | None,
    *,
    success_statuses: Collection[ExecutionStatus],
    on_failed_execution: OnFailedExecution,
) -> Attachment:
    """The one reattach-or-replace rule, from the status of the earlier try's execution (None: none).

    ``earlier`` is never Stopping: a stopping execution is waited for first, since it was stopped
    by the kill of the try that started it and must not be reattached to.
    """
    if earlier is None:
        return Attachment.START
    if earlier not in TERMINAL_STATUSES or earlier in success_statuses:
        return Attachment.REATTACH
    if on_failed_execution == "fail":
        return Attachment.FAIL
    if on_failed_execution == "retry" and earlier in RETRYABLE_STATUSES:
        return Attachment.RETRY
    return Attachment.RESTART
