"""event_setup's CLI against the emulator's EventBridge and SQS (moto): names checked before any call,
re-runs that converge, one policy statement per rule, nothing left behind by a refusal, --print."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
import yaml

from airflow_provider_sm_eval.provisioning.event_setup import event_pattern, main
from sagemaker_eval_emulator import EvaluationEmulator

pytestmark = pytest.mark.timeout(60)

ACCOUNT = "123456789012"
MODULE = "airflow_provider_sm_eval.provisioning.event_setup"
#: The queue's attributes as the set-up makes them (long polls, an hour's retention).
QUEUE_ATTRIBUTES = {"ReceiveMessageWaitTimeSeconds": "20", "MessageRetentionPeriod": "3600"}


def run_cli(*argv: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """``main(argv)`` as the shell runs it; its printed JSON."""
    assert main(list(argv)) == 0
    return dict(json.loads(capsys.readouterr().out))


def refused(*argv: str, capsys: pytest.CaptureFixture[str]) -> str:
    """``main(argv)`` exits with a usage error; its stderr."""
    with pytest.raises(SystemExit) as exit_:
        main(list(argv))
    assert exit_.value.code == 2
    return capsys.readouterr().err


def queue_urls(emulator: EvaluationEmulator) -> list[str]:
    return list(emulator.client("sqs").list_queues().get("QueueUrls", []))


def rule_names(emulator: EvaluationEmulator) -> list[str]:
    return [rule["Name"] for rule in emulator.client("events").list_rules()["Rules"]]


def statements(emulator: EvaluationEmulator, queue_url: str) -> list[dict[str, Any]]:
    attributes = emulator.client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=["Policy"])
    return list(json.loads(attributes["Attributes"]["Policy"])["Statement"])


@pytest.mark.hostile("event_setup")
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--queue-name", "q", "--rule-name", "r" * 65], "rule_name 'rrrr"),
        (["--queue-name", "q", "--rule-name", "r" * 80], "(80 characters)"),
        (["--queue-name", "q" * 60], "QUEUE_NAME-rule from queue_name"),
        (["--queue-name", "events.fifo"], "names a FIFO queue"),
    ],
)
def test_a_name_aws_would_refuse_is_refused_before_any_call(
    sm_eval_aws_env: EvaluationEmulator, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    """Hostile tester: rule names of 65 to 80 characters passed, after the queue was created."""
    sm_eval_aws_env.calls.reset()

    error = refused(*argv, capsys=capsys)

    assert message in error
    assert "must be" in error or "FIFO" in error
    assert sm_eval_aws_env.calls.total() == 0, sm_eval_aws_env.calls.counts()
    assert queue_urls(sm_eval_aws_env) == [] and rule_names(sm_eval_aws_env) == []


@pytest.mark.hostile("event_setup")
@pytest.mark.parametrize("refused_call", ["PutRule", "PutTargets", "SetQueueAttributes"])
def test_a_refused_call_leaves_nothing_this_run_created(
    sm_eval_aws_env: EvaluationEmulator, capsys: pytest.CaptureFixture[str], refused_call: str
) -> None:
    """Hostile tester: the queue was created before the rule was refused, and stayed."""
    sm_eval_aws_env.faults.fail_call(refused_call, "AccessDeniedException", "not allowed")

    with pytest.raises(Exception, match=f"{refused_call} operation: not allowed"):
        main(["--queue-name", "sm-eval-refused"])

    assert queue_urls(sm_eval_aws_env) == []
    assert rule_names(sm_eval_aws_env) == []
    assert "deleted the queue" in capsys.readouterr().err


@pytest.mark.hostile("event_setup")
def test_a_refusal_on_a_re_run_keeps_what_was_there(
    sm_eval_aws_env: EvaluationEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    made = run_cli("--queue-name", "sm-eval-kept", capsys=capsys)
    sm_eval_aws_env.faults.fail_call("PutTargets", "AccessDeniedException", "not allowed")

    with pytest.raises(Exception, match="not allowed"):
        main(["--queue-name", "sm-eval-kept", "--rule-name", "second-rule"])

    assert queue_urls(sm_eval_aws_env) == [made["event_queue_url"]], "the queue it did not create stays"
    assert rule_names(sm_eval_aws_env) == ["sm-eval-kept-rule"], "the new rule is deleted again"


@pytest.mark.hostile("event_setup")
def test_a_re_run_converges_on_a_queue_whose_attributes_changed(
    sm_eval_aws_env: EvaluationEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    """Hostile tester: a re-run failed with QueueAlreadyExists once the queue's attributes changed."""
    sqs = sm_eval_aws_env.client("sqs")
    url = sqs.create_queue(QueueName="sm-eval-drifted", Attributes={"MessageRetentionPeriod": "60"})[
        "QueueUrl"
    ]

    made = run_cli("--queue-name", "sm-eval-drifted", capsys=capsys)
    again = run_cli("--queue-name", "sm-eval-drifted", capsys=capsys)

    assert made == again and made["event_queue_url"] == url
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert {name: attributes[name] for name in QUEUE_ATTRIBUTES} == QUEUE_ATTRIBUTES
    assert len(statements(sm_eval_aws_env, url)) == 1, "a re-run does not add a statement"


