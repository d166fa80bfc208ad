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
    "ListPipelines": ["*"],
    "EvaluationPipelines": [f"arn:aws:sagemaker:*:*:pipeline/{name}*" for name in (_PREFIX, _PREFIX.lower())],
    "EvaluationExecutions": [
        f"arn:aws:sagemaker:*:*:pipeline/{name}*/execution/*" for name in (_PREFIX, _PREFIX.lower())
    ],
    "EvaluationStepJobs": ["arn:aws:sagemaker:*:*:training-job/pipelines-*"],
    "ResultsBucket": ["arn:aws:s3:::amzn-s3-demo-bucket"],
    "ResultFiles": ["arn:aws:s3:::amzn-s3-demo-bucket/*"],
}
#: SageMaker operation -> the statement (resources) its IAM action is authorised on.
SAGEMAKER_STATEMENTS: dict[str, str] = {
    "ListPipelines": "ListPipelines",
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
}
#: S3 operation -> (IAM action, statement).
S3_ACTIONS: dict[str, tuple[str, str]] = {
    "GetObject": ("s3:GetObject", "ResultFiles"),
    "HeadObject": ("s3:GetObject", "ResultFiles"),
    "ListObjectsV2": ("s3:ListBucket", "ResultsBucket"),
    "ListObjects": ("s3:ListBucket", "ResultsBucket"),
}
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
