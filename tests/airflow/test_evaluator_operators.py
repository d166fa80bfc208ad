"""The evaluator operators against the emulator's seeded hub: what they start, refuse, show and reattach to.

Each operator is the start operator with its definition built from SDK-style arguments, so these
tests cover what is the evaluators' own: the definition they start (read back from the emulator
and compared with the SDK's fixtures), the checks at parse and at execute, the dry run, the
rendered definition, and that the start operator's behaviours (deferral, reattach, kill) hold
for a built definition. The task instance doubles are those of test_start_evaluation.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException, TaskDeferred

from airflow_provider_sm_eval.evaluation.constants import ExecutionStatus
from airflow_provider_sm_eval.evaluation.definitions.resolve import custom_metrics_location
from airflow_provider_sm_eval.exceptions import EvaluationExecutionFailedException
from airflow_provider_sm_eval.hooks.evaluation import SageMakerEvaluationHook
from airflow_provider_sm_eval.operators.evaluators import (
    DEFINITION_LOG_LIMIT,
    BenchmarkEvaluationOperator,
    CustomScorerEvaluationOperator,
    LLMAsJudgeEvaluationOperator,
    bounded_json,
)
from airflow_provider_sm_eval.operators.start_evaluation import StartEvaluationOperator
from airflow_provider_sm_eval.plugins.task_xcoms import read_task_evaluation
from airflow_provider_sm_eval.utils.reattach import TaskInstanceIdentity
from sagemaker_eval_emulator import EvaluationEmulator
from tests.airflow.airflow_test_support import (
    BUCKET,
    CONN_ID,
    ROLE_ARN,
    DictTaskStateStore,
    RecordingTaskInstance,
    task_context,
)
from tests.airflow.test_start_evaluation import WRITES, first_event, kill_while_blocking, run_deferred
from tests.evaluation.test_sdk_definitions import DATASET_BUCKET, DATASET_KEY, OUTPUT_BUCKET, normalized
from tests.evaluation.test_sdk_definitions import load as load_fixture

pytestmark = pytest.mark.timeout(120)
_task_ids = iter(range(1_000_000))

#: What the emulator's public hub and account hold (``emulator.seed``).
JUMPSTART_MODEL = "meta-textgeneration-llama-3-2-1b-instruct"
MODEL_PACKAGE = "arn:aws:sagemaker:us-east-1:123456789012:model-package/llama-3-2-1b-finetuned/1"
PACKAGE_WITHOUT_BASE = "arn:aws:sagemaker:us-east-1:123456789012:model-package/no-base-model/1"
DATASET_ARN = "arn:aws:sagemaker:us-east-1:aws:hub-content/SageMakerPublicHub/DataSet/gen-qa-sample/1.0.0"
JUDGE = "anthropic.claude-3-5-sonnet-20240620-v1:0"
CUSTOM_METRICS = [
    {
        "customMetricDefinition": {
            "name": "PositiveSentiment",
            "instructions": "Is it positive? Prompt: {{prompt}}\nResponse: {{prediction}}",
            "ratingScale": [{"definition": "Good", "value": {"floatValue": 1.0}}],
        }
    }
]
OPERATORS: dict[str, tuple[type[StartEvaluationOperator], dict[str, Any]]] = {
    "benchmark": (BenchmarkEvaluationOperator, {"benchmark": "mmlu", "subtasks": ["abstract_algebra"]}),
    "llmasjudge": (
        LLMAsJudgeEvaluationOperator,
        {
            "evaluator_model": JUDGE,
            "dataset": f"s3://{BUCKET}/data/prompts.jsonl",
            "builtin_metrics": ["Correctness"],
        },
    ),
    "customscorer": (
        CustomScorerEvaluationOperator,
        {"evaluator": "prime_math", "dataset": f"s3://{BUCKET}/data/prompts.jsonl"},
    ),
}


def evaluator(kind: str = "benchmark", **overrides: Any) -> Any:
    cls, specific = OPERATORS[kind]
    arguments: dict[str, Any] = {
        "task_id": f"evaluate_{next(_task_ids)}",
        "model": MODEL_PACKAGE,
        "role_arn": ROLE_ARN,
        "s3_output_path": f"s3://{BUCKET}/runs",
        "evaluate_base_model": True,
        "aws_conn_id": CONN_ID,
        "poll_interval": 0.05,
        "deferrable": False,
        **specific,
    }
    arguments.update(overrides)
    return cls(**arguments)


def writes(emulator: EvaluationEmulator) -> dict[str, int]:
    return {op: emulator.calls.count("sagemaker", op) for op in WRITES}


def started_definition(emulator: EvaluationEmulator, execution_arn: str) -> dict[str, Any]:
    """The definition the execution runs, as SageMaker reports it."""
    described = emulator.client("sagemaker").describe_pipeline_definition_for_execution(
        PipelineExecutionArn=execution_arn
    )
    return json.loads(described["PipelineDefinition"])


def with_pipeline_name(definition: Any, execution_arn: str) -> Any:
    """``definition`` with the SDK's pipeline-name placeholder filled as the start fills it."""
    lower = SageMakerEvaluationHook(aws_conn_id=CONN_ID).get_execution(execution_arn).pipeline_name
    described = SageMakerEvaluationHook(aws_conn_id=CONN_ID).conn.describe_pipeline(PipelineName=lower)
    name = described["PipelineName"]
    return json.loads(json.dumps(definition).replace("{{ pipeline_name }}", name))


