"""Benchmarks against the peers, measured in one run; prints a table of figures and ratios.

Peers: the SageMaker Python SDK's ``sagemaker.train.evaluate`` (package ``sagemaker-train``, in its
own virtualenv given by ``--sdk-python``), the amazon provider's SageMaker pipeline operators
and trigger, and ``moto_server`` for the emulator's own throughput. Everything runs against the
local emulator started here; each measurement runs in a fresh subprocess so that imports and
memory high-water marks do not leak between them.

    make bench                       # installs the SDK's virtualenv, then runs this script
    python -m benchmarks.run --sdk-python .venv-bench-sdk/bin/python --examples 100000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks import emulator_throughput, evaluators_build, waits
from sagemaker_eval_emulator.child_process import EmulatorProcess, emulator_process

ROOT = Path(__file__).resolve().parent.parent
BENCHMARK_DEFINITION = ROOT / "example_dags" / "pipeline_definitions" / "benchmark.json"
LLMAJ_DEFINITION = ROOT / "example_dags" / "pipeline_definitions" / "llm_as_judge.json"
ROLE_ARN = "arn:aws:iam::123456789012:role/SageMakerEvaluationRole"
BUCKET = "sm-eval-bench"
#: What a DAG file using the provider imports.
OUR_DAG_MODULES = ",".join(
    f"airflow_provider_sm_eval.{module}"
    for module in (
        "operators.start_evaluation",
        "operators.evaluators",
        "operators.stop_evaluation",
        "operators.evaluation_results",
        "operators.evaluation_gate",
        "sensors.evaluation_execution",
    )
)

#: Imports the comma-separated modules of argv[1] (what the process has anyway), then those of
#: argv[2], and prints what the second import added: {"seconds": ..., "added_rss_mb": ...}.
IMPORT_PROBE = textwrap.dedent(
    """
    import importlib, json, resource, sys, time
    def rss_mb():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for module in filter(None, sys.argv[1].split(",")):
        importlib.import_module(module)
    before = rss_mb()
    start = time.perf_counter()
    for module in sys.argv[2].split(","):
        importlib.import_module(module)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "added_rss_mb": rss_mb() - before}))
    """
)

#: Our results path: summary (win rates over every record) + the first page of examples.
OURS_RESULTS_PROBE = textwrap.dedent(
    """
    import json, resource, sys, time
    from airflow_provider_sm_eval.evaluation import EvaluationPipelineExecution
    import boto3
    execution = EvaluationPipelineExecution.get(sys.argv[1])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    summary = execution.summary()
    text = execution.render_results(limit=5)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rss_growth_mb": after - before, "peak_rss_mb": after,
                      "pairs": summary.win_rates.pairs if summary.win_rates else None}))
    """
)

#: The SDK's results path: show_results(limit=5) of an LLM-as-judge execution (it computes win
#: rates over every record too). Its get() cannot tell the eval type from a lower-case ARN, so the
#: probe converts the execution to the LLM-as-judge class the way the SDK does internally.
SDK_RESULTS_PROBE = textwrap.dedent(
    """
    import io, json, resource, sys, time, contextlib
    from sagemaker.train.evaluate.constants import EvalType
    from sagemaker.train.evaluate.execution import EvaluationPipelineExecution
    execution = EvaluationPipelineExecution.get(sys.argv[1])
    typed = type(execution).__name__ != "EvaluationPipelineExecution"
    execution = execution._convert_to_subclass(EvalType.LLM_AS_JUDGE)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        execution.show_results(limit=5)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rss_growth_mb": after - before, "peak_rss_mb": after,
                      "typed_by_get": typed}))
    """
)


def _probe(python: str, code: str, *args: str, env: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run(
        [python, "-c", code, *args], env=env, check=True, capture_output=True, text=True, cwd=ROOT
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


@contextmanager
def _emulator(examples: int) -> Iterator[EmulatorProcess]:
    """The emulator as a child process, with the benchmarks' bucket."""
    with emulator_process(step_seconds=0.05, examples=examples, quiet=True) as process:
        process.client("s3").create_bucket(Bucket=BUCKET)
        process.client("s3").put_object(
            Bucket=BUCKET, Key=evaluators_build.DATASET_KEY, Body=b'{"query": "1+1?", "response": "2"}\n'
        )
        yield process


def _aws_env(emulator: EmulatorProcess) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        {waits.CONTROL_TOKEN_ENV: emulator.control_token},
        AWS_ENDPOINT_URL=emulator.endpoint_url,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
    )
    return env


def _finished_llmaj_execution(env: dict[str, str]) -> str:
    """Start an LLM-as-judge evaluation on the emulator with our core and wait for it."""
    code = textwrap.dedent(
        f"""
        import json
        from airflow_provider_sm_eval.evaluation import EvaluationPipelineExecution
        execution = EvaluationPipelineExecution.start(
            "llmasjudge", "bench", "{LLMAJ_DEFINITION}", "{ROLE_ARN}", "s3://{BUCKET}/results")
        execution.wait(poll=0.5, timeout=1800)
        print(json.dumps({{"arn": execution.arn}}))
        """
    )
    return str(_probe(sys.executable, code, env=env)["arn"])


