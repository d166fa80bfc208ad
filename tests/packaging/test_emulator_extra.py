"""Without the ``emulator`` extra: pytest sessions still run, the emulator says how to install it.

The extra's modules are hidden from a child interpreter (``sys.modules[name] = None`` makes
their import fail as if they were not installed), which then runs what a user would run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from airflow_provider_sm_eval.emulator.extra import EXTRA_MODULES, INSTALL_COMMAND

#: The user suite the compatibility run also runs (``compat/run.py``).
USER_SUITE = Path(__file__).resolve().parents[2] / "compat" / "user_suite"
HIDE_EXTRA = f"import sys\nfor name in {EXTRA_MODULES!r}: sys.modules[name] = None\n"


def _run_without_extra(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", HIDE_EXTRA + code],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_unrelated_suite_passes_and_emulator_fixtures_skip_naming_the_extra(tmp_path: Path) -> None:
    result = _run_without_extra(
        f"import pytest\nsys.exit(pytest.main(['-q', '-rs', '-p', 'no:cacheprovider', {str(USER_SUITE)!r}]))",
        tmp_path,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 1 skipped" in result.stdout
    assert INSTALL_COMMAND in result.stdout


def test_emulator_entry_point_prints_the_install_command(tmp_path: Path) -> None:
    result = _run_without_extra(
        "import runpy\nrunpy.run_module('airflow_provider_sm_eval.emulator', run_name='__main__')", tmp_path
    )

    assert result.returncode == 1
    assert INSTALL_COMMAND in result.stderr
    assert "Traceback" not in result.stderr


def test_emulator_names_without_the_extra_raise_with_the_install_command(tmp_path: Path) -> None:
    result = _run_without_extra(
        "import airflow_provider_sm_eval.emulator as emulator\n"
        "try:\n    emulator.EvaluationEmulator\n"
        "except ModuleNotFoundError as exc:\n    print(exc)\n",
        tmp_path,
    )

    assert INSTALL_COMMAND in result.stdout, result.stderr
