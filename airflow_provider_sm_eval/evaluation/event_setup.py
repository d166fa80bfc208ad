"""Set-up of event-driven waits: an EventBridge rule sending evaluation status changes to SQS.

SageMaker publishes "SageMaker Model Building Pipeline Execution Status Change" events to the
default event bus. :func:`ensure_event_queue` creates (or updates, idempotently) what a
deferred wait with ``event_queue_url`` needs:

- an SQS queue (long polling on by default, messages kept 1 hour);
- a rule on the default bus whose pattern (:func:`event_pattern`) matches the execution status
  changes of the evaluation pipelines of this account and region;
- the rule's target (the queue) and a queue policy letting ``events.amazonaws.com`` send to it
  for that rule only.

From a shell (credentials from the usual boto3 chain)::

    python -m airflow_provider_sm_eval.evaluation.event_setup --queue-name sm-eval-events --region us-east-1

It prints the queue URL: set it as the trigger's, operator's or sensor's ``event_queue_url``,
and as the queue of an ``AssetWatcher`` (see ``example_dags/example_sm_eval_event_driven.py``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

SOURCE = "aws.sagemaker"
EXECUTION_STATUS_CHANGE = "SageMaker Model Building Pipeline Execution Status Change"
#: Queue URLs as SQS returns them: ``https://sqs.REGION.amazonaws.com/ACCOUNT/NAME``.
_QUEUE_URL = re.compile(r"^https?://[^\s/]+(?::\d+)?/\d{12}/[A-Za-z0-9_-]{1,80}(?:\.fifo)?$")
_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
#: The name prefix every evaluation pipeline shares (EvalType's prefixes), lower-case as in ARNs.
PIPELINE_ARN_NAME_PREFIX = "sagemakerevaluation-"


def validate_queue_url(value: str | None, *, name: str = "event_queue_url") -> str | None:
    """``value`` when None or an SQS queue URL, else ValueError naming ``name``."""
    if value is None:
        return None
    if not isinstance(value, str) or not _QUEUE_URL.match(value):
        raise ValueError(
            f"{name} {value!r} is not an SQS queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)"
        )
    return value


def event_pattern(partition: str, region: str, account: str) -> dict[str, Any]:
    """The rule's pattern: status changes of the evaluation pipelines' executions in one account."""
    arn_prefix = f"arn:{partition}:sagemaker:{region}:{account}:pipeline/{PIPELINE_ARN_NAME_PREFIX}"
    return {
        "source": [SOURCE],
        "detail-type": [EXECUTION_STATUS_CHANGE],
        "detail": {"pipelineArn": [{"prefix": arn_prefix}]},
    }


def queue_policy(queue_arn: str, rule_arn: str) -> dict[str, Any]:
    """The queue policy letting EventBridge deliver this rule's events, and nothing else."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EvaluationStatusEvents",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
            }
        ],
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
    """Create or update the queue, the rule, its target and the queue policy (idempotent)."""
    if not isinstance(queue_name, str) or not _QUEUE_NAME.match(queue_name):
        raise ValueError(f"queue_name {queue_name!r} must be 1-80 letters, digits, hyphens or underscores")
    rule = rule_name or f"{queue_name}-rule"
    if not _QUEUE_NAME.match(rule):
        raise ValueError(f"rule_name {rule!r} must be 1-64 letters, digits, hyphens or underscores")
    if session is None:
        import boto3

        session = boto3.Session(region_name=region)
    sqs = session.client("sqs", region_name=region)
    events = session.client("events", region_name=region)
    identity = session.client("sts", region_name=region).get_caller_identity()
    partition = identity["Arn"].split(":")[1]
    region_name = sqs.meta.region_name
    queue_url = sqs.create_queue(
        QueueName=queue_name,
        Attributes={"ReceiveMessageWaitTimeSeconds": "20", "MessageRetentionPeriod": "3600"},
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    rule_arn = events.put_rule(
        Name=rule,
        EventPattern=json.dumps(event_pattern(partition, region_name, identity["Account"])),
        State="ENABLED",
        Description="SageMaker evaluation execution status changes, for airflow-provider-sm-eval",
    )["RuleArn"]
    events.put_targets(Rule=rule, Targets=[{"Id": "evaluation-events-queue", "Arn": queue_arn}])
    sqs.set_queue_attributes(
        QueueUrl=queue_url, Attributes={"Policy": json.dumps(queue_policy(queue_arn, rule_arn))}
    )
    return EventQueue(queue_url, queue_arn, rule_arn)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--queue-name", required=True, help="SQS queue to create or update")
    parser.add_argument("--rule-name", help="EventBridge rule name (default: QUEUE_NAME-rule)")
    parser.add_argument("--region", help="AWS region (default: the boto3 session's)")
    args = parser.parse_args(argv)
    made = ensure_event_queue(args.queue_name, rule_name=args.rule_name, region=args.region)
    print(
        json.dumps(
            {"event_queue_url": made.queue_url, "queue_arn": made.queue_arn, "rule_arn": made.rule_arn}
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
