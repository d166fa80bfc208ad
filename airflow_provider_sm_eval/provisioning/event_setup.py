"""The provisioning tool of event-driven waits: an EventBridge rule sending evaluation status changes to SQS.

A tool of its own, apart from the runtime: nothing the triggers, hooks or operators run imports
it. It shares only the events' vocabulary with them (:mod:`..evaluation.pipeline_events`).

SageMaker publishes "SageMaker Model Building Pipeline Execution Status Change" events to the
default event bus. :func:`ensure_event_queue` creates (or updates, idempotently) what a
deferred wait with ``event_queue_url`` needs:

- an SQS queue (long polling on by default, messages kept 1 hour);
- a rule on the default bus whose pattern (:func:`event_pattern`) matches the execution status
  changes of the evaluation pipelines of this account and region;
- the rule's target (the queue) and a queue policy letting ``events.amazonaws.com`` send to it
  for that rule only.

From a shell (credentials from the usual boto3 chain)::

    sm-eval-event-setup --queue-name sm-eval-events --region us-east-1

(or ``python -m airflow_provider_sm_eval.provisioning.event_setup``). It prints the queue URL:
set it as ``[sm_eval] event_queue_url`` or a task's ``event_queue_url``, and as the queue of an
``AssetWatcher`` (see ``example_dags/example_sm_eval_event_driven.py``).

Names are checked as AWS checks them before any call (the rule name against botocore's model of
PutRule). A re-run converges (an existing queue gets these attributes; each rule keeps its own
statement, by Sid, in the queue policy), and a refused call deletes what the run created
before the error is raised. ``--print`` prints the CloudFormation template of the same
resources instead, making no AWS call.
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from airflow_provider_sm_eval.evaluation.pipeline_events import (
    EXECUTION_STATUS_CHANGE,
    PIPELINE_ARN_NAME_PREFIX,
    SOURCE,
    STANDARD_QUEUE_NAME,
)

_QUEUE_NAME = re.compile(f"^{STANDARD_QUEUE_NAME}$")
#: Settings of the queue: long polling on by default, messages kept an hour.
QUEUE_ATTRIBUTES = {"ReceiveMessageWaitTimeSeconds": "20", "MessageRetentionPeriod": "3600"}
#: Id of the rule's target (the queue).
TARGET_ID = "evaluation-events-queue"
#: Start of the Sid of a rule's statement in the queue policy; the rule name follows.
STATEMENT_SID_PREFIX = "EvaluationStatusEvents-"
_BY = "airflow-provider-sm-eval"
_RULE_DESCRIPTION = f"SageMaker evaluation execution status changes, for {_BY}"


@functools.cache
def _rule_name_shape() -> tuple[int, int, re.Pattern[str]]:
    """Length limits and pattern of an EventBridge rule name, from botocore's model of PutRule."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("events")
    request = model.operation_model("PutRule").input_shape
    assert request is not None  # PutRule takes a request
    metadata = request.members["Name"].metadata
    return int(metadata["min"]), int(metadata["max"]), re.compile(f"^(?:{metadata['pattern']})$")


def validate_queue_name(value: Any) -> str:
    """``value`` when SQS accepts it as this set-up's (standard) queue name; ValueError otherwise."""
    if isinstance(value, str) and value.endswith(".fifo"):
        raise ValueError(
            f"queue_name {value!r} names a FIFO queue: the events need a standard queue (a FIFO "
            "queue's message groups would hold back the events a triggerer releases to the others)"
        )
    if not isinstance(value, str) or not _QUEUE_NAME.match(value):
        raise ValueError(f"queue_name {value!r} must be 1-80 letters, digits, hyphens or underscores")
    return value


def validate_rule_name(value: Any, *, derived_from: str | None = None) -> str:
    """``value`` when EventBridge accepts it as a rule name (botocore's limits); ValueError otherwise."""
    low, high, pattern = _rule_name_shape()
    if isinstance(value, str) and low <= len(value) <= high and pattern.match(value):
        return value
    origin = f" (QUEUE_NAME-rule from queue_name {derived_from!r}: give a rule_name)" if derived_from else ""
    shown = f"{value[:100]!r} ({len(value)} characters)" if isinstance(value, str) else repr(value)
    raise ValueError(
        f"rule_name {shown}{origin} must be {low}-{high} characters of letters, digits, '.', '-' or '_'"
    )


def pipeline_arn_prefix(partition: str, region: str, account: str) -> str:
    """The ARN prefix of this account's and region's evaluation pipelines."""
    return f"arn:{partition}:sagemaker:{region}:{account}:pipeline/{PIPELINE_ARN_NAME_PREFIX}"


