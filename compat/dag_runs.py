"""Run inside one compatibility environment: the benchmark example DAG, deferred then blocking.

Called by ``compat/run.py`` with that environment's Python (its Airflow, its amazon provider,
the provider installed from the wheel) and an Airflow home whose ``aws_default`` connection
points at the emulator. Each mode loads the DAG file afresh, sets the wait mode of ``evaluate``
and runs ``dag.test()`` (what ``airflow dags test`` runs), then checks what the run left in the
metadata database: every task succeeded, the evaluation succeeded, and ``evaluate`` deferred to
the provider's trigger exactly in deferrable mode. Prints one JSON line per check.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DAG_FILE = REPO / "example_dags" / "example_sm_eval_benchmark.py"
TRIGGER = "airflow_provider_sm_eval.triggers.evaluation_execution.EvaluationExecutionTrigger"


def load_file(path: Path) -> Any:
    """The module of one file, loaded afresh by its path: the repository is not on ``sys.path``
    here, so ``airflow_provider_sm_eval`` is the environment's (the wheel), never the checkout's."""
    spec = importlib.util.spec_from_file_location(f"_compat_{time.monotonic_ns()}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: What the example DAG tests read of a run (task states, XCom, the trigger a task deferred to).
support = load_file(REPO / "tests" / "example_dags" / "dag_run_support.py")


def load_dag() -> Any:
    return load_file(DAG_FILE).dag


def run(mode: str) -> dict[str, Any]:
    dag = load_dag()
    dag.get_task("evaluate").deferrable = mode == "deferrable"
    started = time.monotonic()
    dag_run = dag.test()
    elapsed = time.monotonic() - started
    states = support.task_states(dag_run)
    evaluation = support.xcom(dag_run, "evaluate") or {}
    if isinstance(evaluation, str):
        evaluation = json.loads(evaluation)
    deferred_to = support.trigger_of(dag_run, "evaluate")
    problems = [f"task {task} is {state}" for task, state in sorted(states.items()) if state != "success"]
    if evaluation.get("status") != "Succeeded":
        problems.append(f"evaluation status {evaluation.get('status')!r}")
    if (deferred_to == TRIGGER) != (mode == "deferrable"):
        problems.append(f"evaluate deferred to {deferred_to!r}")
    return {"check": mode, "ok": not problems, "problems": problems, "seconds": round(elapsed, 1)}


def provider_registered() -> dict[str, Any]:
    from airflow.providers_manager import ProvidersManager

    providers = ProvidersManager().providers
    ok = "airflow-provider-sm-eval" in providers
    return {"check": "registered", "ok": ok, "problems": [] if ok else ["provider not discovered"]}


def main() -> int:
    results = [provider_registered(), run("deferrable"), run("blocking")]
    for result in results:
        print("COMPAT " + json.dumps(result), flush=True)
    return 0 if all(result["ok"] for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