@pytest.fixture
def dataset(emulator: EvaluationEmulator) -> str:
    emulator.client("s3").put_object(Bucket=BUCKET, Key="data/prompts.jsonl", Body=b'{"query": "1+1?"}\n')
    return f"s3://{BUCKET}/data/prompts.jsonl"


# Parse time ----------------------------------------------------------------------------------------


@pytest.mark.hostile("start")
@pytest.mark.parametrize(
    ("kind", "overrides", "named"),
    [
        ("benchmark", {"benchmark": "vibes"}, "benchmark.*mmlu"),
        ("benchmark", {"subtasks": ["not_a_subtask"]}, "subtasks.*abstract_algebra"),
        ("benchmark", {"model": "s3://bucket/checkpoint"}, "model"),
        ("benchmark", {"model": "not a model id!"}, "model"),
        ("llmasjudge", {"builtin_metrics": ["Vibes"]}, "builtin_metrics.*Correctness"),
        ("llmasjudge", {"custom_metrics": '{"not": "a list"}'}, "custom_metrics"),
        ("llmasjudge", {"custom_metrics": "[not json"}, "custom_metrics"),
        ("llmasjudge", {"dataset": "https://bucket/data.jsonl"}, "dataset"),
        ("customscorer", {"dataset": "arn:aws:sagemaker:us-east-1:aws:hub-content/H/Model/x/1"}, "dataset"),
        ("customscorer", {"evaluator": "vibes"}, "evaluator.*prime_math"),
        ("benchmark", {"evaluate_base_model": "false"}, "evaluate_base_model"),
        ("benchmark", {"top_p": 2}, "top_p"),
        ("benchmark", {"networking": {"subnets": ["subnet-1"]}}, "networking"),
        ("benchmark", {"mlflow_resource_arn": "arn:aws:s3:::bucket"}, "mlflow_resource_arn"),
        ("benchmark", {"role_arn": "arn:aws:iam::123:user/bob"}, "role_arn"),
        ("benchmark", {"dry_run": "yes"}, "dry_run"),
    ],
)
def test_literal_bad_arguments_fail_at_parse_naming_them(
    kind: str, overrides: dict[str, Any], named: str
) -> None:
    with pytest.raises(ValueError, match=named):
        evaluator(kind, **overrides)


