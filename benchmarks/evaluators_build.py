"""What the evaluator operators add before a start: resolving their arguments and building the definition.

Per evaluation type, in a fresh process against the emulator's seeded hub: ``prepare()`` (the
look-ups and the build an evaluator operator makes at execute time) next to the start of the
definition it built (``CreatePipeline``/``UpdatePipeline`` + ``StartPipelineExecution``), in AWS
calls (counted on the boto3 clients) and wall time. The median of ``repeat`` rounds; the first
round creates the pipeline, later ones update it, as later runs of a DAG do.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
#: The emulator's seeded model package, fine-tuned from a JumpStart model of its public hub.
MODEL_PACKAGE = "arn:aws:sagemaker:us-east-1:123456789012:model-package/llama-3-2-1b-finetuned/1"
DATASET_KEY = "datasets/prompts.jsonl"
CUSTOM_METRICS = [
    {
        "customMetricDefinition": {
            "name": "Concise",
            "instructions": "Is it concise? {{prompt}} {{prediction}}",
            "ratingScale": [{"definition": "Yes", "value": {"floatValue": 1.0}}],
        }
    }
]

#: argv: inputs model name, its arguments (JSON), rounds. Prints the median figures as JSON.
PROBE = textwrap.dedent(
    """
    import json, statistics, sys, time
    import boto3
    from airflow_provider_sm_eval.evaluation import AwsClients, EvaluationPipelineExecution
    from airflow_provider_sm_eval.evaluation.definitions import inputs as models, prepare
    from airflow_provider_sm_eval.evaluation.request import StartRequest
    calls = [0]
    def count(**_):
        calls[0] += 1
    sagemaker, s3 = boto3.client("sagemaker"), boto3.client("s3")
    for client in (sagemaker, s3):
        client.meta.events.register("before-call", count)
    clients = AwsClients(sagemaker_client=sagemaker, s3_client=s3)
    model_name, arguments, rounds = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
    figures = []
    for attempt in range(rounds):
        inputs = getattr(models, model_name)(**arguments)
        calls[0], started = 0, time.perf_counter()
        prepared = prepare(inputs, clients, upload_key=f"bench-{attempt}")
        build = (calls[0], time.perf_counter() - started)
        calls[0], started = 0, time.perf_counter()
        request = StartRequest(eval_type=prepared.eval_type, name="bench",
                               pipeline_definition=prepared.definition, role_arn=inputs.role_arn,
                               s3_output_path=inputs.s3_output_path)
        EvaluationPipelineExecution.start_request(request, clients=clients)
        start = (calls[0], time.perf_counter() - started)
        figures.append((*build, *start, len(json.dumps(prepared.definition))))
    median = lambda i: statistics.median(f[i] for f in figures)
    print(json.dumps({"build_calls": median(0), "build_seconds": median(1), "start_calls": median(2),
                      "start_seconds": median(3), "definition_chars": median(4)}))
    """
)


def cases(bucket: str, role_arn: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(label, inputs model, arguments) of one evaluation per type, on the seeded hub."""
    common = {"model": MODEL_PACKAGE, "role_arn": role_arn, "evaluate_base_model": True}
    dataset = f"s3://{bucket}/{DATASET_KEY}"
    return [
        (
            "benchmark (mmlu, 2 subtasks)",
            "BenchmarkEvaluation",
            {
                **common,
                "benchmark": "mmlu",
                "subtasks": ["anatomy", "astronomy"],
                "s3_output_path": f"s3://{bucket}/b",
            },
        ),
        (
            "LLM-as-judge (2 built-in + 1 custom metric)",
            "LLMAsJudgeEvaluation",
            {
                **common,
                "evaluator_model": "anthropic.claude-3-5-sonnet-20240620-v1:0",
                "dataset": dataset,
                "builtin_metrics": ["Correctness", "Helpfulness"],
                "custom_metrics": CUSTOM_METRICS,
                "s3_output_path": f"s3://{bucket}/j",
            },
        ),
        (
            "custom scorer (prime_math)",
            "CustomScorerEvaluation",
            {**common, "evaluator": "prime_math", "dataset": dataset, "s3_output_path": f"s3://{bucket}/c"},
        ),
    ]


def rows(env: dict[str, str], bucket: str, role_arn: str, repeat: int) -> list[list[str]]:
    """One row per type: resolve + build, then the start, in calls and milliseconds."""
    table = []
    for label, model_name, arguments in cases(bucket, role_arn):
        out = subprocess.run(
            [sys.executable, "-c", PROBE, model_name, json.dumps(arguments), str(repeat)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        figures = json.loads(out.stdout.strip().splitlines()[-1])
        table.append(
            [
                label,
                f"{figures['build_calls']:.0f}",
                f"{figures['build_seconds'] * 1000:.0f} ms",
                f"{figures['start_calls']:.0f}",
                f"{figures['start_seconds'] * 1000:.0f} ms",
                f"{figures['build_seconds'] / figures['start_seconds']:.2f}x",
                f"{figures['definition_chars']:,.0f}",
            ]
        )
    return table


HEADER = [
    "evaluation",
    "resolve+build calls",
    "resolve+build time",
    "start calls",
    "start time",
    "build/start time",
    "definition chars",
]
