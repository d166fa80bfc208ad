"""Every response of every implemented operation matches botocore's SageMaker output shape."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.model import Shape
from emulator_harness import BUCKET, NO_RETRIES, ROLE_ARN, Harness, definition, token, wait_for

from airflow_provider_sm_eval.evaluation.constants import EvalType, StepName
from airflow_provider_sm_eval.evaluation.types.registry import kind_of
from sagemaker_eval_emulator.backend import OPERATIONS
from sagemaker_eval_emulator.catalog import CATALOG_OPERATIONS


def shape_errors(shape: Shape, value: Any, path: str = "") -> list[str]:
    """Where ``value`` (as botocore parsed it) departs from ``shape``."""
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{path}: expected an object"]
        errors = [f"{path}.{name}: required" for name in shape.required_members if name not in value]
        for key, item in value.items():
            if key == "ResponseMetadata" and not path:
                continue
            member = shape.members.get(key)
            if member is None:
                errors.append(f"{path}.{key}: not in the model")
            else:
                errors.extend(shape_errors(member, item, f"{path}.{key}"))
        return errors
    if kind == "list":
        if not isinstance(value, list):
            return [f"{path}: expected a list"]
        return [e for i, item in enumerate(value) for e in shape_errors(shape.member, item, f"{path}[{i}]")]
    if kind == "map":
        return [] if isinstance(value, dict) else [f"{path}: expected a map"]
    if kind == "string":
        if not isinstance(value, str):
            return [f"{path}: expected a string, got {value!r}"]
        enum = shape.enum
        if enum and value not in enum:
            return [f"{path}: {value!r} not in {enum}"]
        maximum = shape.metadata.get("max")
        return [f"{path}: longer than {maximum}"] if maximum and len(value) > maximum else []
    if kind == "timestamp":
        return [] if isinstance(value, datetime) else [f"{path}: expected a timestamp, got {value!r}"]
    if kind in ("integer", "long"):
        return [] if isinstance(value, int) and not isinstance(value, bool) else [f"{path}: expected an int"]
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{path}: expected a bool"]
    if kind in ("double", "float"):
        return [] if isinstance(value, int | float) else [f"{path}: expected a number"]
    return []


def test_all_responses_match_the_model(harness: Harness) -> None:
    sm = harness.emu.client("sagemaker", config=NO_RETRIES)
    captured: list[tuple[Any, dict[str, Any]]] = []
    sm.meta.events.register(
        "after-call.sagemaker", lambda parsed, model, **_: captured.append((model, parsed))
    )

    name = f"{kind_of(EvalType.LLM_AS_JUDGE).pipeline_name_prefix}-shapes"
    pipeline_arn = sm.create_pipeline(
        PipelineName=name,
        PipelineDefinition=definition("llm_as_judge"),
        RoleArn=ROLE_ARN,
        ClientRequestToken=token(),
        PipelineDescription="shapes",
        Tags=[{"Key": "k", "Value": "v"}],
    )["PipelineArn"]
    sm.update_pipeline(PipelineName=name, PipelineDefinition=definition("llm_as_judge"))
    sm.update_pipeline_version(
        PipelineArn=pipeline_arn,
        PipelineVersionId=1,
        PipelineVersionDisplayName="first",
        PipelineVersionDescription="the first version",
    )
    sm.describe_pipeline(PipelineName=name, PipelineVersionId=1)
    sm.list_pipelines(MaxResults=1)
    sm.add_tags(ResourceArn=pipeline_arn, Tags=[{"Key": "k2", "Value": "v2"}])
    sm.list_tags(ResourceArn=pipeline_arn)
    sm.delete_tags(ResourceArn=pipeline_arn, TagKeys=["k2"])
    harness.emu.faults.fail_step(StepName.EVALUATE_BASE_MODEL_METRICS.value, "judge failed", times=1)
    arn = sm.start_pipeline_execution(
        PipelineName=name,
        PipelineParameters=[{"Name": "S3OutputPath", "Value": f"s3://{BUCKET}/shapes"}],
        ClientRequestToken=token(),
        PipelineExecutionDescription="shapes",
    )["PipelineExecutionArn"]
    sm.describe_pipeline_execution(PipelineExecutionArn=arn)
    wait_for(
        lambda: (
            sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] == "Failed"
        ),
        what="the injected failure",
    )
    sm.list_pipeline_executions(PipelineName=name)
    sm.list_pipeline_versions(PipelineName=name, MaxResults=1)
    steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn, MaxResults=2)
    sm.list_pipeline_execution_steps(PipelineExecutionArn=arn, NextToken=steps["NextToken"])
    job_arn = next(s for s in steps["PipelineExecutionSteps"] if "TrainingJob" in s["Metadata"])["Metadata"][
        "TrainingJob"
    ]["Arn"]
    sm.describe_training_job(TrainingJobName=job_arn.rsplit("/", 1)[1])
    sm.describe_pipeline_definition_for_execution(PipelineExecutionArn=arn)
    harness.emu.step_seconds = 30.0  # keeps the retried execution running until it is stopped
    sm.retry_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken=token())
    sm.stop_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken=token())
    sm.delete_pipeline(PipelineName=name, ClientRequestToken=token())

    seen = {model.name for model, _ in captured}
    assert seen == set(OPERATIONS) - set(CATALOG_OPERATIONS)  # those: test_emulator_catalog
    errors = [
        f"{model.name}{e}" for model, parsed in captured for e in shape_errors(model.output_shape, parsed)
    ]
    assert errors == []


def test_the_shape_check_finds_departures() -> None:
    import botocore.session

    model = botocore.session.get_session().get_service_model("sagemaker")
    shape = model.operation_model("DescribePipelineExecution").output_shape
    bad = {
        "PipelineExecutionStatus": "Running",
        "CreationTime": "yesterday",
        "Extra": 1,
        "PipelineVersionId": "1",
    }
    assert sorted(shape_errors(shape, bad)) == [
        ".CreationTime: expected a timestamp, got 'yesterday'",
        ".Extra: not in the model",
        ".PipelineExecutionStatus: 'Running' not in ['Executing', 'Stopping', 'Stopped', 'Failed', "
        "'Succeeded', 'CompletedWithFailures']",
        ".PipelineVersionId: expected an int",
    ]
