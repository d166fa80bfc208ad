"""The suite's own set-up cleans up after itself."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_a_pytest_run_leaves_no_airflow_home_behind(tmp_path: Path) -> None:
    # Each pytest process, and each xdist worker, makes its own AIRFLOW_HOME in the temp folder.
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    args = ["-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", "-n", "2"]
    done = subprocess.run(
        [sys.executable, *args, "tests/devstack/test_api_paging.py"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert not list(tmp_path.glob("sm-eval-airflow-home-*"))  # pytest keeps its own basetemp
