"""The environment the README's commands make: a virtualenv that does not compile on every
import, a suite that cleans up after itself."""

from __future__ import annotations

import importlib.util
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


def test_the_virtualenv_holds_compiled_bytecode() -> None:
    """`make venv` installs with compiled bytecode: uv writes none by default, and where
    PYTHONDONTWRITEBYTECODE is set nor does Python, so every Airflow component, task process and
    test subprocess compiled its imports again (about 3 CPU s each on a loaded 2-core machine)."""
    for name in (
        "airflow.models.taskinstance",
        "airflow.providers.amazon.aws.hooks.base_aws",
        "botocore.client",
    ):
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None, name
        compiled = importlib.util.cache_from_source(spec.origin)
        assert os.path.exists(compiled), f"no {compiled}: remove .venv and run `make venv` again"
