"""The least-privilege IAM policy of each Airflow component, derived from the AWS calls it makes.

``tests/stack/test_iam_policy.py`` runs the provider's operators, sensor, triggers, UI plugin reads
and event set-up against the emulator, records each AWS call with the component that made it
(:class:`CallsByComponent`) and turns the calls of each component into a policy here; the
README's policies must equal them. An operation this module does not know fails the test, so a
new AWS call of the provider cannot go unnoticed.

Which component makes a call follows from which code makes it: operators and sensors run on
workers, triggers (waits, the AssetWatcher, their event consumers) in triggerers, ``plugins/`` in
the API server, ``provisioning.event_setup`` once, by whoever sets up the event queue.

Resources are scoped to what the provider touches: pipelines named with the SageMaker SDK's
evaluation prefix (ARNs carry names lower-cased), their executions, the training jobs of their
steps, the results bucket (``amzn-s3-demo-bucket`` stands for yours) and the pipeline's role
(``SageMakerEvaluationRole`` stands for yours), which CreatePipeline and UpdatePipeline pass.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from airflow_provider_sm_eval.evaluation.types.registry import KINDS

#: "SagemakerEvaluation-": the name prefix every evaluation pipeline shares (the SDK's).
_PREFIX = os.path.commonprefix([kind.pipeline_name_prefix for kind in KINDS.values()])  # noqa: RUF071
#: The event queues of the deployment guide: one for the deferred waits, one for the AssetWatcher.
WAIT_QUEUE, ASSET_QUEUE = "sm-eval-events", "sm-eval-asset-events"
EVENT_QUEUES = (WAIT_QUEUE, ASSET_QUEUE)
#: Statement id -> the resources it allows. Pipeline names are matched as given and lower-cased,
#: the way SageMaker writes them into ARNs.
RESOURCES: dict[str, list[str]] = {
    "ListCalls": ["*"],
    "EvaluationPipelines": [f"arn:aws:sagemaker:*:*:pipeline/{name}*" for name in (_PREFIX, _PREFIX.lower())],
    "EvaluationExecutions": [
        f"arn:aws:sagemaker:*:*:pipeline/{name}*/execution/*" for name in (_PREFIX, _PREFIX.lower())
    ],
    "EvaluationStepJobs": ["arn:aws:sagemaker:*:*:training-job/pipelines-*"],
    "ModelHubContent": ["arn:aws:sagemaker:*:*:hub-content/*"],
    "ModelPackages": ["arn:aws:sagemaker:*:*:model-package/*"],
    "LineageArtifacts": ["arn:aws:sagemaker:*:*:artifact/*"],
    "ResultsBucket": ["arn:aws:s3:::amzn-s3-demo-bucket"],
    "ResultFiles": ["arn:aws:s3:::amzn-s3-demo-bucket/*"],
    # The hub's metadata bucket (AWS's, one per region): a model's evaluation recipe defaults and
    # the region's list of judge models, read by the evaluator operators as the SDK reads them.
    "JumpStartMetadata": ["arn:aws:s3:::jumpstart-cache-prod-*/*"],
    # The event queues (event_setup's, named as the README's deployment guide names them) and
    # their EventBridge rules (``QUEUE_NAME-rule``, event_setup's default).
    "EventQueues": [f"arn:aws:sqs:*:*:{queue}" for queue in EVENT_QUEUES],
    "EventRules": [f"arn:aws:events:*:*:rule/{queue}-rule" for queue in EVENT_QUEUES],
}
#: SageMaker operation -> the statement (resources) its IAM action is authorised on.
SAGEMAKER_STATEMENTS: dict[str, str] = {
    **dict.fromkeys(("ListPipelines", "ListArtifacts", "ListMlflowApps"), "ListCalls"),
    **dict.fromkeys(
        (
            "CreatePipeline",
            "UpdatePipeline",
            "DescribePipeline",
            "ListPipelineVersions",
            "UpdatePipelineVersion",
            "AddTags",
            "ListTags",
            "StartPipelineExecution",
            "ListPipelineExecutions",
        ),
        "EvaluationPipelines",
    ),
    **dict.fromkeys(
        (
            "DescribePipelineExecution",
            "ListPipelineExecutionSteps",
            "StopPipelineExecution",
            "RetryPipelineExecution",
            "DescribePipelineDefinitionForExecution",
        ),
        "EvaluationExecutions",
    ),
    "DescribeTrainingJob": "EvaluationStepJobs",
    # The evaluator operators' resolution: the model's hub content, the model package and its
    # base model, the model's lineage artifact (created when SageMaker has none yet).
    "DescribeHubContent": "ModelHubContent",
    "DescribeModelPackage": "ModelPackages",
    "CreateArtifact": "LineageArtifacts",
}
#: S3 operation -> (IAM action, statement).
S3_ACTIONS: dict[str, tuple[str, str]] = {
    "GetObject": ("s3:GetObject", "ResultFiles"),
    "PutObject": ("s3:PutObject", "ResultFiles"),  # the judge's custom metrics, uploaded
    "HeadObject": ("s3:GetObject", "ResultFiles"),
    "ListObjectsV2": ("s3:ListBucket", "ResultsBucket"),
    "ListObjects": ("s3:ListBucket", "ResultsBucket"),
}
#: SQS operation -> IAM action (batch calls are authorised by the action of their single call).
SQS_ACTIONS: dict[str, str] = {
    **{
        operation: f"sqs:{operation}"
        for operation in (
            "CreateQueue",
            "DeleteQueue",
            "GetQueueUrl",
            "GetQueueAttributes",
            "SetQueueAttributes",
            "ReceiveMessage",
            "DeleteMessage",
            "ChangeMessageVisibility",
        )
    },
    "DeleteMessageBatch": "sqs:DeleteMessage",
    "ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
}
#: EventBridge operations on the rule (each is its own IAM action).
EVENTS_OPERATIONS = (
    "PutRule",
    "PutTargets",
    "DescribeRule",
    "ListTargetsByRule",
    "RemoveTargets",
    "DeleteRule",
)
#: The look-ups after which the provider reads the hub's metadata bucket (recipe defaults, judges).
HUB_READS = {"DescribeHubContent"}
#: Calls that need no IAM permission.
UNAUTHORISED_CALLS = {("sts", "GetCallerIdentity")}
#: The operations that pass the pipeline's role to SageMaker (iam:PassRole).
PASSES_ROLE = {"CreatePipeline", "UpdatePipeline"}


def policy_for(calls: Mapping[str, Mapping[str, int]]) -> dict[str, Any]:
    """The IAM policy document allowing exactly the called operations (``{service: {op: n}}``)."""
    actions: dict[str, set[str]] = {}
    unknown = []
    for service, operations in calls.items():
        for operation in operations:
            if (service, operation) in UNAUTHORISED_CALLS:
                continue
            if service == "sagemaker" and operation in SAGEMAKER_STATEMENTS:
                actions.setdefault(SAGEMAKER_STATEMENTS[operation], set()).add(f"sagemaker:{operation}")
            elif service == "sqs" and operation in SQS_ACTIONS:
                actions.setdefault("EventQueues", set()).add(SQS_ACTIONS[operation])
            elif service == "events" and operation in EVENTS_OPERATIONS:
                actions.setdefault("EventRules", set()).add(f"events:{operation}")
            elif service == "s3" and operation in S3_ACTIONS:
                action, sid = S3_ACTIONS[operation]
                actions.setdefault(sid, set()).add(action)
                if action == "s3:GetObject" and HUB_READS & set(calls.get("sagemaker", {})):
                    # The call log has no buckets: a hub look-up is what reads the hub's bucket.
                    actions.setdefault("JumpStartMetadata", set()).add(action)
            else:
                unknown.append(f"{service}:{operation}")
    if unknown:
        raise ValueError(
            f"no IAM mapping for the call(s) {sorted(unknown)}: add them to devstack/iam_policy.py"
        )
    statements: list[dict[str, Any]] = [
        {"Sid": sid, "Effect": "Allow", "Action": sorted(actions[sid]), "Resource": resources}
        for sid, resources in RESOURCES.items()
        if sid in actions
    ]
    if PASSES_ROLE & set(calls.get("sagemaker", {})):
        statements.append(
            {
                "Sid": "PassThePipelineRole",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": "arn:aws:iam::*:role/SageMakerEvaluationRole",
                "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


#: The Airflow components, each with its own policy in the README.
WORKERS, TRIGGERERS, API_SERVERS, EVENT_SETUP = "workers", "triggerers", "api-servers", "event-setup"
COMPONENTS = (WORKERS, TRIGGERERS, API_SERVERS, EVENT_SETUP)
#: The policy of one role for every component that runs Airflow (MWAA's execution role).
ONE_ROLE = "one-role"
#: The components whose calls the one role needs (the event set-up runs once, outside Airflow).
RUNTIME_COMPONENTS = (WORKERS, TRIGGERERS, API_SERVERS)
#: Module (prefix) -> the component that runs its code.
COMPONENT_MODULES: dict[str, str] = {
    "airflow_provider_sm_eval.operators.": WORKERS,
    "airflow_provider_sm_eval.sensors.": WORKERS,
    "airflow_provider_sm_eval.triggers.": TRIGGERERS,
    "airflow_provider_sm_eval.triggerer.": TRIGGERERS,
    "airflow_provider_sm_eval.plugins.": API_SERVERS,
    "airflow_provider_sm_eval.provisioning.": EVENT_SETUP,
}
#: The component of a call made through an aiobotocore client with no component module on its
#: stack (a triggerer-wide watch or event consumer runs in an asyncio task of its own): only the
#: hook's async half makes aiobotocore clients, and only triggers use it.
ASYNC_COMPONENT = TRIGGERERS
#: Calls with no component module on their stack (the test's own set-up): a test failure.
UNATTRIBUTED = "unattributed"

Calls = dict[str, dict[str, int]]


def component_of(frame: FrameType | None, *, is_async: bool) -> str:
    """The component whose code is on the stack from ``frame`` outwards (the innermost one wins)."""
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        for prefix, component in COMPONENT_MODULES.items():
            if module.startswith(prefix):
                return component
        frame = frame.f_back
    return ASYNC_COMPONENT if is_async else UNATTRIBUTED


class CallsByComponent:
    """Records every AWS call made in this process through botocore or aiobotocore, by component.

    The calls go on unchanged; only ``(component, service, operation)`` is counted, the service
    being its signing name, as the emulator's call log names it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[str, Calls] = {}

    def _record(self, client: Any, operation: str, is_async: bool) -> None:
        from sagemaker_eval_emulator.app import INTERNAL_USER_AGENT

        if INTERNAL_USER_AGENT in (client.meta.config.user_agent_extra or ""):  # the emulator's own
            return
        component = component_of(sys._getframe(2), is_async=is_async)
        service = client.meta.service_model.signing_name
        with self._lock:
            operations = self._calls.setdefault(component, {}).setdefault(service, {})
            operations[operation] = operations.get(operation, 0) + 1

    def calls(self) -> dict[str, Calls]:
        """``{component: {service: {operation: n}}}``."""
        with self._lock:
            return {
                component: {service: dict(ops) for service, ops in services.items()}
                for component, services in self._calls.items()
            }

    @contextmanager
    def recording(self) -> Iterator[CallsByComponent]:
        """Record while the block runs (botocore's and aiobotocore's client call, wrapped)."""
        from aiobotocore.client import AioBaseClient
        from botocore.client import BaseClient

        sync_client: Any = BaseClient
        async_client: Any = AioBaseClient
        sync_call, async_call = sync_client._make_api_call, async_client._make_api_call
        recorder = self

        def sync_recorded(client: Any, operation_name: str, api_params: Any) -> Any:
            recorder._record(client, operation_name, is_async=False)
            return sync_call(client, operation_name, api_params)

        async def async_recorded(client: Any, operation_name: str, api_params: Any) -> Any:
            recorder._record(client, operation_name, is_async=True)
            return await async_call(client, operation_name, api_params)

        sync_client._make_api_call, async_client._make_api_call = sync_recorded, async_recorded
        try:
            yield self
        finally:
            sync_client._make_api_call, async_client._make_api_call = sync_call, async_call


