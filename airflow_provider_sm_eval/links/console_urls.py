"""AWS console URLs of evaluation executions, their results and their job logs.

Pure functions over ARNs and S3 URIs (no Airflow, no boto3): the extra links and the error
messages raised to Airflow build their URLs here, once, in the ARN's partition and region.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode, urlsplit

from airflow_provider_sm_eval.evaluation.arns import parse_execution_arn, parse_job_arn
from airflow_provider_sm_eval.evaluation.constants import PARTITION_CONSOLE_DOMAINS
from airflow_provider_sm_eval.evaluation.s3_layout import parse_s3_uri

#: CloudWatch log group of each SageMaker job kind, by the resource type in the job's ARN.
_LOG_GROUPS = {
    "training-job": "/aws/sagemaker/TrainingJobs",
    "processing-job": "/aws/sagemaker/ProcessingJobs",
    "transform-job": "/aws/sagemaker/TransformJobs",
}
#: Host of SageMaker Studio's pages (``studio-DOMAIN.studio.REGION.sagemaker.aws``).
_STUDIO_HOST_SUFFIX = ".sagemaker.aws"


def console_domain(partition: str) -> str:
    """The console domain of an ARN partition; ValueError for a partition without a public console."""
    try:
        return PARTITION_CONSOLE_DOMAINS[partition]
    except KeyError:
        raise ValueError(f"partition {partition!r} has no known AWS console domain") from None


def execution_console_url(
    execution_arn: str, studio_domain_id: str | None = None, pipeline_name: str | None = None
) -> str:
    """The execution's page: in SageMaker Studio when a Studio domain is given, else the SageMaker console.

    Studio exists under ``sagemaker.aws`` in the ``aws`` partition only; elsewhere the console is used.
    The ARN carries the pipeline name lower-cased; ``pipeline_name``, the real name when the
    caller knows it, is used instead when it names the same pipeline.
    """
    arn = parse_execution_arn(execution_arn)
    if pipeline_name and pipeline_name.lower() == arn.pipeline_name.lower():
        arn = arn._replace(pipeline_name=pipeline_name)
    if studio_domain_id and arn.partition == "aws":
        query = urlencode({"pipeline_name": arn.pipeline_name, "execution_id": arn.execution_id})
        return (
            f"https://studio-{quote(studio_domain_id, safe='')}.studio.{arn.region}.sagemaker.aws"
            f"/jobs/evaluation/detail?{query}"
        )
    domain = console_domain(arn.partition)
    return (
        f"https://{arn.region}.{domain}/sagemaker/home?region={arn.region}"
        f"#/pipelines/{quote(arn.pipeline_name, safe='')}/executions/{quote(arn.execution_id, safe='')}"
    )


def s3_console_url(s3_uri: str, region: str, partition: str = "aws") -> str:
    """The S3 console's folder view of ``s3_uri`` (a bucket, or a prefix inside one)."""
    uri = parse_s3_uri(s3_uri)
    query = {"region": region}
    if uri.key:
        query["prefix"] = uri.key.rstrip("/") + "/"
    return f"https://{console_domain(partition)}/s3/buckets/{uri.bucket}?{urlencode(query)}"


def job_log_url(job_arn: str) -> str | None:
    """CloudWatch log streams of a SageMaker job (group by job kind, stream prefix = job name).

    None when ``job_arn`` is not the well-formed ARN of a training, processing or transform job
    (its region becomes the URL's host: it is taken from a parsed ARN only).
    """
    try:
        arn = parse_job_arn(job_arn)
    except ValueError:
        return None
    group = _LOG_GROUPS.get(arn.kind)
    if group is None or arn.partition not in PARTITION_CONSOLE_DOMAINS:
        return None
    return (
        f"https://{arn.region}.{PARTITION_CONSOLE_DOMAINS[arn.partition]}/cloudwatch/home?region={arn.region}"
        f"#logStream:group={group};prefix={arn.name};streamFilter=typeLogStreamPrefix"
    )


def is_console_url(url: str) -> bool:
    """True for an ``https`` URL of an AWS console (or SageMaker Studio) host, without user info.

    The last check before a URL becomes a link in a page: every URL built here passes it.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    host = parts.hostname or ""
    if parts.scheme != "https" or parts.username is not None or parts.password is not None:
        return False
    suffixes = (*PARTITION_CONSOLE_DOMAINS.values(), _STUDIO_HOST_SUFFIX.lstrip("."))
    return any(host == suffix or host.endswith("." + suffix) for suffix in suffixes)