def _import_rows(sdk_python: str | None, env: dict[str, str], repeat: int) -> list[list[str]]:
    """What importing each package adds to a process, beyond what it already has.

    A DAG file imports ``airflow.sdk`` anyway, so the provider modules are measured on top of it;
    the SDK is measured on a bare interpreter (it needs no Airflow).
    """
    cases: list[tuple[str, str, str, str]] = [
        ("ours: every operator and sensor module", sys.executable, "airflow.sdk", OUR_DAG_MODULES),
        (
            "amazon provider: operators.sagemaker",
            sys.executable,
            "airflow.sdk",
            "airflow.providers.amazon.aws.operators.sagemaker",
        ),
    ]
    if sdk_python:
        cases.append(("SDK: sagemaker.train.evaluate", sdk_python, "", "sagemaker.train.evaluate"))
    measured = []
    for label, python, baseline, modules in cases:
        runs = [_probe(python, IMPORT_PROBE, baseline, modules, env=env) for _ in range(repeat)]
        measured.append(
            (
                label,
                statistics.median(r["seconds"] for r in runs),
                statistics.median(r["added_rss_mb"] for r in runs),
            )
        )
    _, our_seconds, our_rss = measured[0]
    return [
        [
            label,
            f"{seconds * 1000:.0f} ms",
            f"{rss:.1f} MB",
            f"{seconds / our_seconds:.1f}x",
            f"{rss / max(our_rss, 0.1):.1f}x",
        ]
        for label, seconds, rss in measured
    ]


def _results_rows(sdk_python: str | None, env: dict[str, str], arn: str) -> list[list[str]]:
    ours = _probe(sys.executable, OURS_RESULTS_PROBE, arn, env=env)
    rows = [
        [
            "ours: summary() + render_results(limit=5)",
            f"{ours['seconds']:.2f} s",
            f"{ours['rss_growth_mb']:.0f} MB",
            "1.00x",
            "1.00x",
        ]
    ]
    if sdk_python:
        sdk = _probe(sdk_python, SDK_RESULTS_PROBE, arn, env=env)
        rows.append(
            [
                "SDK: show_results(limit=5)",
                f"{sdk['seconds']:.2f} s",
                f"{sdk['rss_growth_mb']:.0f} MB",
                f"{sdk['seconds'] / ours['seconds']:.2f}x",
                f"{sdk['rss_growth_mb'] / max(ours['rss_growth_mb'], 1.0):.2f}x",
            ]
        )
        if not sdk["typed_by_get"]:
            rows.append(["  (SDK get() returned the untyped base class for this ARN)", "", "", "", ""])
    return rows


def _table(title: str, header: Sequence[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [list(header), *rows]) for i in range(len(header))]
    lines = [title, "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--sdk-python", help="python of a virtualenv with sagemaker-train installed")
    parser.add_argument("--examples", type=int, default=100_000, help="LLM-as-judge records per model")
    parser.add_argument("--repeat", type=int, default=5, help="import runs per module (median)")
    parser.add_argument(
        "--waits", type=int, nargs="+", default=[100, 1000, 5000], help="concurrent deferred waits (N)"
    )
    parser.add_argument("--peer-max", type=int, default=1000, help="largest N the amazon trigger runs at")
    parser.add_argument("--poll", type=float, default=5.0, help="poll interval of the density runs (s)")
    parser.add_argument("--scale", type=float, default=30.0, help="time scale of the 60-minute wait")
    parser.add_argument(
        "--held", type=int, nargs="+", default=[1, 10_000], help="executions held by the servers measured"
    )
    parser.add_argument(
        "--only", choices=["imports", "build"], help="print only this table (default: every table)"
    )
    args = parser.parse_args(argv)

    with _emulator(args.examples) as emulator:
        env = _aws_env(emulator)
        if args.only in (None, "imports"):
            print(
                _table(
                    f"Import cost added to a DAG file (median of {args.repeat} fresh processes; "
                    "ratio = peer / ours)",
                    ["what is imported", "added time", "added RSS", "time ratio", "RSS ratio"],
                    _import_rows(args.sdk_python, env, args.repeat),
                )
            )
            print()
        if args.only in (None, "build"):
            print(
                _table(
                    "Evaluator operators: resolving their arguments and building the definition, next "
                    f"to the start (median of {args.repeat} rounds, emulator's seeded hub)",
                    evaluators_build.HEADER,
                    evaluators_build.rows(env, BUCKET, ROLE_ARN, args.repeat),
                )
            )
            print()
        if args.only is not None:
            return 0
        definition_args = [str(BENCHMARK_DEFINITION), ROLE_ARN, f"s3://{BUCKET}/waits"]
        rows, notes = waits.density_rows(
            env, args.waits, peer_max=args.peer_max, poll=args.poll, polls=3, args=definition_args
        )
        print(
            _table(
                f"Concurrent deferred waits in one triggerer event loop, {args.poll:g} s polls, "
                "3 polls measured after start-up",
                ["N", "trigger", "start-up", "CPU ms/poll", "KB/wait", "loop lag p99/max ms", "calls/poll"],
                rows,
            )
        )
        for note in notes:
            print(f"  {note}")
        print()
        print(
            _table(
                f"One 60-minute wait (4 steps of 15 min), 30 s polls, time scaled 1:{args.scale:g} "
                "(counts are not scaled)",
                ["waiter", "SageMaker calls", "SQS calls", "peer/ours", "end noticed after", "calls"],
                waits.latency_rows(env, args.scale, 30.0, definition_args),
            )
        )
        print()
        arn = _finished_llmaj_execution(env)
        print(
            _table(
                f"LLM-as-judge results, {args.examples:,} records per model (ratio = peer / ours)",
                ["what runs", "time", "RSS growth", "time ratio", "RSS ratio"],
                _results_rows(args.sdk_python, env, arn),
            )
        )
    print()
    print(emulator_throughput.table(emulator_throughput.measure(args.held)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
