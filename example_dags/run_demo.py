"""The README's demo (``make demo``): run the example evaluation DAGs against the local emulator.

1. starts the SageMaker evaluation emulator (``python -m sagemaker_eval_emulator``)
   on a free port of 127.0.0.1;
2. prepares a throwaway Airflow home in ``.airflow-home/`` (sqlite, migrated once) whose
   ``aws_default`` connection points at the emulator with dummy keys;
3. creates the S3 bucket the DAGs write to, with the prompts the judge and the scorer read, and
   runs ``airflow dags test`` for each demo DAG (written with the evaluator operators, which
   resolve their models in the emulator's seeded public hub);
4. prints, per DAG, the execution's step table, the evaluation task's XCom summary
   (``return_value``) and the results table.

The emulator is stopped on every exit path. The exit code is non-zero when a DAG run failed.
Airflow's own output goes to ``.airflow-home/demo-logs/`` (``--verbose`` shows it instead);
``--dag`` picks DAGs, ``--airflow-home`` another throwaway home.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, Literal

from sagemaker_eval_emulator.child_process import emulator_process

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_DAGS = REPO / "example_dags"
DEFAULT_AIRFLOW_HOME = REPO / ".airflow-home"
DEMO_BUCKET = "sm-eval-example"
#: The example DAGs' default dataset (``SM_EVAL_DATASET``), and what the demo puts there.
DEMO_DATASET_KEY = "datasets/prompts.jsonl"
DEMO_PROMPTS = (
    b'{"query": "What is 1+1?", "response": "2"}\n{"query": "Capital of France?", "response": "Paris"}\n'
)
#: How often the example DAGs poll the emulator (their default, 30 s, suits real evaluations).
POLL_SECONDS = "0.5"


@dataclass(frozen=True)
class DemoDag:
    """A DAG the demo runs, and the task whose return value is the evaluation summary."""

    dag_id: str
    file_name: str
    evaluation_task_id: str = "evaluate"


DEMO_DAGS = (
    DemoDag("example_sm_eval_benchmark", "example_sm_eval_benchmark.py"),
    DemoDag("example_sm_eval_llm_as_judge", "example_sm_eval_llm_as_judge.py", "read_results"),
    DemoDag("example_sm_eval_custom_scorer", "example_sm_eval_custom_scorer.py"),
)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    dags = [dag for dag in DEMO_DAGS if not args.dag or dag.dag_id in args.dag]
    home: Path = args.airflow_home.resolve()
    with emulator(args.step_seconds) as endpoint:
        env = airflow_environment(endpoint, home)
        migrate_if_needed(env, home, verbose=args.verbose)
        put_example_data(_emulator_client("s3", endpoint))
        failed = [
            dag.dag_id
            for dag in dags
            if not run_dag(dag, env, endpoint, home / "demo-logs", verbose=args.verbose)
        ]
    if failed:
        print(f"\nFAILED: {', '.join(failed)}", flush=True)
        return 1
    print(f"\nAll {len(dags)} demo DAG runs succeeded.", flush=True)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--dag",
        action="append",
        choices=[dag.dag_id for dag in DEMO_DAGS],
        help="run only this DAG (repeatable; default: all demo DAGs)",
    )
    parser.add_argument(
        "--step-seconds", type=float, default=0.5, help="seconds each emulated pipeline step takes"
    )
    parser.add_argument(
        "--airflow-home",
        type=Path,
        default=DEFAULT_AIRFLOW_HOME,
        help=f"throwaway Airflow home with its sqlite database (default {DEFAULT_AIRFLOW_HOME})",
    )
    parser.add_argument("--verbose", action="store_true", help="show Airflow's output as it runs")
    return parser


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    """Turn SIGTERM into SystemExit so that the emulator is stopped on the way out."""
    raise SystemExit(128 + signum)


@contextmanager
def emulator(step_seconds: float) -> Iterator[str]:
    """Run the emulator as a child process; yield its endpoint URL; stop it however we leave (the
    child says "emulator stopped" on its way out, on our stderr)."""
    with emulator_process(step_seconds=step_seconds) as process:
        print(f"Emulator running at {process.endpoint_url} (pid {process.pid})", flush=True)
        yield process.endpoint_url


def airflow_environment(endpoint: str, home: Path) -> dict[str, str]:
    """Environment of the Airflow commands: throwaway home, sqlite, ``aws_default`` -> emulator."""
    from sagemaker_eval_emulator.server import ACCESS_KEY_ID, DEFAULT_REGION, SECRET_ACCESS_KEY

    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AIRFLOW_", "AWS_", "SM_EVAL_"))
    }
    connection = {
        "conn_type": "aws",
        "login": ACCESS_KEY_ID,
        "password": SECRET_ACCESS_KEY,
        "extra": {"endpoint_url": endpoint, "region_name": DEFAULT_REGION},
    }
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(EXAMPLE_DAGS),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
        AIRFLOW_CONN_AWS_DEFAULT=json.dumps(connection),
        AWS_DEFAULT_REGION=DEFAULT_REGION,
        SM_EVAL_POLL_SECONDS=POLL_SECONDS,
    )
    return env


def migrate_if_needed(env: dict[str, str], home: Path, *, verbose: bool) -> None:
    """Create the sqlite metadata database the first time (about ten seconds).

    A marker file is written once the migration has finished, so that a migration cut short
    (Ctrl-C, SIGTERM) is started over instead of leaving a half-made database in use.
    """
    database = home / "airflow.db"
    migrated = home / "airflow.db.migrated"
    if migrated.exists() and database.exists():
        return
    home.mkdir(parents=True, exist_ok=True)
    database.unlink(missing_ok=True)
    print(f"Creating the Airflow database in {home} ...", flush=True)
    code = _airflow(["db", "migrate"], env, home / "demo-logs" / "db-migrate.log", verbose=verbose)
    if code != 0:
        raise SystemExit(f"airflow db migrate failed (exit code {code})")
    migrated.touch()


def put_example_data(s3: Any) -> None:
    """The bucket the example DAGs write to, with the prompts they read (``s3``: a boto3 client)."""
    s3.create_bucket(Bucket=DEMO_BUCKET)
    s3.put_object(Bucket=DEMO_BUCKET, Key=DEMO_DATASET_KEY, Body=DEMO_PROMPTS)


def run_dag(dag: DemoDag, env: dict[str, str], endpoint: str, log_folder: Path, *, verbose: bool) -> bool:
    """``airflow dags test`` one DAG, then print what it produced; True when the run succeeded."""
    log_file = log_folder / f"{dag.dag_id}.log"
    print(f"\n=== {dag.dag_id}: airflow dags test ...", flush=True)
    started = time.monotonic()
    code = _airflow(
        ["dags", "test", dag.dag_id, "--dagfile-path", str(EXAMPLE_DAGS / dag.file_name)],
        env,
        log_file,
        verbose=verbose,
    )
    elapsed = time.monotonic() - started
    outcome = "succeeded" if code == 0 else f"FAILED (exit code {code})"
    print(f"=== {dag.dag_id}: DAG run {outcome} in {elapsed:.1f} s; Airflow output: {log_file}", flush=True)
    if code != 0 and not verbose:
        print(_tail(log_file, 40), flush=True)
    summary = _evaluation_xcom(dag, env)
    if summary is None:
        print(f"(task {dag.evaluation_task_id!r} pushed no return value)", flush=True)
        return False
    _print_execution(summary, dag.evaluation_task_id, endpoint)
    return code == 0


def _airflow(arguments: list[str], env: dict[str, str], log_file: Path, *, verbose: bool) -> int:
    command = [str(Path(sys.executable).with_name("airflow")), *arguments]
    if verbose:
        return subprocess.run(command, env=env, cwd=REPO, check=False).returncode
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("w") as out:
        return subprocess.run(
            command, env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, check=False
        ).returncode


def _evaluation_xcom(dag: DemoDag, env: dict[str, str]) -> dict[str, Any] | None:
    """The evaluation task's return value in the DAG's latest run, read in a child process.

    A child process, because Airflow reads its configuration (home, database) at import time.
    """
    script = (
        "import json, sys\n"
        "from sqlalchemy import select\n"
        "from airflow.models.dagrun import DagRun\n"
        "from airflow.models.xcom import XComModel\n"
        "from airflow.utils.session import create_session\n"
        "dag_id, task_id = sys.argv[1:3]\n"
        "with create_session() as session:\n"
        "    run_id = session.scalar(select(DagRun.run_id).where(DagRun.dag_id == dag_id)\n"
        "                            .order_by(DagRun.id.desc()).limit(1))\n"
        "    row = session.scalars(select(XComModel).where(XComModel.dag_id == dag_id,\n"
        "        XComModel.run_id == run_id, XComModel.task_id == task_id,\n"
        "        XComModel.key == 'return_value')).first()\n"
        "    print(json.dumps(None if row is None else XComModel.deserialize_value(row)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, dag.dag_id, dag.evaluation_task_id],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        print(f"(could not read XCom: {result.stderr.strip().splitlines()[-1:]})", flush=True)
        return None
    value = json.loads(result.stdout.strip().splitlines()[-1])
    if isinstance(value, str):
        value = json.loads(value)
    return value if isinstance(value, dict) else None


def _print_execution(summary: dict[str, Any], task_id: str, endpoint: str) -> None:
    """The step table, the task's XCom return value, then the results table."""
    from airflow_provider_sm_eval.evaluation import AwsClients, EvaluationPipelineExecution
    from airflow_provider_sm_eval.evaluation.steps_table import format_step_table

    clients = AwsClients(
        sagemaker_client=_emulator_client("sagemaker", endpoint), s3_client=_emulator_client("s3", endpoint)
    )
    execution = EvaluationPipelineExecution.get(summary["execution_arn"], clients=clients)
    _section(f"Steps of {execution.arn} ({execution.status.overall_status.value})")
    print(format_step_table(execution.steps), flush=True)
    _section(f"XCom return_value of task {task_id!r}")
    print(json.dumps(summary, indent=2, sort_keys=True), flush=True)
    if execution.status.is_succeeded:
        _section("Results")
        print(execution.render_results(limit=3, clients=clients), flush=True)


def _emulator_client(service: Literal["sagemaker", "s3"], endpoint: str) -> Any:
    """A boto3 client of the emulator, with its dummy keys."""
    from sagemaker_eval_emulator.server import emulator_client

    return emulator_client(endpoint, service)


def _section(title: str) -> None:
    print(f"\n--- {title}", flush=True)


def _tail(path: Path, lines: int) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


if __name__ == "__main__":
    sys.exit(main())
