"""What this provider's operators, sensor and trigger share to reach SageMaker.

The ``aws`` connection arguments (only the connection's id: its credentials stay in it), the
hook built from them when first needed, and the check of an execution ARN argument. Cheap to
import: the hook module (boto3) is imported only when a hook is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_sm_eval.evaluation.arns import ExecutionArn, parse_execution_arn
from airflow_provider_sm_eval.version_compat import AirflowFailException

if TYPE_CHECKING:
    from airflow_provider_sm_eval.hooks.evaluation import SageMakerEvaluationHook

#: Connection arguments that DAG authors may template.
AWS_TEMPLATE_FIELDS: tuple[str, ...] = ("aws_conn_id", "region_name")


class EvaluationHookMixin:
    """Holds the ``aws`` connection arguments and builds a SageMakerEvaluationHook from them.

    :param aws_conn_id: Airflow ``aws`` connection.
    :param region_name: AWS region overriding the connection's.
    :param verify: TLS verification of the endpoints.
    :param botocore_config: botocore ``Config`` arguments as a JSON-safe dict.
    """

    aws_conn_id: str | None
    region_name: str | None
    verify: bool | str | None
    botocore_config: dict[str, Any] | None

    def set_connection_args(
        self,
        aws_conn_id: str | None,
        region_name: str | None,
        verify: bool | str | None,
        botocore_config: dict[str, Any] | None,
    ) -> None:
        self.aws_conn_id = aws_conn_id
        self.region_name = region_name
        self.verify = verify
        self.botocore_config = botocore_config

    @property
    def connection_args(self) -> dict[str, Any]:
        """The connection arguments as JSON-safe, secret-free kwargs (for triggers)."""
        return {
            "aws_conn_id": self.aws_conn_id,
            "region_name": self.region_name,
            "verify": self.verify,
            "botocore_config": self.botocore_config,
        }

    @property
    def hook(self) -> SageMakerEvaluationHook:
        from airflow_provider_sm_eval.hooks.evaluation import SageMakerEvaluationHook

        return SageMakerEvaluationHook(
            aws_conn_id=self.aws_conn_id,
            region_name=self.region_name,
            verify=self.verify,
            config=self.botocore_config,
        )


def require_execution_arn(value: str, *, name: str = "execution_arn") -> ExecutionArn:
    """``value`` parsed as a pipeline execution ARN; a malformed one fails the task without retries."""
    try:
        return parse_execution_arn(value, name=name)
    except ValueError as error:
        raise AirflowFailException(str(error)) from None