def test_templated_arguments_are_not_checked_at_parse() -> None:
    op = evaluator(model="{{ params.model }}", subtasks="{{ params.subtasks }}", s3_output_path="{{ x }}")

    assert op.model == "{{ params.model }}"


def test_importing_and_building_resolves_nothing() -> None:
    """Parsing a DAG with an evaluator operator loads no boto3 and makes no AWS call."""
    code = (
        "import sys\n"
        "from airflow_provider_sm_eval.operators.evaluators import BenchmarkEvaluationOperator\n"
        "lazy = ('boto3', 'botocore', 'airflow_provider_sm_eval.evaluation.definitions')\n"
        "imported = sorted(m for m in lazy if m in sys.modules)\n"
        f"BenchmarkEvaluationOperator(task_id='t', benchmark='mmlu', model={MODEL_PACKAGE!r},"
        f" role_arn={ROLE_ARN!r}, s3_output_path='s3://bucket/p')\n"
        "built = sorted(m for m in ('boto3', 'botocore') if m in sys.modules)\n"
        "print('IMPORTED=' + ','.join(imported) + ';BUILT=' + ','.join(built))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert result.stdout.strip().splitlines()[-1] == "IMPORTED=;BUILT="


def test_template_fields_cover_what_a_scheduled_dag_varies() -> None:
    for cls, _ in OPERATORS.values():
        assert {
            "model",
            "s3_output_path",
            "mlflow_run_name",
            "evaluation_name",
            "rendered_definition",
        } <= set(cls.template_fields)
    assert {"subtasks", "benchmark"} <= set(BenchmarkEvaluationOperator.template_fields)
    assert "dataset" in LLMAsJudgeEvaluationOperator.template_fields
    assert "custom_metrics" not in LLMAsJudgeEvaluationOperator.template_fields


def test_the_log_line_of_a_definition_is_bounded() -> None:
    line = bounded_json({"Steps": ["x" * 10_000]}, DEFINITION_LOG_LIMIT)

    assert len(line) < DEFINITION_LOG_LIMIT + 100
    assert "\n" not in line
    assert line.endswith("the whole definition is in the rendered view)")


# Execute: refusals before any write --------------------------------------------------------------


@pytest.mark.hostile("start")
@pytest.mark.parametrize(
    ("kind", "overrides", "named"),
    [
        ("benchmark", {"model": "{{ 'no-such-model' }}"}, "model.*no-such-model"),
        ("benchmark", {"model": PACKAGE_WITHOUT_BASE}, "model.*base model"),
        ("benchmark", {"subtasks": "{{ 'not_a_subtask' }}"}, "subtasks"),
        ("benchmark", {"s3_output_path": "{{ 'https://bucket/prefix' }}"}, "s3_output_path"),
        ("llmasjudge", {"dataset": "{{ 'ftp://bucket/data' }}"}, "dataset"),
        ("customscorer", {"dataset": DATASET_ARN.replace("gen-qa-sample", "no-such-dataset")}, "dataset"),
        ("benchmark", {"base_eval_name": "{{ 'not a name!' }}"}, "base_eval_name"),
    ],
)
def test_refused_at_execute_before_any_write_naming_the_argument(
    emulator: EvaluationEmulator, kind: str, overrides: dict[str, Any], named: str
) -> None:
    op = evaluator(kind, **overrides)
    op.render_template_fields(task_context(RecordingTaskInstance()))  # type: ignore[arg-type]

    with pytest.raises(AirflowFailException, match=named):
        op.execute(task_context(RecordingTaskInstance()))

    assert writes(emulator) == dict.fromkeys(WRITES, 0)


# Execute: what is started ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(OPERATORS))
@pytest.mark.parametrize("deferrable", [False, True])
def test_each_operator_evaluates_end_to_end(
    emulator: EvaluationEmulator, dataset: str, kind: str, deferrable: bool
) -> None:
    ti = RecordingTaskInstance()
    op = evaluator(kind, deferrable=deferrable)

    summary = run_deferred(op, task_context(ti))

    assert summary["status"] == "Succeeded"
    assert summary["eval_type"] == kind
    assert summary["results"]["metrics"]["custom"]
    assert ti.xcom["execution_arn"] == summary["execution_arn"]
    assert started_definition(emulator, summary["execution_arn"]) == with_pipeline_name(
        op.rendered_definition, summary["execution_arn"]
    )
    shown = read_task_evaluation({**ti.xcom, "return_value": summary})
    assert (shown.execution_arn, shown.eval_type, shown.status) == (
        summary["execution_arn"],
        kind,
        "Succeeded",
    )


def test_dry_run_builds_and_starts_nothing(emulator: EvaluationEmulator) -> None:
    ti = RecordingTaskInstance()

    value = evaluator(dry_run=True).execute(task_context(ti))

    assert writes(emulator) == dict.fromkeys(WRITES, 0)
    assert value["dry_run"] is True
    assert value["eval_type"] == "benchmark"
    assert {step["Name"] for step in value["definition"]["Steps"]} >= {
        "EvaluateCustomModel",
        "EvaluateBaseModel",
    }
    assert value["resolved"]["source_model_package_arn"] == MODEL_PACKAGE
    assert value["aws_calls"] > 0
    assert "execution_arn" not in ti.xcom


def test_a_retried_try_reattaches_without_building_another_execution(emulator: EvaluationEmulator) -> None:
    emulator.step_seconds = 0.3
    store = DictTaskStateStore()
    first = RecordingTaskInstance(try_number=1)
    evaluator(wait_for_completion=False).execute(task_context(first, store))

    summary = evaluator().execute(task_context(RecordingTaskInstance(try_number=2), store))

    assert summary["execution_arn"] == first.xcom["execution_arn"]
    hook = SageMakerEvaluationHook(aws_conn_id=CONN_ID)
    assert [execution.arn for execution in hook.list_executions()] == [summary["execution_arn"]]


@pytest.mark.hostile("kill")
def test_kill_stops_the_execution_the_operator_built(emulator: EvaluationEmulator) -> None:
    emulator.step_seconds = 3
    ti = RecordingTaskInstance()

    outcome = kill_while_blocking(evaluator(), ti)

    status = SageMakerEvaluationHook(aws_conn_id=CONN_ID).get_execution(ti.xcom["execution_arn"]).status
    assert status.overall_status in {ExecutionStatus.STOPPING, ExecutionStatus.STOPPED}
    assert isinstance(outcome, EvaluationExecutionFailedException)


def test_the_rendered_definition_survives_a_deferral(emulator: EvaluationEmulator) -> None:
    """A deferred task resumes in a fresh operator: its rendered view still shows the definition."""
    emulator.step_seconds = 1  # still running when the operator defers, however loaded the machine
    ti = RecordingTaskInstance()
    op = evaluator(deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(task_context(ti))
    event = first_event(deferred.value.trigger)

    resumed = evaluator(deferrable=True)
    summary = resumed.execute_complete(task_context(ti), event, **(deferred.value.kwargs or {}))

    assert summary["status"] == "Succeeded"
    assert resumed.rendered_definition == op.rendered_definition
    assert resumed.rendered_definition is not None


# What is started equals what the SDK starts -------------------------------------------------------

#: One case per type, with arguments the operators pass on beyond the base case (VPC, custom
#: metrics uploaded under the task instance's key, evaluator ARN). Every case is compared at the
#: core, in tests/evaluation/test_sdk_definitions.py.
FIXTURE_CASES = ("benchmark_vpc", "llmaj_custom_metrics", "custom_scorer_evaluator_arn")
OPERATOR_OF_SDK_EVALUATOR = {
    "BenchMarkEvaluator": BenchmarkEvaluationOperator,
    "LLMAsJudgeEvaluator": LLMAsJudgeEvaluationOperator,
    "CustomScorerEvaluator": CustomScorerEvaluationOperator,
}


@pytest.mark.parametrize("case", FIXTURE_CASES)
def test_the_started_definition_equals_the_sdks(emulator: EvaluationEmulator, case: str) -> None:
    fixture = load_fixture(case)
    s3 = emulator.client("s3")
    for bucket in (DATASET_BUCKET, OUTPUT_BUCKET):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=DATASET_BUCKET, Key=DATASET_KEY, Body=b'{"query": "1+1?", "response": "2"}\n')
    arguments = {("role_arn" if k == "role" else k): v for k, v in fixture["inputs"].items()}
    ti = RecordingTaskInstance()
    op = OPERATOR_OF_SDK_EVALUATOR[fixture["evaluator"]](
        task_id="evaluate", aws_conn_id=CONN_ID, wait_for_completion=False, **arguments
    )

    arn = op.execute(task_context(ti))["execution_arn"]

    pipeline_name = emulator.client("sagemaker").describe_pipeline(
        PipelineName=SageMakerEvaluationHook(aws_conn_id=CONN_ID).get_execution(arn).pipeline_name
    )["PipelineName"]
    artifacts = emulator.client("sagemaker").list_artifacts(
        SourceUri=fixture["resolved"].get("model_artifact_source_uri", "")
    )
    upload_key = TaskInstanceIdentity.from_context(task_context(ti)).key
    ours = normalized(
        started_definition(emulator, arn),
        pipeline_name=pipeline_name,
        generated={
            "model-artifact": next((a["ArtifactArn"] for a in artifacts["ArtifactSummaries"]), None),
            "custom-metrics": str(custom_metrics_location(arguments["s3_output_path"], upload_key))
            if "custom_metrics" in arguments
            else None,
        },
    )
    resolved = fixture["resolved"]
    theirs = normalized(
        fixture["definition"],
        pipeline_name=fixture["pipeline_name"],
        generated={
            "model-artifact": resolved.get("model_artifact_arn"),
            "custom-metrics": (resolved.get("uploaded_s3_uris") or [None])[0],
        },
    )
    assert ours == theirs


def test_lineage_names_the_model_the_dataset_and_the_output_before_the_run() -> None:
    lineage = evaluator("llmasjudge").get_openlineage_facets_on_start()

    assert [(d.namespace, d.name) for d in lineage.inputs] == [
        ("arn:aws:sagemaker:us-east-1:123456789012", "model-package/llama-3-2-1b-finetuned/1"),
        (f"s3://{BUCKET}", "data/prompts.jsonl"),
    ]
    assert [(d.namespace, d.name) for d in lineage.outputs] == [(f"s3://{BUCKET}", "runs")]


def test_the_pipeline_is_tagged_as_the_sdk_tags_it(emulator: EvaluationEmulator) -> None:
    """A JumpStart model's id is a tag of the pipeline (the SDK's), next to the given tags."""
    ti = RecordingTaskInstance()
    op = evaluator(
        model=JUMPSTART_MODEL, evaluate_base_model=False, tags={"team": "ml"}, wait_for_completion=False
    )

    arn = op.execute(task_context(ti))["execution_arn"]

    sagemaker = emulator.client("sagemaker")
    pipeline = SageMakerEvaluationHook(aws_conn_id=CONN_ID).get_execution(arn).pipeline_name
    pipeline_arn = sagemaker.describe_pipeline(PipelineName=pipeline)["PipelineArn"]
    tags = {tag["Key"]: tag["Value"] for tag in sagemaker.list_tags(ResourceArn=pipeline_arn)["Tags"]}
    assert tags["sagemaker-sdk:jumpstart-model-id"] == JUMPSTART_MODEL
    assert tags["team"] == "ml"
