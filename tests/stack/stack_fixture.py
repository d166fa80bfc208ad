"""The session's local Airflow stack, for every folder's tests (imported by tests/conftest.py).

``airflow_stack`` starts one ``devstack.AirflowStack`` per pytest session, the first time a test
asks for it (about 1-2 minutes), with the example DAGs and tests/stack/dags, and stops every
process of it at the end of the session. What a test gets:

- ``stack.api``: a REST client of ``/api/v2`` logged in with a JWT from ``/auth/token``
  (``get``/``post``/``patch``, ``trigger``, ``wait_for_runs``, ``xcom``, ``task_log``, ...);
- ``stack.base_url`` (the UI), ``stack.password`` (user ``admin``);
- ``stack.emulator_url``, ``stack.emulator_client("sagemaker")``, ``stack.emulator_control(...)``;
- ``stack.kill(name)`` (SIGKILL, whole process group), ``stack.restart(name)``,
  ``stack.start_component("triggerer-2", "triggerer")``, ``stack.components[name].pid``;
- ``stack.folder / "logs"``: each component's log; ``stack.aws_secret_access_key``.

The emulator is shared by every test of the session: do not reset it; give your runs unique
evaluation names and clear any fault you set.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack import AirflowStack
from devstack.airflow_stack import EXAMPLE_DAGS

STACK_DAGS = Path(__file__).resolve().parent / "dags"
#: Emulated step time: executions outlast the scheduler's handling of a deferral. (Airflow 3.3's
#: LocalExecutor fails a task whose trigger fires before the scheduler has read the exit of its
#: deferring workload: the late event finds the resumed try running.)
STEP_SECONDS = 5.0
#: The DAGs every stack test may use; the fixture waits until they are parsed.
STACK_DAG_IDS = (
    "stack_deferred",
    "stack_deferred_events",
    "stack_deferred_retries",
    "stack_deferred_load",
    "stack_blocking",
    "stack_deferred_timeout",
    "stack_sensor",
    "stack_stop",
    "stack_resume_failed",
    "stack_definition_variant",
    "example_sm_eval_benchmark",
    "example_sm_eval_event_driven",
)
#: Paused but by the event tests: its AssetWatcher would gate every benchmark of the suite.
PAUSED_DAG_IDS = ("example_sm_eval_event_driven",)


#: The pytest-xdist group of the tests that use the session's stack (tests/conftest.py sets it).
STACK_GROUP = "airflow_stack"


def uses_stack(item: pytest.Item) -> bool:
    """Whether ``item`` uses the session's stack (directly or through its fixtures)."""
    return "airflow_stack" in getattr(item, "fixturenames", ())


@pytest.fixture(scope="session")
def airflow_stack(request: pytest.FixtureRequest) -> Iterator[AirflowStack]:
    """A running local Airflow 3 stack: PostgreSQL, emulator, and Airflow's four components."""
    if hasattr(request.config, "workerinput"):  # a pytest-xdist worker: has it all the stack's tests?
        group = f"@{STACK_GROUP}"
        ungrouped = [
            i.nodeid for i in request.session.items if uses_stack(i) and not i.nodeid.endswith(group)
        ]
        if ungrouped:  # without --dist loadgroup (or its groups lost), each worker would start a stack
            raise pytest.UsageError(
                f"the stack's tests must share one worker: --dist loadgroup ({ungrouped[0]})"
            )
    keep = os.environ.get("SM_EVAL_STACK_KEEP")  # a folder: keep the stack's logs and database there
    with AirflowStack(
        [EXAMPLE_DAGS, STACK_DAGS],
        step_seconds=STEP_SECONDS,
        poll_seconds=1.0,
        folder=Path(keep) if keep else None,
    ) as stack:
        stack.wait_for_dags(STACK_DAG_IDS)
        for dag_id in PAUSED_DAG_IDS:
            stack.api.patch(f"/dags/{dag_id}", {"is_paused": True})
        yield stack
