"""Console URLs in the right partition and region, and the extra links that store them."""

from __future__ import annotations

import pytest
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk.types import TaskInstanceKey

from airflow_provider_sm_eval.links.console_urls import (
    execution_console_url,
    is_console_url,
    job_log_url,
    s3_console_url,
)
from airflow_provider_sm_eval.links.evaluation import EvaluationExecutionLink, EvaluationResultsLink
from tests.airflow.airflow_test_support import RecordingTaskInstance, task_context

ARN = (
    "arn:{partition}:sagemaker:{region}:123456789012:"
    "pipeline/sagemakerevaluation-llmajevaluation-x1/execution/abc123"
)


@pytest.mark.parametrize(
    ("partition", "region", "host"),
    [
        ("aws", "eu-west-1", "https://eu-west-1.console.aws.amazon.com/"),
        ("aws-cn", "cn-north-1", "https://cn-north-1.console.amazonaws.cn/"),
        ("aws-us-gov", "us-gov-west-1", "https://us-gov-west-1.console.amazonaws-us-gov.com/"),
    ],
)
def test_execution_console_url_follows_partition_and_region(partition: str, region: str, host: str) -> None:
    url = execution_console_url(ARN.format(partition=partition, region=region))

    assert url.startswith(f"{host}sagemaker/home?region={region}#/pipelines/")
    assert url.endswith("/sagemakerevaluation-llmajevaluation-x1/executions/abc123")


def test_studio_url_when_a_domain_is_given() -> None:
    url = execution_console_url(ARN.format(partition="aws", region="us-west-2"), "d-xyz")

    assert url == (
        "https://studio-d-xyz.studio.us-west-2.sagemaker.aws/jobs/evaluation/detail"
        "?pipeline_name=sagemakerevaluation-llmajevaluation-x1&execution_id=abc123"
    )


def test_studio_is_not_offered_outside_the_aws_partition() -> None:
    url = execution_console_url(ARN.format(partition="aws-cn", region="cn-north-1"), "d-xyz")

    assert url.startswith("https://cn-north-1.console.amazonaws.cn/sagemaker/")


def test_execution_url_rejects_a_bad_arn() -> None:
    with pytest.raises(ValueError, match="execution_arn"):
        execution_console_url("arn:aws:sagemaker:us-east-1:1:nope")


def test_s3_console_url_opens_the_prefix_in_its_region() -> None:
    assert s3_console_url("s3://eval-results/runs/one", "eu-central-1") == (
        "https://console.aws.amazon.com/s3/buckets/eval-results?region=eu-central-1&prefix=runs%2Fone%2F"
    )
    assert s3_console_url("s3://eval-results", "cn-north-1", "aws-cn") == (
        "https://console.amazonaws.cn/s3/buckets/eval-results?region=cn-north-1"
    )


def test_s3_console_url_rejects_a_bad_uri() -> None:
    with pytest.raises(ValueError, match="s3://"):
        s3_console_url("bucket/prefix", "us-east-1")


@pytest.mark.parametrize(
    ("kind", "group"),
    [
        ("training-job", "/aws/sagemaker/TrainingJobs"),
        ("processing-job", "/aws/sagemaker/ProcessingJobs"),
        ("transform-job", "/aws/sagemaker/TransformJobs"),
    ],
)
def test_job_log_url_points_at_the_job_streams(kind: str, group: str) -> None:
    url = job_log_url(f"arn:aws:sagemaker:ap-south-1:123456789012:{kind}/eval-job-7")

    assert url == (
        "https://ap-south-1.console.aws.amazon.com/cloudwatch/home?region=ap-south-1"
        f"#logStream:group={group};prefix=eval-job-7;streamFilter=typeLogStreamPrefix"
    )


@pytest.mark.parametrize(
    "arn", ["arn:aws:sagemaker:us-east-1:123456789012:model/m", "not an arn", "arn:aws:s3:::bucket/key"]
)
def test_job_log_url_is_none_for_other_resources(arn: str) -> None:
    assert job_log_url(arn) is None


