"""Throughput of the emulator vs ``moto_server``: DescribePipelineExecution calls/s with N executions held.

Both servers run as child processes on free ports of 127.0.0.1 and hold the same number of
executions of one pipeline (the emulator's are kept Executing: steps of an hour). Load comes from
``clients`` processes, each replaying DescribePipelineExecution requests for random held ARNs over
one HTTP connection (kept alive when the server allows it, reopened per call when it closes it, as
botocore does). The request bytes are built once, so the client's own cost stays small next to the
server's and the figure is the server's capacity.

    python benchmarks/emulator_throughput.py --held 1 10000 --seconds 3 --rounds 3 --clients 4
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import random
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import boto3
from botocore.config import Config

from sagemaker_eval_emulator.child_process import emulator_process

ROOT = Path(__file__).resolve().parent.parent
DEFINITION = (ROOT / "example_dags" / "pipeline_definitions" / "benchmark.json").read_text()
ROLE_ARN = "arn:aws:iam::123456789012:role/SageMakerEvaluationRole"
REGION = "us-east-1"
#: Any signature is accepted by both servers; the credential scope tells moto the service.
AUTHORIZATION = (
    f"AWS4-HMAC-SHA256 Credential=testing/20260101/{REGION}/sagemaker/aws4_request, "
    "SignedHeaders=host;x-amz-date;x-amz-target, Signature=0"
)


@dataclass(frozen=True)
class Throughput:
    server: str
    held: int
    calls: int
    seconds: float
    errors: int

    @property
    def per_second(self) -> float:
        return self.calls / self.seconds


def measure(
    held: Sequence[int] = (1, 10_000), *, seconds: float = 3.0, clients: int = 4, rounds: int = 3
) -> list[Throughput]:
    """Calls/s of the emulator and of ``moto_server`` at each number of executions held.

    Each figure is the best of ``rounds`` runs of ``seconds``: on a shared machine the best run is
    the one least disturbed by other load.
    """
    results = []
    for server, start in (("emulator", _emulator), ("moto_server", _moto_server)):
        for count in held:
            with start() as endpoint:
                arns = _hold_executions(endpoint, count)
                runs = [
                    _load(server, endpoint, arns, seconds=seconds, clients=clients) for _ in range(rounds)
                ]
                results.append(max(runs, key=lambda r: r.per_second))
    return results


def table(results: Sequence[Throughput]) -> str:
    """The figures and the ratios emulator / moto_server and held-N / held-min, as a text table."""
    moto = {r.held: r.per_second for r in results if r.server == "moto_server"}
    ours = {r.held: r.per_second for r in results if r.server == "emulator"}
    fewest = min(ours, default=0)
    lines = [
        "DescribePipelineExecution throughput (calls/s, higher is better)",
        f"{'executions held':>16} {'emulator':>10} {'moto_server':>12} {'emulator/moto':>14} "
        f"{'emulator vs ' + str(fewest) + ' held':>20}",
    ]
    for count in sorted(ours):
        ratio = ours[count] / moto[count] if moto.get(count) else float("nan")
        lines.append(
            f"{count:>16,} {ours[count]:>10,.0f} {moto.get(count, float('nan')):>12,.0f} "
            f"{ratio:>13.1f}x {ours[count] / ours[fewest]:>19.2f}x"
        )
    errors = sum(r.errors for r in results)
    if errors:
        lines.append(f"({errors} calls failed and are not counted)")
    return "\n".join(lines)


# --- servers -----------------------------------------------------------------------------
@contextmanager
def _emulator() -> Iterator[str]:
    with emulator_process(step_seconds=3600.0, quiet=True, publish_events=False) as process:
        yield process.endpoint_url


@contextmanager
def _moto_server() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.2)
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _hold_executions(endpoint: str, count: int) -> list[str]:
    """Create a pipeline and start ``count`` executions of it; their ARNs."""
    session = boto3.session.Session()
    sm = session.client(
        "sagemaker",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "max_attempts": 10}, max_pool_connections=8),
    )
    name = f"SagemakerEvaluation-BenchmarkEvaluation-{uuid.uuid4()}"
    sm.create_pipeline(
        PipelineName=name,
        PipelineDefinition=DEFINITION,
        RoleArn=ROLE_ARN,
        ClientRequestToken=uuid.uuid4().hex,
    )

    def start(_: int) -> str:
        return str(
            sm.start_pipeline_execution(
                PipelineName=name,
                PipelineParameters=[{"Name": "S3OutputPath", "Value": "s3://sm-eval-bench/throughput"}],
                ClientRequestToken=uuid.uuid4().hex,
            )["PipelineExecutionArn"]
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(start, range(count)))


# --- load --------------------------------------------------------------------------------
def _load(server: str, endpoint: str, arns: list[str], *, seconds: float, clients: int) -> Throughput:
    context = multiprocessing.get_context("spawn")
    with context.Pool(clients) as pool:
        outcomes = pool.starmap(_client, [(endpoint, arns, seconds, index) for index in range(clients)])
    calls = sum(ok for ok, _ in outcomes)
    errors = sum(failed for _, failed in outcomes)
    return Throughput(server, len(arns), calls, seconds, errors)


def _client(endpoint: str, arns: list[str], seconds: float, seed: int) -> tuple[int, int]:
    """Replay DescribePipelineExecution for ``seconds``; (successful calls, failed calls)."""
    url = urlsplit(endpoint)
    picks = random.Random(seed)
    bodies = [json.dumps({"PipelineExecutionArn": picks.choice(arns)}).encode() for _ in range(256)]
    headers = {
        "X-Amz-Target": "SageMaker.DescribePipelineExecution",
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Date": "20260101T000000Z",
        "Authorization": AUTHORIZATION,
    }
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
    ok = failed = 0
    deadline = time.perf_counter() + seconds
    index = 0
    while time.perf_counter() < deadline:
        connection.request("POST", "/", body=bodies[index % len(bodies)], headers=headers)
        response = connection.getresponse()
        response.read()
        if response.status == 200:
            ok += 1
        else:
            failed += 1
        index += 1
    connection.close()
    return ok, failed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--held", type=int, nargs="+", default=[1, 10_000], help="executions held (1 10000)")
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds of load per run (3)")
    parser.add_argument("--rounds", type=int, default=3, help="runs per figure, the best is kept (3)")
    parser.add_argument("--clients", type=int, default=4, help="client processes (4)")
    args = parser.parse_args(argv)
    print(table(measure(args.held, seconds=args.seconds, clients=args.clients, rounds=args.rounds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
