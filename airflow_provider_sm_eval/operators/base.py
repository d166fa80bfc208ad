"""EvaluationBaseOperator: the base of every operator and sensor of the provider.

Like the amazon provider's ``AwsBaseOperator``: it owns the ``aws`` connection arguments, templates
them (``aws_template_fields``) and builds the hook once (``hook``). A sensor derives from it and
from ``BaseSensorOperator``, so the connection arguments are declared here only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_provider_sm_eval.connection_args import ConnectionArgs
from airflow_provider_sm_eval.utils.mixins import EvaluationHookMixin, aws_template_fields
from airflow_provider_sm_eval.version_compat import BaseOperator


class EvaluationBaseOperator(EvaluationHookMixin, BaseOperator):
    """An operator that reaches SageMaker through ``SageMakerEvaluationHook``.

    :param aws_conn_id: Airflow ``aws`` connection (None: boto3's default chain). Templated.
    :param region_name: AWS region overriding the connection's. Templated.
    :param verify: TLS verification of the endpoints (bool or CA bundle path). Templated.
    :param botocore_config: botocore ``Config`` arguments (JSON-safe dict); merged over the
        provider's default retry policy.
    """

    template_fields: Sequence[str] = aws_template_fields()

    def __init__(
        self,
        *,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.set_connection_args(ConnectionArgs(aws_conn_id, region_name, verify, botocore_config))