def merged(calls: Mapping[str, Calls], components: tuple[str, ...]) -> Calls:
    """The calls of ``components`` together."""
    result: Calls = {}
    for component in components:
        for service, operations in calls.get(component, {}).items():
            into = result.setdefault(service, {})
            for operation, count in operations.items():
                into[operation] = into.get(operation, 0) + count
    return result


def policies_for(calls: Mapping[str, Calls]) -> dict[str, dict[str, Any]]:
    """The policy of each component, and of one role for all runtime components (MWAA's)."""
    policies = {component: policy_for(calls.get(component, {})) for component in COMPONENTS}
    policies[ONE_ROLE] = policy_for(merged(calls, RUNTIME_COMPONENTS))
    return policies


def render(policy: Mapping[str, Any]) -> str:
    return json.dumps(policy, indent=2) + "\n"


def readme_markers(name: str) -> tuple[str, str]:
    """The README's markers around the policy ``name`` (a component or ``one-role``)."""
    return (
        f"<!-- iam-policy:{name}:start (written from tests/stack/test_iam_policy.py) -->",
        f"<!-- iam-policy:{name}:end -->",
    )


def readme_policy(readme: Path, name: str) -> str | None:
    """The policy JSON between the README's markers of ``name`` (None when they are missing)."""
    start, end = readme_markers(name)
    match = re.search(re.escape(start) + r"\n```json\n(.*?)```\n" + re.escape(end), readme.read_text(), re.S)
    return match.group(1) if match else None


def readme_policies(readme: Path) -> dict[str, dict[str, Any]]:
    """Every policy the README holds between markers, by name."""
    names = re.findall(r"<!-- iam-policy:([a-z-]+):start ", readme.read_text())
    return {name: json.loads(readme_policy(readme, name) or "null") for name in names}


def write_readme_policies(readme: Path, policies: Mapping[str, Mapping[str, Any]]) -> None:
    """Replace each policy between its README markers."""
    text = readme.read_text()
    for name, policy in policies.items():
        start_marker, end_marker = readme_markers(name)
        block = f"{start_marker}\n```json\n{render(policy)}```\n{end_marker}"
        start, end = text.index(start_marker), text.index(end_marker) + len(end_marker)
        text = text[:start] + block + text[end:]
    readme.write_text(text)
