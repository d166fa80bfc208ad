"""Deferred waits measured side by side: ours vs the amazon provider's SageMakerPipelineTrigger.

Two measurements, each trigger set in a fresh process with one event loop, as a triggerer runs it:

- density: N waits on executions that stay running (steps of an hour); after start-up, a window
  of several poll intervals measures CPU per poll (process CPU / N waits / polls each), RSS
  per wait, event-loop lag (a 20 ms ticker's lateness) and API calls per poll (the emulator's
  call log). Start-up is the time from launching the N triggers until the loop answers within
  100 ms again and every trigger has begun waiting.
- one 60-minute wait, time scaled: an execution whose steps take 15 minutes each, with every
  duration divided by ``scale`` (poll intervals too; call counts are
  not scaled), waited on by ours (polling), ours (events) and the peer at the same poll
  interval. API calls come from the call log; end-notice latency is the time from the
  execution's end to the trigger's event, multiplied back by ``scale``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
#: The environment variable that hands the emulator's control token to these measurements.
CONTROL_TOKEN_ENV = "SM_EVAL_EMULATOR_CONTROL_TOKEN"

#: argv: who ("ours"/"amazon"), N, poll seconds, window polls, definition, role, output.
DENSITY_PROBE = textwrap.dedent(
    """
    import asyncio, collections, json, resource, sys, time
    from concurrent.futures import ThreadPoolExecutor
    import aiobotocore.client, boto3
    from airflow_provider_sm_eval.evaluation import EvaluationPipelineExecution
    from airflow_provider_sm_eval.triggerer.runtime import RUNTIME
    from airflow_provider_sm_eval.triggers.evaluation_execution import EvaluationExecutionTrigger
    from airflow.providers.amazon.aws.triggers.sagemaker import SageMakerPipelineTrigger

    who, count, poll, polls = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    definition, role, output = sys.argv[5:8]
    first = EvaluationPipelineExecution.start("benchmark", "bench", definition, role, output)
    sagemaker = boto3.client("sagemaker")
    def start(_):
        return sagemaker.start_pipeline_execution(
            PipelineName=first.pipeline_name, PipelineVersionId=first.pipeline_version_id,
            PipelineParameters=[{"Name": "S3OutputPath", "Value": output}])["PipelineExecutionArn"]
    with ThreadPoolExecutor(8) as pool:
        arns = [first.arn, *pool.map(start, range(count - 1))]

    made = collections.Counter()
    make_api_call = aiobotocore.client.AioBaseClient._make_api_call
    async def counting(self, operation, params):
        made[operation] += 1
        return await make_api_call(self, operation, params)
    aiobotocore.client.AioBaseClient._make_api_call = counting

    def trigger(arn):
        if who == "ours":
            return EvaluationExecutionTrigger(arn, aws_conn_id="aws_default", poll_interval=poll)
        return SageMakerPipelineTrigger(SageMakerPipelineTrigger.Type.COMPLETE, arn, waiter_delay=int(poll),
                                        waiter_max_attempts=100000, aws_conn_id="aws_default")

    def all_waiting():
        if who == "ours":
            held = sum(len(w.waits) for w in RUNTIME.watches.values())
            return held == count and made["ListPipelineExecutions"] >= 1
        return made["DescribePipelineExecution"] >= count

    async def consume(t):
        async for _ in t.run():
            return

    def rss_kb():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    async def main():
        loop = asyncio.get_running_loop()
        lags = []
        async def ticker():
            while True:
                before = loop.time()
                await asyncio.sleep(0.02)
                lags.append(loop.time() - before - 0.02)
        tick = asyncio.ensure_future(ticker())
        rss_before = rss_kb()
        launched = time.perf_counter()
        tasks = [asyncio.ensure_future(consume(trigger(a))) for a in arns]
        while not all_waiting():
            await asyncio.sleep(0.05)
        while True:  # and the loop answers within 100 ms again
            lags.clear()
            await asyncio.sleep(0.2)
            if lags and max(lags) < 0.1:
                break
        startup = time.perf_counter() - launched
        calls_before = dict(made)
        lags.clear()
        cpu_before = time.process_time()
        await asyncio.sleep(poll * polls)
        cpu = time.process_time() - cpu_before
        calls = {k: v - calls_before.get(k, 0) for k, v in made.items() if v - calls_before.get(k, 0)}
        rss = rss_kb() - rss_before
        done = sum(t.done() for t in tasks)
        for t in tasks + [tick]:
            t.cancel()
        await asyncio.gather(*tasks, tick, return_exceptions=True)
        ordered = sorted(lags)
        return {"startup_s": startup, "cpu_ms_per_poll": cpu * 1000 / (count * polls),
                "kb_per_wait": rss / count, "lag_p99_ms": ordered[int(len(ordered) * 0.99)] * 1000,
                "lag_max_ms": ordered[-1] * 1000, "calls": calls,
                "calls_per_poll": sum(calls.values()) / (count * polls), "ended_early": done}

    print(json.dumps(asyncio.run(main())))
    """
)

#: argv: who ("ours", "ours-events", "amazon"), scale, poll seconds (unscaled), queue URL or "-",
#: definition, role, output. The execution: 4 steps of 15 minutes, scaled.
LATENCY_PROBE = textwrap.dedent(
    """
    import asyncio, json, sys, time
    import boto3
    from airflow_provider_sm_eval.evaluation import EvaluationPipelineExecution
    from airflow_provider_sm_eval.triggers.evaluation_execution import EvaluationExecutionTrigger
    from airflow.providers.amazon.aws.triggers.sagemaker import SageMakerPipelineTrigger

    who, scale, poll, queue = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    definition, role, output = sys.argv[5:8]
    if who.startswith("ours"):
        events = {"event_queue_url": queue} if who == "ours-events" else {}
        trigger = lambda arn: EvaluationExecutionTrigger(
            arn, aws_conn_id="aws_default", poll_interval=poll / scale, **events)
    else:
        trigger = lambda arn: SageMakerPipelineTrigger(SageMakerPipelineTrigger.Type.COMPLETE, arn,
                                                       waiter_delay=max(1, int(poll / scale)),
                                                       waiter_max_attempts=100000, aws_conn_id="aws_default")
    import collections, aiobotocore.client
    from airflow_provider_sm_eval.hooks.evaluation import SageMakerEvaluationHook
    made = collections.Counter()
    make_api_call = aiobotocore.client.AioBaseClient._make_api_call
    async def counting(self, operation, params):
        made[f"{self.meta.service_model.service_name}:{operation}"] += 1
        return await make_api_call(self, operation, params)
    aiobotocore.client.AioBaseClient._make_api_call = counting

    async def main():
        # ours: the triggerer's shared clients are open already (the peer opens one per wait)
        hook = SageMakerEvaluationHook(aws_conn_id="aws_default")
        async with hook.shared_async_client(), hook.shared_async_client("sqs"):
            global execution
            execution = EvaluationPipelineExecution.start(
                "benchmark", "latency-" + who, definition, role, output)
            async for event in trigger(execution.arn).run():
                return time.time()

    noticed = asyncio.run(main())
    described = boto3.client("sagemaker").describe_pipeline_execution(PipelineExecutionArn=execution.arn)
    ended = described["LastModifiedTime"].timestamp()
    late = noticed - ended
    print(json.dumps({"latency_s": late if who == "ours-events" else late * scale, "calls": dict(made)}))
    """
)


def probe(code: str, *args: str, env: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, check=True, capture_output=True, text=True, cwd=ROOT
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def emulator_control(
    env: dict[str, str], path: str, method: str = "GET", body: dict[str, Any] | None = None
) -> Any:
    """One control request to the emulator of ``env`` (its endpoint and control token)."""
    from sagemaker_eval_emulator.control import control_request

    return control_request(env["AWS_ENDPOINT_URL"], env[CONTROL_TOKEN_ENV], method, path, body, timeout=60)


def connection_env(env: dict[str, str]) -> dict[str, str]:
    """``env`` with the ``aws_default`` Airflow connection pointing at the emulator."""
    extra = {"endpoint_url": env["AWS_ENDPOINT_URL"], "region_name": "us-east-1"}
    connection = {"conn_type": "aws", "login": "testing", "password": "testing", "extra": extra}
    return {**env, "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(connection), "PYTHONPATH": str(ROOT)}


def density_rows(
    env: dict[str, str], sizes: list[int], *, peer_max: int, poll: float, polls: int, args: list[str]
) -> tuple[list[list[str]], list[str]]:
    """Rows of the density table, and notes on what was not run."""
    env = connection_env(env)
    rows: list[list[str]] = []
    notes: list[str] = []
    for count in sizes:
        measured: dict[str, dict[str, Any]] = {}
        for who in ("ours", "amazon"):
            if who == "amazon" and count > peer_max:
                notes.append(
                    f"amazon trigger not run at N={count:,}: one aiobotocore client per wait "
                    f"(~2 MB each) and its start-up would take the shared machine for minutes "
                    f"(raise --peer-max to run it)"
                )
                continue
            emulator_control(env, "config", "PUT", {"step_seconds": 3600})
            measured[who] = probe(DENSITY_PROBE, who, str(count), str(poll), str(polls), *args, env=env)
            emulator_control(env, "config", "PUT", {"step_seconds": 0.05})
        for who, label in (("ours", "ours"), ("amazon", "amazon")):
            if who not in measured:
                continue
            m = measured[who]
            rows.append(
                [
                    f"{count:,}",
                    label,
                    f"{m['startup_s']:.1f} s",
                    f"{m['cpu_ms_per_poll']:.2f}",
                    f"{m['kb_per_wait']:.0f}",
                    f"{m['lag_p99_ms']:.0f} / {m['lag_max_ms']:.0f}",
                    f"{m['calls_per_poll']:.3f}",
                ]
            )
        if "amazon" in measured:
            ours, peer = measured["ours"], measured["amazon"]
            rows.append(
                [
                    f"{count:,}",
                    "ratio amazon/ours",
                    f"{peer['startup_s'] / max(ours['startup_s'], 0.01):.1f}x",
                    f"{peer['cpu_ms_per_poll'] / max(ours['cpu_ms_per_poll'], 1e-6):.1f}x",
                    f"{peer['kb_per_wait'] / max(ours['kb_per_wait'], 0.1):.1f}x",
                    "",
                    f"{peer['calls_per_poll'] / max(ours['calls_per_poll'], 1e-6):.0f}x",
                ]
            )
    return rows, notes


def latency_rows(env: dict[str, str], scale: float, poll: float, args: list[str]) -> list[list[str]]:
    """One 60-minute wait per kind of waiter, run at the same time, time scaled by ``scale``."""
    from airflow_provider_sm_eval.provisioning.event_setup import ensure_event_queue

    env = connection_env(env)
    endpoint = env["AWS_ENDPOINT_URL"]
    import boto3

    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    queue = ensure_event_queue("sm-eval-bench-events", session=_EndpointSession(session, endpoint)).queue_url
    emulator_control(env, "config", "PUT", {"step_seconds": 15 * 60 / scale})
    emulator_control(env, "calls", "DELETE")
    procs = {
        who: subprocess.Popen(
            [sys.executable, "-c", LATENCY_PROBE, who, str(scale), str(poll), queue, *args],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for who in ("ours", "ours-events", "amazon")
    }
    results = {}
    for who, proc in procs.items():
        out, _ = proc.communicate(timeout=1800)
        results[who] = json.loads(out.strip().splitlines()[-1])
    emulator_control(env, "config", "PUT", {"step_seconds": 0.05})
    rows = []
    peer = results["amazon"]
    peer_sagemaker = sum(n for op, n in peer["calls"].items() if op.startswith("sagemaker:"))
    for who, label in (
        ("ours", "ours, polling"),
        ("ours-events", "ours, events + polls (latency unscaled: delivery is real time)"),
        ("amazon", "amazon SageMakerPipelineTrigger"),
    ):
        calls = results[who]["calls"]
        sagemaker = sum(n for op, n in calls.items() if op.startswith("sagemaker:"))
        sqs = sum(n for op, n in calls.items() if op.startswith("sqs:"))
        detail = ", ".join(f"{op.split(':')[1]} {n}" for op, n in sorted(calls.items()))
        rows.append(
            [
                label,
                str(sagemaker),
                str(sqs) if sqs else "-",
                f"{peer_sagemaker / max(sagemaker, 1):.1f}x",
                f"{results[who]['latency_s']:.0f} s",
                detail,
            ]
        )
    return rows


class _EndpointSession:
    def __init__(self, session: Any, endpoint: str) -> None:
        self.session, self.endpoint = session, endpoint

    def client(self, service: str, region_name: str | None = None) -> Any:
        return self.session.client(service, endpoint_url=self.endpoint, region_name="us-east-1")