@pytest.mark.hostile("event_setup")
def test_each_rule_on_a_queue_keeps_its_own_policy_statement(
    sm_eval_aws_env: EvaluationEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    """Hostile tester: a second rule on the same queue overwrote the first rule's permission."""
    first = run_cli("--queue-name", "sm-eval-shared", capsys=capsys)
    second = run_cli("--queue-name", "sm-eval-shared", "--rule-name", "sm-eval-second", capsys=capsys)
    run_cli("--queue-name", "sm-eval-shared", capsys=capsys)

    allowed = {
        s["Condition"]["ArnEquals"]["aws:SourceArn"]
        for s in statements(sm_eval_aws_env, first["event_queue_url"])
    }
    assert allowed == {first["rule_arn"], second["rule_arn"]}
    assert len(statements(sm_eval_aws_env, first["event_queue_url"])) == 2


def test_an_owner_statement_of_the_queue_policy_is_kept(
    sm_eval_aws_env: EvaluationEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    sqs = sm_eval_aws_env.client("sqs")
    url = sqs.create_queue(QueueName="sm-eval-owned")["QueueUrl"]
    owner = {
        "Sid": "Owner",
        "Effect": "Allow",
        "Principal": {"AWS": ACCOUNT},
        "Action": "sqs:*",
        "Resource": "*",
    }
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({"Statement": owner})})

    run_cli("--queue-name", "sm-eval-owned", capsys=capsys)

    assert [s["Sid"] for s in statements(sm_eval_aws_env, url)] == [
        "Owner",
        "EvaluationStatusEvents-sm-eval-owned-rule",
    ]


def test_print_outputs_the_cloudformation_of_the_same_resources() -> None:
    """``--print`` makes no AWS call (it runs without credentials or endpoint); the template parses."""
    printed = subprocess.run(
        [sys.executable, "-m", MODULE, "--print", "--queue-name", "sm-eval-cfn"],
        capture_output=True,
        text=True,
        check=True,
        env={
            "PATH": "/usr/bin:/bin",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        },
    ).stdout
    template = yaml.safe_load(printed)  # JSON, which YAML (CloudFormation's other format) reads too
    assert template == json.loads(printed)

    resources = template["Resources"]
    assert {name: r["Type"] for name, r in resources.items()} == {
        "EvaluationEventsQueue": "AWS::SQS::Queue",
        "EvaluationEventsRule": "AWS::Events::Rule",
        "EvaluationEventsQueuePolicy": "AWS::SQS::QueuePolicy",
    }
    rule = resources["EvaluationEventsRule"]["Properties"]
    assert rule["Name"] == "sm-eval-cfn-rule"
    assert rule["Targets"] == [
        {"Id": "evaluation-events-queue", "Arn": {"Fn::GetAtt": ["EvaluationEventsQueue", "Arn"]}}
    ]
    (statement,) = resources["EvaluationEventsQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Condition"] == {
        "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["EvaluationEventsRule", "Arn"]}}
    }
    assert resources["EvaluationEventsQueuePolicy"]["Properties"]["Queues"] == [
        {"Ref": "EvaluationEventsQueue"}
    ]

    queue = resources["EvaluationEventsQueue"]["Properties"]
    assert queue["QueueName"] == "sm-eval-cfn"
    assert {name: str(queue[name]) for name in QUEUE_ATTRIBUTES} == QUEUE_ATTRIBUTES
    pattern = json.dumps(rule["EventPattern"])
    sub = json.dumps(rule["EventPattern"]["detail"]["pipelineArn"][0]["prefix"])
    pseudo = {"${AWS::Partition}": "aws", "${AWS::Region}": "eu-west-1", "${AWS::AccountId}": ACCOUNT}
    prefix = json.loads(sub)["Fn::Sub"]
    for name, value in pseudo.items():
        prefix = prefix.replace(name, value)
    resolved = json.loads(pattern.replace(sub, json.dumps(prefix)))
    assert resolved == event_pattern("aws", "eu-west-1", ACCOUNT), "the pattern ensure_event_queue puts"


@pytest.mark.hostile("event_setup")
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--queue-name", "q", "--rule-name", "r" * 65], "rule_name 'rrrr"),
        (["--queue-name", "q", "--rule-name", "my rule"], "rule_name 'my rule'"),
        (["--queue-name", "q" * 81], "queue_name 'qqqq"),
        (["--queue-name", "q/x"], "queue_name 'q/x' must be 1-80"),
    ],
)
def test_print_refuses_the_names_aws_would_refuse(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert message in refused("--print", *argv, capsys=capsys)


def test_the_tool_is_installed_as_a_command() -> None:
    from importlib.metadata import entry_points

    (script,) = entry_points(group="console_scripts", name="sm-eval-event-setup")

    assert script.load() is main