def event_pattern(partition: str, region: str, account: str) -> dict[str, Any]:
    """The rule's pattern: status changes of the evaluation pipelines' executions in one account."""
    return _pattern(pipeline_arn_prefix(partition, region, account))


def _pattern(arn_prefix: Any) -> dict[str, Any]:
    return {
        "source": [SOURCE],
        "detail-type": [EXECUTION_STATUS_CHANGE],
        "detail": {"pipelineArn": [{"prefix": arn_prefix}]},
    }


def policy_statement(queue_arn: Any, rule_arn: Any, rule_name: str) -> dict[str, Any]:
    """The statement letting EventBridge deliver one rule's events to the queue, and nothing else.

    Its Sid names the rule, so that each rule sending to a queue keeps a statement of its own.
    """
    return {
        "Sid": f"{STATEMENT_SID_PREFIX}{rule_name}",
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": queue_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
    }


def policy_document(current: str | None) -> dict[str, Any]:
    """A queue's Policy attribute parsed (an empty policy for None); ValueError when it is not one."""
    if not current:
        return {"Version": "2012-10-17", "Statement": []}
    try:
        loaded = json.loads(current)
    except json.JSONDecodeError:
        loaded = None
    if not isinstance(loaded, dict):
        raise ValueError(f"the queue's Policy is not a JSON object: {current[:200]!r}")
    return loaded


def merged_policy(policy: dict[str, Any], statement: dict[str, Any]) -> dict[str, Any]:
    """``policy`` with ``statement`` added, or replacing the one of the same rule.

    A statement with the same Sid, or for the same rule ARN (an earlier set-up's), is replaced;
    every other statement (another rule's, the owner's) is kept.
    """
    existing = policy.get("Statement", [])
    statements = [existing] if isinstance(existing, dict) else list(existing)
    source_arn = _source_arn(statement)
    kept = [
        other
        for other in statements
        if not (
            isinstance(other, dict)
            and (other.get("Sid") == statement["Sid"] or _source_arn(other) == source_arn)
        )
    ]
    return {**policy, "Statement": [*kept, statement]}


def _source_arn(statement: dict[str, Any]) -> Any:
    condition = statement.get("Condition")
    arn_equals = condition.get("ArnEquals") if isinstance(condition, dict) else None
    return arn_equals.get("aws:SourceArn") if isinstance(arn_equals, dict) else None


def cloudformation_template(queue_name: str, rule_name: str | None = None) -> dict[str, Any]:
    """The CloudFormation template of the same queue, rule (with its target) and queue policy.

    For teams that provision by code; names are checked as :func:`ensure_event_queue` checks them.
    """
    queue_name = validate_queue_name(queue_name)
    rule = validate_rule_name(
        rule_name or f"{queue_name}-rule", derived_from=None if rule_name else queue_name
    )
    queue_arn = {"Fn::GetAtt": ["EvaluationEventsQueue", "Arn"]}
    rule_arn = {"Fn::GetAtt": ["EvaluationEventsRule", "Arn"]}
    arn_prefix = {"Fn::Sub": pipeline_arn_prefix("${AWS::Partition}", "${AWS::Region}", "${AWS::AccountId}")}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"SageMaker evaluation status events to SQS queue {queue_name} ({_BY})",
        "Resources": {
            "EvaluationEventsQueue": {
                "Type": "AWS::SQS::Queue",
                "Properties": {
                    "QueueName": queue_name,
                    "ReceiveMessageWaitTimeSeconds": int(QUEUE_ATTRIBUTES["ReceiveMessageWaitTimeSeconds"]),
                    "MessageRetentionPeriod": int(QUEUE_ATTRIBUTES["MessageRetentionPeriod"]),
                },
            },
            "EvaluationEventsRule": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "Name": rule,
                    "Description": _RULE_DESCRIPTION,
                    "State": "ENABLED",
                    "EventPattern": _pattern(arn_prefix),
                    "Targets": [{"Id": TARGET_ID, "Arn": queue_arn}],
                },
            },
            "EvaluationEventsQueuePolicy": {
                "Type": "AWS::SQS::QueuePolicy",
                "Properties": {
                    "Queues": [{"Ref": "EvaluationEventsQueue"}],
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [policy_statement(queue_arn, rule_arn, rule)],
                    },
                },
            },
        },
        "Outputs": {
            "EventQueueUrl": {"Value": {"Ref": "EvaluationEventsQueue"}},
            "QueueArn": {"Value": queue_arn},
            "RuleArn": {"Value": rule_arn},
        },
    }


@dataclass(frozen=True)
class EventQueue:
    """What :func:`ensure_event_queue` made: the queue's URL and ARN, and the rule's ARN."""

    queue_url: str
    queue_arn: str
    rule_arn: str


