"""Whether the triggerer cancelled a trigger because a user killed its deferred task.

From Airflow 3.3 the triggerer calls ``BaseTrigger.on_kill`` when a user clears a deferred task
or marks it failed or success. Before 3.3 it only cancels the trigger, exactly as it does when
the triggerer shuts down or the trigger moves to another triggerer. What tells them apart is
the task instance's state: still ``deferred`` after a restart or a move, anything else after a
user's action (the approach of the amazon provider's EMR Serverless trigger).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger(__name__)

#: Message of the cancellation that Airflow 3.3+ follows with a call of ``on_kill``.
USER_ACTION_CANCEL_MSG = "__airflow_user_action__"
_DEFERRED = "deferred"


async def killed_while_deferred(trigger: Any, cancel: asyncio.CancelledError) -> bool:
    """True when ``cancel`` means a user killed the trigger's task and ``on_kill`` will not be called.

    False when the triggerer calls ``on_kill`` itself (Airflow 3.3+), when the task is still
    deferred (a triggerer restart), and whenever the state cannot be read: an execution is
    never stopped on a guess.
    """
    if cancel.args and cancel.args[0] == USER_ACTION_CANCEL_MSG:
        return False
    task_instance = getattr(trigger, "task_instance", None)
    if task_instance is None:
        return False
    try:
        known, state = await asyncio.to_thread(_task_state, task_instance)
    except Exception:
        log.warning("Could not read the state of task instance %s", task_instance, exc_info=True)
        return False
    return known and str(getattr(state, "value", state)) != _DEFERRED


def _task_state(task_instance: Any) -> tuple[bool, Any]:
    """(found, state) of the task instance, read through the triggerer's supervisor."""
    from airflow_provider_sm_eval.version_compat import RuntimeTaskInstance

    map_index = getattr(task_instance, "map_index", -1)
    map_index = -1 if map_index is None else int(map_index)
    states = RuntimeTaskInstance.get_task_states(
        dag_id=task_instance.dag_id,
        task_ids=[task_instance.task_id],
        run_ids=[task_instance.run_id],
        map_index=map_index,
    )
    key = task_instance.task_id if map_index < 0 else f"{task_instance.task_id}_{map_index}"
    run_states = states.get(task_instance.run_id, {})
    return key in run_states, run_states.get(key)
