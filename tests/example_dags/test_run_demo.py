"""``example_dags/run_demo.py`` (the README's ``make demo``) as a user runs it: a subprocess."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.dag_run

RUN_DEMO = Path(__file__).resolve().parents[2] / "example_dags" / "run_demo.py"
EMULATOR_LINE = re.compile(r"Emulator running at (http://127\.0\.0\.1:\d+) \(pid (\d+)\)")


def assert_process_gone(pid: int) -> None:
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_demo_runs_the_benchmark_dag_and_prints_steps_summary_and_results(tmp_path: Path) -> None:
    # What an interrupted first demo leaves: a half-made database, never marked as migrated.
    (tmp_path / "airflow-home").mkdir()
    (tmp_path / "airflow-home" / "airflow.db").write_bytes(b"not a database")

    result = subprocess.run(
        [
            sys.executable,
            str(RUN_DEMO),
            "--dag",
            "example_sm_eval_benchmark",
            "--airflow-home",
            str(tmp_path / "airflow-home"),
            "--step-seconds",
            "0.05",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )

    output = result.stdout
    assert result.returncode == 0, output + result.stderr
    for crash in ("Fatal Python error", "Traceback"):  # e.g. the emulator child's at its exit
        assert crash not in output + result.stderr, output + result.stderr
    sections = [
        "=== example_sm_eval_benchmark: DAG run succeeded",
        "--- Steps of arn:aws:sagemaker:us-east-1:123456789012:pipeline/sagemakerevaluation-benchmark",
        "--- XCom return_value of task 'evaluate'",
        "--- Results",
        "All 1 demo DAG runs succeeded.",
    ]
    positions = [output.index(section) for section in sections]
    assert positions == sorted(positions)
    steps_table = output[positions[1] : positions[2]]
    for step in ("CreateEvaluationAction", "EvaluateBaseModel", "EvaluateCustomModel", "AssociateLineage"):
        assert re.search(rf"^{step}\s+Succeeded", steps_table, re.MULTILINE), steps_table
    summary = output[positions[2] : positions[3]]
    assert '"status": "Succeeded"' in summary
    assert '"deltas": {' in summary
    results = output[positions[3] : positions[4]]
    assert re.search(r"^acc\s+\d\.\d+\s+\d\.\d+\s+[+-]\d\.\d+", results, re.MULTILINE), results
    assert (tmp_path / "airflow-home" / "demo-logs" / "example_sm_eval_benchmark.log").exists()
    assert result.stderr.count("emulator stopped") == 1, result.stderr  # the child's own last words
    assert "Emulator stopped." not in output  # said once, by the child
    match = EMULATOR_LINE.search(output)
    assert match is not None
    assert_process_gone(int(match.group(2)))


def test_demo_stops_the_emulator_when_terminated(tmp_path: Path) -> None:
    demo = subprocess.Popen(
        [sys.executable, str(RUN_DEMO), "--airflow-home", str(tmp_path / "airflow-home")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert demo.stdout is not None
    first_line = demo.stdout.readline()
    match = EMULATOR_LINE.search(first_line)
    assert match is not None, first_line

    demo.send_signal(signal.SIGTERM)
    _, stderr = demo.communicate(timeout=180)

    assert demo.returncode != 0
    assert "emulator stopped" in stderr
    assert_process_gone(int(match.group(2)))
