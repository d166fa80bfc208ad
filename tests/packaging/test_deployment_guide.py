"""The README's deployment guide names only settings, IAM actions and commands that exist.

What can be checked without a deployment is checked: every Airflow setting it names
(``[section] option`` or ``AIRFLOW__SECTION__OPTION``) is one Airflow or this provider reads, every
IAM action in its policies and prose is one AWS's service models know, the one-role policy is the
union of the runtime components' policies, and its event set-up commands parse.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest

from devstack.iam_policy import API_SERVERS, EVENT_SETUP, ONE_ROLE, RUNTIME_COMPONENTS, readme_policies

README = Path(__file__).resolve().parents[2] / "README.md"
#: IAM actions that authorise an operation of another name, or no API operation at all.
PERMISSION_ONLY = {
    "s3:ListBucket": "authorises ListObjects and ListObjectsV2",
    "iam:PassRole": "authorises passing the pipeline's role in CreatePipeline and UpdatePipeline",
}
#: IAM service prefix -> botocore's service name.
BOTOCORE_SERVICE = {"sagemaker": "sagemaker", "s3": "s3", "sqs": "sqs", "events": "events", "iam": "iam"}
_SETTING = re.compile(r"`\[([a-z_]+)\] ([a-z_]+)")
_ENV_SETTING = re.compile(r"\bAIRFLOW__([A-Z0-9_]+?)__([A-Z0-9_]+)\b")
_ACTION = re.compile(r"`((?:sagemaker|s3|sqs|events|iam):[A-Z][A-Za-z]+)`")


def _named_settings(text: str) -> set[tuple[str, str]]:
    named = {(section, option) for section, option in _SETTING.findall(text)}
    named |= {(section.lower(), option.lower()) for section, option in _ENV_SETTING.findall(text)}
    return named


def _provider_options() -> set[str]:
    """The ``[sm_eval]`` options of this provider, as its metadata declares them."""
    from airflow_provider_sm_eval.get_provider_info import get_provider_info

    return set(get_provider_info()["config"]["sm_eval"]["options"])


def _known(section: str, option: str) -> bool:
    """An option Airflow (or an installed provider) describes, under its current name, or one of ours."""
    from airflow.configuration import conf

    if section == "sm_eval":
        return option in _provider_options()
    deprecated = {(old[0], old[1]) for old in conf.deprecated_options.values()}
    described = conf.configuration_description.get(section, {}).get("options", {})
    return (section, option) not in deprecated and option in described


def test_every_airflow_setting_the_readme_names_exists() -> None:
    named = _named_settings(README.read_text())

    assert ("triggerer", "capacity") in named and ("sm_eval", "ui_plugin_enabled") in named
    assert sorted(setting for setting in named if not _known(*setting)) == []


def test_a_setting_that_does_not_exist_is_caught() -> None:
    named = _named_settings("`[triggerer] default_capacity` and AIRFLOW__SM_EVAL__EVENTS_ON")

    assert sorted(setting for setting in named if not _known(*setting)) == [
        ("sm_eval", "events_on"),
        ("triggerer", "default_capacity"),
    ]


def _unknown_actions(actions: set[str]) -> list[str]:
    import botocore.session

    session = botocore.session.get_session()
    operations = {
        prefix: set(session.get_service_model(service).operation_names)
        for prefix, service in BOTOCORE_SERVICE.items()
    }
    return sorted(
        action
        for action in actions
        if action not in PERMISSION_ONLY and action.split(":")[1] not in operations[action.split(":")[0]]
    )


def _policy_actions(policy: dict[str, Any]) -> set[str]:
    actions: set[str] = set()
    for statement in policy["Statement"]:
        action = statement["Action"]
        actions |= {action} if isinstance(action, str) else set(action)
    return actions


def test_every_iam_action_the_readme_names_is_one_aws_knows() -> None:
    policies = readme_policies(README)
    in_policies = set().union(*(_policy_actions(policy) for policy in policies.values()))
    in_prose = set(_ACTION.findall(README.read_text()))

    assert {*RUNTIME_COMPONENTS, EVENT_SETUP, ONE_ROLE} <= set(policies)
    assert "sqs:ReceiveMessage" in in_policies and "sqs:DeleteQueue" in in_prose
    assert _unknown_actions(in_policies | in_prose) == []


def test_an_action_aws_does_not_know_is_caught() -> None:
    assert _unknown_actions({"sagemaker:DescribeEvaluation", "sqs:ReceiveMessages", "s3:GetObject"}) == [
        "sagemaker:DescribeEvaluation",
        "sqs:ReceiveMessages",
    ]


def _grants(policy: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(action, resource, condition) of every statement, one per pair."""
    grants = set()
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        condition = json.dumps(statement.get("Condition"), sort_keys=True)
        grants |= {(action, resource, condition) for action in actions for resource in resources}
    return grants


def test_the_one_role_policy_is_the_union_of_the_runtime_components() -> None:
    policies = readme_policies(README)
    union = set().union(*(_grants(policies[component]) for component in RUNTIME_COMPONENTS))

    assert _grants(policies[ONE_ROLE]) == union
    # The API servers only read.
    assert all(
        action.split(":")[1].startswith(("Describe", "List", "Get"))
        for action, _, _ in _grants(policies[API_SERVERS])
    )


def test_the_guides_event_setup_commands_parse() -> None:
    from airflow_provider_sm_eval.provisioning.event_setup import main

    prefix = "sm-eval-event-setup "
    commands = [line.strip() for line in README.read_text().splitlines() if line.strip().startswith(prefix)]
    assert len(commands) >= 3
    for command in commands:
        arguments = [argument for argument in shlex.split(command[len(prefix) :]) if argument != "--print"]
        arguments = arguments[: arguments.index(">")] if ">" in arguments else arguments
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            assert main([*arguments, "--print"]) == 0  # the template: no AWS call
        assert json.loads(printed.getvalue())["Outputs"]


def test_the_requirements_the_guide_names_are_the_packages() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    dependencies = tomllib.loads((README.parent / "pyproject.toml").read_text())["project"]["dependencies"]
    named = re.findall(r"`(apache-airflow-providers-[a-z-]+>=[0-9.]+)`", README.read_text())

    assert (
        named
        and sorted(set(named) - {dependency.replace("[aiobotocore]", "") for dependency in dependencies})
        == []
    )


def test_the_helm_values_set_only_settings_that_exist() -> None:
    """The chart's ``config`` (``airflow.cfg`` sections) and ``env`` of the guide's values."""
    import yaml

    blocks = re.findall(r"```yaml\n(.*?)```", README.read_text(), re.S)
    values = next(yaml.safe_load(block) for block in blocks if "apiServer:" in block)
    settings = {(section, option) for section, options in values["config"].items() for option in options}
    settings |= _named_settings(" ".join(item["name"] for item in values["env"]))
    settings |= _named_settings(" ".join(item["envName"] for item in values["secret"]))

    assert ("triggerer", "capacity") in settings
    assert sorted(setting for setting in settings if not _known(*setting)) == []
