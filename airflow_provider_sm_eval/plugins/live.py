"""Live reads of an execution for the pages, through the hook and the task's own ``aws`` connection.

The api-server calls SageMaker and S3 with the connection the task itself used (its rendered
``aws_conn_id``, ``region_name`` and ``verify``); only the results of the calls reach the
browser, never a credential. Calls time out quickly and are retried little, so a page never
hangs on AWS.

Which execution a task's page shows comes from its XComs, which users may write through the REST
API: it is never trusted. :func:`owned_execution` proves the execution was started by a task
instance of the page's DAG run (the marker the start operator put in its description), and every
live read takes the :class:`OwnedExecution` it returns, never a bare ARN.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice, zip_longest
from typing import TYPE_CHECKING, Any

from airflow_provider_sm_eval.connection_args import DEFAULT_CONN_ID, ConnectionArgs
from airflow_provider_sm_eval.evaluation.clients import aws_errors
from airflow_provider_sm_eval.evaluation.exceptions import EvaluationAWSError
from airflow_provider_sm_eval.evaluation.results.llm_as_judge import JudgeExample
from airflow_provider_sm_eval.utils.reattach import TaskInstanceIdentity, marker_keys

if TYPE_CHECKING:
    from airflow_provider_sm_eval.evaluation.models import EvaluationExecutionData
    from airflow_provider_sm_eval.hooks.evaluation import SageMakerEvaluationHook

#: botocore settings of the pages' calls: a page answers in seconds, even when AWS does not.
PAGE_BOTOCORE_CONFIG: Mapping[str, Any] = {
    "connect_timeout": 5,
    "read_timeout": 15,
    "retries": {"max_attempts": 2, "mode": "standard"},
}
#: Most per-example records a page shows (per model).
MAX_EXAMPLES = 20
#: Characters of a prompt, response or explanation shown.
MAX_TEXT_CHARS = 600
#: The user info of a URL (``scheme://user:password@``): never shown, never logged.
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]*@")


def task_connection(rendered: Mapping[str, Any]) -> ConnectionArgs:
    """The task's connection, from its rendered ``aws_conn_id``, ``region_name`` and ``verify``
    (``aws_default`` when the task never rendered them), with the page's botocore settings."""
    conn_id = rendered.get("aws_conn_id", DEFAULT_CONN_ID)
    region = rendered.get("region_name")
    verify = rendered.get("verify")
    return ConnectionArgs(
        aws_conn_id=conn_id if isinstance(conn_id, str) or conn_id is None else DEFAULT_CONN_ID,
        region_name=region if isinstance(region, str) and region else None,
        verify=verify if isinstance(verify, bool | str) and verify != "" else None,
        botocore_config=PAGE_BOTOCORE_CONFIG,
    )


@dataclass(frozen=True)
class ExamplePair:
    """The ``index``-th per-example record of each model (either may be missing)."""

    index: int
    custom: JudgeExample | None
    base: JudgeExample | None


class ForeignExecutionError(Exception):
    """The execution was not started by a task instance of the DAG run whose page asks for it."""


@dataclass(frozen=True)
class OwnedExecution:
    """An execution proven started by ``started_by``, a task instance of the DAG run a page shows.

    Only :func:`owned_execution` makes one; the live reads take one.
    """

    arn: str
    started_by: TaskInstanceIdentity
    hook: SageMakerEvaluationHook = field(repr=False, compare=False)


def owned_execution(
    connection: ConnectionArgs, execution_arn: str, run_tasks: Sequence[TaskInstanceIdentity]
) -> OwnedExecution:
    """The ownership check every live read goes through.

    Describes the execution (DescribePipelineExecution only) and requires its description to
    carry exactly one task-instance marker, the key of one of ``run_tasks``: the task instances
    of the page's DAG run, read from the metadata database (which XCom writers cannot change).
    Raises ForeignExecutionError otherwise, and the AWS call's error when the describe fails.
    """
    from airflow_provider_sm_eval.hooks.evaluation import SageMakerEvaluationHook

    hook = SageMakerEvaluationHook(**connection.hook_kwargs())
    with aws_errors("DescribePipelineExecution", execution_arn):
        described = hook.aws_clients.sagemaker.describe_pipeline_execution(PipelineExecutionArn=execution_arn)
    keys = set(marker_keys(described.get("PipelineExecutionDescription")))
    owners = [task for task in run_tasks if task.key in keys]
    if len(keys) != 1 or not owners:
        raise ForeignExecutionError(
            f"Execution {execution_arn} was not started by a task of this DAG run "
            f"(its description names {'no task instance' if not keys else 'another task instance'})."
        )
    return OwnedExecution(arn=execution_arn, started_by=owners[0], hook=hook)


def describe(owned: OwnedExecution) -> EvaluationExecutionData:
    """The execution now: DescribePipelineExecution and its steps."""
    return owned.hook.get_execution(owned.arn)


def judge_examples(owned: OwnedExecution, limit: int) -> list[ExamplePair]:
    """The first ``limit`` per-example judge records of each model, paired by index (streamed, bounded)."""
    from airflow_provider_sm_eval.evaluation.results.llm_as_judge import iter_examples, read_llmaj_results
    from airflow_provider_sm_eval.evaluation.results.locations import ModelRole

    hook = owned.hook
    execution = hook.get_execution(owned.arn)
    results = read_llmaj_results(execution, hook.s3_client)
    limit = max(0, min(limit, MAX_EXAMPLES))
    streams = {
        role: list(islice(iter_examples(hook.s3_client, model.examples_uri), limit))
        for role, model in results.models.items()
    }
    return [
        ExamplePair(index=index, custom=custom, base=base)
        for index, (custom, base) in enumerate(
            zip_longest(streams.get(ModelRole.CUSTOM, []), streams.get(ModelRole.BASE, []))
        )
    ]


def clip(text: str | None) -> str | None:
    if text is None or len(text) <= MAX_TEXT_CHARS:
        return text
    return text[: MAX_TEXT_CHARS - 1] + "\u2026"


def error_text(error: Exception) -> str:
    """What a page says about a failed AWS read: the error code and message when AWS answered, else
    only the error's kind.

    A client-side error's message is never shown: it can quote the connection (an
    ``endpoint_url`` with ``user:password@``, other extras). URL user info is cut from AWS's
    messages too.
    """
    if isinstance(error, EvaluationAWSError):
        code, message = error.code, error.message
    else:
        details = getattr(error, "response", None)
        details = details.get("Error") if isinstance(details, Mapping) else None
        if not isinstance(details, Mapping) or not details.get("Code"):
            return f"{type(error).__name__} (details in the api-server log)"
        code, message = str(details["Code"]), str(details.get("Message") or "")
    return f"{code}: {clip(redact(message))}"


def redact(text: str) -> str:
    """``text`` without the user info of the URLs it quotes (what the api-server log gets)."""
    return _URL_USERINFO.sub(r"\1***@", text)
