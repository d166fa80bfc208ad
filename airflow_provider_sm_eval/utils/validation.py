"""Input checks of the operators: a bad argument fails the task at once, naming the argument.

Non-templated arguments are checked in ``__init__`` (a ValueError at DAG parse time); templated
ones first thing in ``execute``, before any AWS call, as ``AirflowFailException`` (no retries:
trying again would not change the answer).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from airflow_provider_sm_eval.evaluation.arns import ExecutionArn, parse_execution_arn
from airflow_provider_sm_eval.version_compat import AirflowFailException


@contextmanager
def failing_the_task() -> Iterator[None]:
    """Turn a ValueError of the checks inside into ``AirflowFailException`` with the same message."""
    try:
        yield
    except ValueError as error:
        raise AirflowFailException(str(error)) from None


def require_execution_arn(value: str, *, name: str = "execution_arn") -> ExecutionArn:
    """``value`` parsed as a pipeline execution ARN; a malformed one fails the task without retries."""
    with failing_the_task():
        return parse_execution_arn(value, name=name)


def require_bool(value: object, name: str) -> bool:
    """``value`` when it is a bool; ValueError naming ``name`` otherwise (``"false"`` would be truthy)."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return value


def require_count(value: object, name: str) -> int:
    """``value`` when it is an int >= 0; ValueError naming ``name`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")
    return value
