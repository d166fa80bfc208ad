"""The ``aws`` connection arguments and the cached hook shared by the operators, the sensor and the trigger.

Mirrors the amazon provider's ``AwsBaseHookMixin`` (``aws_hook_class``, ``_hook_parameters``,
a cached ``hook``) and ``aws_template_fields``. The amazon classes themselves are not reused:
importing them loads boto3 at DAG parse time. Here the hook class is imported on first use.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_sm_eval.connection_args import ConnectionArgs

if TYPE_CHECKING:
    from airflow_provider_sm_eval.hooks.evaluation import SageMakerEvaluationHook

#: Connection arguments every operator and sensor of the provider templates.
_CONNECTION_TEMPLATE_FIELDS = ("aws_conn_id", "region_name", "verify")


def aws_template_fields(*template_fields: str) -> tuple[str, ...]:
    """``template_fields`` followed by the connection arguments (in that order, without repeats)."""
    return tuple(dict.fromkeys((*template_fields, *_CONNECTION_TEMPLATE_FIELDS)))


class EvaluationHookMixin:
    """Holds the ``aws`` connection arguments and builds the hook from them once, when first needed.

    :param aws_conn_id: Airflow ``aws`` connection (only its id: the credentials stay in it).
    :param region_name: AWS region overriding the connection's.
    :param verify: TLS verification of the endpoints (bool or CA bundle path).
    :param botocore_config: botocore ``Config`` arguments as a JSON-safe dict.
    """

    aws_conn_id: str | None
    region_name: str | None
    verify: bool | str | None
    botocore_config: dict[str, Any] | None

    def set_connection_args(self, connection: ConnectionArgs) -> None:
        """Hold ``connection`` as the attributes that Airflow renders one by one."""
        self.aws_conn_id = connection.aws_conn_id
        self.region_name = connection.region_name
        self.verify = connection.verify
        self.botocore_config = dict(connection.botocore_config) if connection.botocore_config else None

    @property
    def aws_hook_class(self) -> type[SageMakerEvaluationHook]:
        """The hook class, imported here so that building an operator never loads boto3."""
        from airflow_provider_sm_eval.hooks.evaluation import SageMakerEvaluationHook

        return SageMakerEvaluationHook

    @property
    def _hook_parameters(self) -> dict[str, Any]:
        """The hook's arguments (the amazon mixin's name): ``botocore_config`` passed as ``config``."""
        return self.connection_args.hook_kwargs()

    @cached_property
    def hook(self) -> SageMakerEvaluationHook:
        """The hook of the (rendered) connection arguments, built on first use and then reused."""
        return self.aws_hook_class(**self._hook_parameters)

    @property
    def connection_args(self) -> ConnectionArgs:
        """The (rendered) connection arguments as one value; ``as_kwargs()`` gives a trigger's kwargs."""
        return ConnectionArgs(self.aws_conn_id, self.region_name, self.verify, self.botocore_config)
