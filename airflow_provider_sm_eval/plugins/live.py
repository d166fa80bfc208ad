"""Live reads of an execution for the pages, through the hook and the task's own ``aws`` connection.

The api-server calls SageMaker and S3 with the connection the task itself used (its rendered
``aws_conn_id``, ``region_name`` and ``verify``); only the results of the calls reach the
browser, never a credential. Calls time out quickly and are retried little, so a page never
hangs on AWS.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import islice, zip_longest
from typing import TYPE_CHECKING, Any

from airflow_provider_sm_eval.evaluation.results.llm_as_judge import JudgeExample

if TYPE_CHECKING:
    from airflow_provider_sm_eval.evaluation.execution import EvaluationPipelineExecution
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


@dataclass(frozen=True)
class ConnectionArgs:
    """The task's connection: its rendered ``aws_conn_id``, ``region_name`` and ``verify``."""

    aws_conn_id: str | None
    region_name: str | None
    verify: bool | str | None = None

    @classmethod
    def from_rendered(cls, rendered: Mapping[str, Any]) -> ConnectionArgs:
        """From the task's rendered template fields; ``aws_default`` when the task never rendered them."""
        conn_id = rendered.get("aws_conn_id", "aws_default")
        region = rendered.get("region_name")
        verify = rendered.get("verify")
        return cls(
            aws_conn_id=conn_id if isinstance(conn_id, str) or conn_id is None else "aws_default",
            region_name=region if isinstance(region, str) and region else None,
            verify=verify if isinstance(verify, bool | str) and verify != "" else None,
        )

    def hook(self) -> SageMakerEvaluationHook:
        from airflow_provider_sm_eval.hooks.evaluation import SageMakerEvaluationHook

        return SageMakerEvaluationHook(
            aws_conn_id=self.aws_conn_id,
            region_name=self.region_name,
            verify=self.verify,
            config=dict(PAGE_BOTOCORE_CONFIG),
        )


@dataclass(frozen=True)
class ExamplePair:
    """The ``index``-th per-example record of each model (either may be missing)."""

    index: int
    custom: JudgeExample | None
    base: JudgeExample | None


def describe(connection: ConnectionArgs, execution_arn: str) -> EvaluationPipelineExecution:
    """The execution now: DescribePipelineExecution and its steps."""
    return connection.hook().get_execution(execution_arn)


def judge_examples(connection: ConnectionArgs, execution_arn: str, limit: int) -> list[ExamplePair]:
    """The first ``limit`` per-example judge records of each model, paired by index (streamed, bounded)."""
    from airflow_provider_sm_eval.evaluation.results.llm_as_judge import iter_examples, read_llmaj_results
    from airflow_provider_sm_eval.evaluation.results.locations import ModelRole

    hook = connection.hook()
    execution = hook.get_execution(execution_arn)
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
    """What the page says about a failed live read: the error's kind and message (never a credential)."""
    code = getattr(error, "response", {}).get("Error", {}).get("Code") if hasattr(error, "response") else None
    message = str(error).strip() or type(error).__name__
    return f"{code or type(error).__name__}: {clip(message)}"
