"""One base for every operator and sensor: connection arguments, their template fields, one cached hook."""

from __future__ import annotations

import pytest

from airflow_provider_sm_eval.get_provider_info import get_provider_info
from airflow_provider_sm_eval.hooks.evaluation import SageMakerEvaluationHook
from airflow_provider_sm_eval.operators.base import EvaluationBaseOperator
from airflow_provider_sm_eval.operators.stop_evaluation import StopEvaluationOperator
from tests.airflow.airflow_test_support import UNKNOWN_EXECUTION_ARN


def provider_classes() -> list[type]:
    import importlib
    import inspect

    info = get_provider_info()
    modules = [m for section in ("operators", "sensors") for e in info[section] for m in e["python-modules"]]
    return [
        cls
        for module in map(importlib.import_module, modules)
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if cls.__module__ == module.__name__ and cls.__name__.endswith(("Operator", "Sensor"))
    ]


@pytest.mark.parametrize("cls", provider_classes(), ids=lambda cls: cls.__name__)
def test_every_operator_and_sensor_derives_from_the_base_and_templates_the_connection(cls: type) -> None:
    assert issubclass(cls, EvaluationBaseOperator)
    assert {"aws_conn_id", "region_name", "verify"} <= set(cls.template_fields)
    assert len(set(cls.template_fields)) == len(cls.template_fields)


def test_hook_is_built_once_from_the_connection_arguments() -> None:
    op = StopEvaluationOperator(
        task_id="stop",
        execution_arn=UNKNOWN_EXECUTION_ARN,
        aws_conn_id="some_conn",
        region_name="eu-west-1",
        verify=False,
        botocore_config={"read_timeout": 7},
    )

    hook = op.hook

    assert isinstance(hook, SageMakerEvaluationHook)
    assert op.hook is hook
    assert (hook.aws_conn_id, hook.region_name, hook.verify) == ("some_conn", "eu-west-1", False)
    assert op.connection_args.as_kwargs() == {
        "aws_conn_id": "some_conn",
        "region_name": "eu-west-1",
        "verify": False,
        "botocore_config": {"read_timeout": 7},
    }


def test_one_connection_value_reaches_the_hook_and_the_trigger() -> None:
    """The operator's rendered arguments, the hook it builds and the trigger it defers to hold one value."""
    from airflow_provider_sm_eval.triggers.evaluation_execution import EvaluationExecutionTrigger

    op = StopEvaluationOperator(
        task_id="stop",
        execution_arn=UNKNOWN_EXECUTION_ARN,
        aws_conn_id="some_conn",
        region_name="eu-west-1",
        verify="/etc/ca.pem",
        botocore_config={"read_timeout": 7, "connect_timeout": 3},
    )
    op.region_name = "us-west-2"  # as Airflow renders a template field

    trigger = EvaluationExecutionTrigger(UNKNOWN_EXECUTION_ARN, **op.connection_args.as_kwargs())

    assert trigger.connection_args == op.connection_args == op.hook.connection_args
    assert op.hook.region_name == "us-west-2"
    rebuilt = EvaluationExecutionTrigger(**trigger.serialize()[1])
    assert rebuilt.connection_args.cache_key() == op.connection_args.cache_key()