def link_owner(*, do_xcom_push: bool = True) -> EmptyOperator:
    return EmptyOperator(task_id="owner", do_xcom_push=do_xcom_push)


def test_links_store_their_url_under_their_own_key() -> None:
    ti = RecordingTaskInstance()

    EvaluationExecutionLink.persist(task_context(ti), link_owner(), "https://example.invalid/execution")
    EvaluationResultsLink.persist(task_context(ti), link_owner(), None)

    assert ti.xcom == {EvaluationExecutionLink.key: "https://example.invalid/execution"}
    assert EvaluationExecutionLink.key != EvaluationResultsLink.key
    assert EvaluationExecutionLink().name != EvaluationResultsLink().name


def test_links_store_nothing_when_the_operator_pushes_no_xcom() -> None:
    ti = RecordingTaskInstance()

    EvaluationExecutionLink.persist(task_context(ti), link_owner(do_xcom_push=False), "https://x.invalid/")

    assert ti.xcom == {}


@pytest.mark.parametrize("stored", [None, 42, OSError("XCom backend down")])
def test_a_missing_or_unreadable_xcom_renders_an_empty_link(
    monkeypatch: pytest.MonkeyPatch, stored: object
) -> None:
    from airflow.sdk.execution_time.xcom import XCom

    def get_value(**_: object) -> object:
        if isinstance(stored, Exception):
            raise stored
        return stored

    monkeypatch.setattr(XCom, "get_value", get_value)
    ti_key = TaskInstanceKey(dag_id="d", task_id="owner", run_id="r")

    assert EvaluationExecutionLink().get_link(link_owner(), ti_key=ti_key) == ""


def test_execution_url_uses_the_real_pipeline_name_when_known() -> None:
    arn = ARN.format(partition="aws", region="us-east-1")

    url = execution_console_url(arn, pipeline_name="SagemakerEvaluation-LLMAJEvaluation-X1")
    other = execution_console_url(arn, pipeline_name="SomeOtherPipeline")

    assert url.endswith("#/pipelines/SagemakerEvaluation-LLMAJEvaluation-X1/executions/abc123")
    assert other.endswith("#/pipelines/sagemakerevaluation-llmajevaluation-x1/executions/abc123")


@pytest.mark.hostile("ui")
@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:sagemaker:evil.example/x#:123456789012:training-job/eval-job-7",
        "arn:aws:sagemaker:evil.example:123456789012:training-job/eval-job-7",
        "arn:aws:sagemaker:us-east-1@evil.example:123456789012:training-job/eval-job-7",
        "arn:aws:sagemaker:us-east-1:123456789012:training-job/eval-job-7#x;group=/other",
        "arn:aws:sagemaker:us-east-1:123456789012:training-job/eval job",
    ],
)
def test_job_log_url_takes_its_host_from_a_well_formed_arn_only(arn: str) -> None:
    """The region of a job ARN (from XCom or a step's metadata) becomes a host: it must be a plain region."""
    assert job_log_url(arn) is None


@pytest.mark.hostile("ui")
@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://us-east-1.console.aws.amazon.com/sagemaker/home", True),
        ("https://console.aws.amazon.com/s3/buckets/b", True),
        ("https://studio-d-abc.studio.us-east-1.sagemaker.aws/jobs", True),
        ("javascript:alert(document.domain)", False),
        ("http://us-east-1.console.aws.amazon.com/", False),
        ("https://evil.example/#.console.aws.amazon.com", False),
        ("https://console.aws.amazon.com.evil.example/", False),
        ("https://user:pw@console.aws.amazon.com/", False),
        ("https://evilconsole.aws.amazon.com/", False),
    ],
)
def test_only_https_console_urls_are_links(url: str, allowed: bool) -> None:
    assert is_console_url(url) is allowed
