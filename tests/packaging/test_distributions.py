"""The two distributions of this repository, built and installed as users get them.

The provider's wheel carries no emulator module, no moto and no pytest plugin; the emulator's wheel
(``emulator/``) installs alone in a fresh virtualenv, without the provider or Airflow, and serves
boto3, its own pytest fixtures and the SageMaker SDK there.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UV = Path(sys.executable).with_name("uv")
#: The SageMaker SDK's own virtualenv (``make sdk-venv``; never a dependency of the test env).
SDK_PYTHONS = (os.environ.get("SM_EVAL_SDK_PYTHON", ""), str(REPO / ".venv-bench-sdk" / "bin" / "python"))

pytestmark = [pytest.mark.packaging, pytest.mark.xdist_group(__name__)]


def _run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False, **kwargs)  # type: ignore[call-overload]


def _build(project: Path, out_dir: Path) -> Path:
    result = _run([str(UV), "build", "--quiet", "--wheel", "--out-dir", str(out_dir), str(project)])
    assert result.returncode == 0, result.stderr
    (wheel,) = out_dir.glob("*.whl")
    return wheel


@pytest.fixture(scope="module")
def provider_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build(REPO, tmp_path_factory.mktemp("provider-wheel"))


@pytest.fixture(scope="module")
def emulator_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the emulator's wheel and pytest, nothing of the provider."""
    wheel = _build(REPO / "emulator", tmp_path_factory.mktemp("emulator-wheel"))
    venv = tmp_path_factory.mktemp("emulator-venv") / "venv"
    created = _run([str(UV), "venv", "--quiet", "--python", sys.executable, str(venv)])
    assert created.returncode == 0, created.stderr
    python = venv / "bin" / "python"
    constraints = ["-c", str(REPO / "constraints.txt")]
    installed = _run(
        [str(UV), "pip", "install", "--quiet", "--python", str(python), *constraints, str(wheel), "pytest"]
    )
    assert installed.returncode == 0, installed.stderr
    return python


def test_the_provider_wheel_has_no_emulator_no_moto_and_no_pytest_plugin(provider_wheel: Path) -> None:
    with zipfile.ZipFile(provider_wheel) as archive:
        names = archive.namelist()
        (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        entry_points_text = archive.read(entry_points).decode()
        requires = [
            line for line in archive.read(metadata).decode().splitlines() if line.startswith("Requires-Dist:")
        ]

    assert [n for n in names if "emulator" in n] == []
    assert "[pytest11]" not in entry_points_text
    assert "[apache_airflow_provider]" in entry_points_text  # the file read is the real one
    assert [line for line in requires if "moto" in line] == []
    assert any("apache-airflow" in line for line in requires)


def test_the_emulator_installs_alone_and_serves_its_pytest_fixtures(emulator_python: Path) -> None:
    absent = _run(
        [
            str(emulator_python),
            "-c",
            "import importlib.util as u\n"
            "print(u.find_spec('airflow_provider_sm_eval'), u.find_spec('airflow'))",
        ],
        cwd=emulator_python.parents[2],  # not the repository, whose folder holds the provider's package
    )
    suite = _run(
        [
            str(emulator_python),
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(REPO / "compat" / "user_suite"),
        ],
        cwd=emulator_python.parents[2],
    )

    assert absent.stdout.split() == ["None", "None"], absent.stderr
    assert suite.returncode == 0, suite.stdout + suite.stderr
    assert "2 passed" in suite.stdout


def test_the_sdk_evaluates_waits_and_shows_results_against_the_emulator_alone(
    emulator_python: Path, tmp_path: Path
) -> None:
    sdk_python = next((str(Path(p).absolute()) for p in SDK_PYTHONS if p and Path(p).is_file()), None)
    if sdk_python is None:
        pytest.skip("no SageMaker SDK virtualenv: `make sdk-venv` or SM_EVAL_SDK_PYTHON")
    regenerate = REPO / "tests" / "fixtures" / "sdk_definitions" / "regenerate.py"

    result = _run(
        [
            sdk_python,
            str(regenerate),
            "--emulator-python",
            str(emulator_python),
            "--out",
            str(tmp_path),
            "benchmark_base",
        ],
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "benchmark_base.json").is_file()