def ensure_event_queue(
    queue_name: str, *, rule_name: str | None = None, session: Any = None, region: str | None = None
) -> EventQueue:
    """Create or converge the queue, the rule, its target and the queue policy.

    Every name is checked before any call. A re-run converges: an existing queue gets this
    set-up's attributes, an existing policy keeps the statements of other rules. When a call is
    refused, what this run created (the rule, the queue) is deleted again before the error is
    raised, so a refusal leaves nothing half set up.
    """
    queue_name = validate_queue_name(queue_name)
    rule = validate_rule_name(
        rule_name or f"{queue_name}-rule", derived_from=None if rule_name else queue_name
    )
    if session is None:
        import boto3

        session = boto3.Session(region_name=region)
    sqs = session.client("sqs", region_name=region)
    events = session.client("events", region_name=region)
    identity = session.client("sts", region_name=region).get_caller_identity()
    partition = identity["Arn"].split(":")[1]
    pattern = event_pattern(partition, sqs.meta.region_name, identity["Account"])
    queue_url = _existing_queue_url(sqs, queue_name)
    current_policy = policy_document(
        None if queue_url is None else _queue_attributes(sqs, queue_url).get("Policy")
    )
    undo: list[tuple[str, Any]] = []
    try:
        if queue_url is None:
            queue_url = sqs.create_queue(QueueName=queue_name, Attributes=QUEUE_ATTRIBUTES)["QueueUrl"]
            created_url = queue_url
            undo.append((f"queue {queue_url}", lambda: sqs.delete_queue(QueueUrl=created_url)))
        else:
            sqs.set_queue_attributes(QueueUrl=queue_url, Attributes=QUEUE_ATTRIBUTES)
        queue_arn = _queue_attributes(sqs, queue_url)["QueueArn"]
        rule_existed = _rule_exists(events, rule)
        rule_arn = events.put_rule(
            Name=rule, EventPattern=json.dumps(pattern), State="ENABLED", Description=_RULE_DESCRIPTION
        )["RuleArn"]
        if not rule_existed:
            undo.append((f"rule {rule}", lambda: _delete_rule(events, rule)))
        events.put_targets(Rule=rule, Targets=[{"Id": TARGET_ID, "Arn": queue_arn}])
        policy = merged_policy(current_policy, policy_statement(queue_arn, rule_arn, rule))
        sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(policy)})
    except BaseException:
        _roll_back(undo)
        raise
    return EventQueue(queue_url, queue_arn, rule_arn)


def _existing_queue_url(sqs: Any, queue_name: str) -> str | None:
    try:
        return str(sqs.get_queue_url(QueueName=queue_name)["QueueUrl"])
    except sqs.exceptions.QueueDoesNotExist:
        return None


def _queue_attributes(sqs: Any, queue_url: str) -> dict[str, str]:
    answer = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn", "Policy"])
    return dict(answer.get("Attributes", {}))


def _rule_exists(events: Any, rule: str) -> bool:
    try:
        events.describe_rule(Name=rule)
    except events.exceptions.ResourceNotFoundException:
        return False
    return True


def _delete_rule(events: Any, rule: str) -> None:
    """Delete a rule this run created, with the targets it may already have."""
    targets = events.list_targets_by_rule(Rule=rule).get("Targets", [])
    if targets:
        events.remove_targets(Rule=rule, Ids=[target["Id"] for target in targets])
    events.delete_rule(Name=rule)


def _roll_back(undo: list[tuple[str, Any]]) -> None:
    """Undo this run's creations, newest first; a failed undo is reported, not hidden."""
    for what, action in reversed(undo):
        try:
            action()
        except Exception as error:
            print(f"event_setup: could not delete the {what} this run created: {error}", file=sys.stderr)
        else:
            print(f"event_setup: deleted the {what} this run created", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--queue-name", required=True, help="SQS queue to create or update")
    parser.add_argument("--rule-name", help="EventBridge rule name (default: QUEUE_NAME-rule)")
    parser.add_argument("--region", help="AWS region (default: the boto3 session's)")
    parser.add_argument(
        "--print",
        dest="print_template",
        action="store_true",
        help="print the CloudFormation template (JSON) of the same resources instead; no AWS call",
    )
    args = parser.parse_args(argv)
    try:
        if args.print_template:
            print(json.dumps(cloudformation_template(args.queue_name, args.rule_name), indent=2))
            return 0
        made = ensure_event_queue(args.queue_name, rule_name=args.rule_name, region=args.region)
    except ValueError as error:
        parser.error(str(error))
    print(
        json.dumps(
            {"event_queue_url": made.queue_url, "queue_arn": made.queue_arn, "rule_arn": made.rule_arn}
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
