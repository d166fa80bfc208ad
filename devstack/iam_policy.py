"""The least-privilege IAM policy of the provider, derived from the AWS calls it makes.

``tests/stack/test_iam_policy.py`` runs the provider's operators, sensor and trigger against the
emulator, reads the emulator's call log (service -> operations) and turns it into a policy here;
the README's policy must equal it. An operation this module does not know fails the test, so a
new AWS call of the provider cannot go unnoticed.

Resources are scoped to what the provider touches: pipelines named with the SageMaker SDK's
evaluation prefix (ARNs carry names lower-cased), their executions, the training jobs of their
steps, the results bucket (``amzn-s3-demo-bucket`` stands for yours) and the pipeline's role
(``SageMakerEvaluationRole`` stands for yours), which CreatePipeline and UpdatePipeline pass.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from airflow_provider_sm_eval.evaluation.types.registry import KINDS

#: "SagemakerEvaluation-": the name prefix every evaluation pipeline shares (the SDK's).
_PREFIX = os.path.commonprefix([kind.pipeline_name_prefix for kind in KINDS.values()])  # noqa: RUF071
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
#: The look-ups after which the provider reads the hub's metadata bucket (recipe defaults, judges).
HUB_READS = {"DescribeHubContent"}
#: Calls that need no IAM permission.
UNAUTHORISED_CALLS = {("sts", "GetCallerIdentity")}
#: The operations that pass the pipeline's role to SageMaker (iam:PassRole).
PASSES_ROLE = {"CreatePipeline", "UpdatePipeline"}

README_START = "<!-- iam-policy:start (written from tests/stack/test_iam_policy.py) -->"
README_END = "<!-- iam-policy:end -->"


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


def render(policy: Mapping[str, Any]) -> str:
    return json.dumps(policy, indent=2) + "\n"


def readme_policy(readme: Path) -> str | None:
    """The policy JSON between the README's markers (None when the markers are missing)."""
    match = re.search(
        re.escape(README_START) + r"\n```json\n(.*?)```\n" + re.escape(README_END), readme.read_text(), re.S
    )
    return match.group(1) if match else None


def write_readme_policy(readme: Path, policy: Mapping[str, Any]) -> None:
    """Replace the policy between the README's markers."""
    text = readme.read_text()
    block = f"{README_START}\n```json\n{render(policy)}```\n{README_END}"
    start, end = text.index(README_START), text.index(README_END) + len(README_END)
    readme.write_text(text[:start] + block + text[end:])
