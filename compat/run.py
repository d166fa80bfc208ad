"""`make compat`: the built wheel in fresh environments of the Airflow and Python versions it declares.

1. builds the sdist and the wheel from it (``uv build``), and checks the license text, the
   changelog and a classifier per Python are in them; builds the emulator's wheel (``emulator/``);
2. starts the emulator (from the development environment) and creates the example bucket;
3. for each environment of ``ENVIRONMENTS``, two at a time: a uv virtualenv of that Python with
   ``apache-airflow==<version>``, the wheel (with or without the emulator's wheel beside it) and
   whichever amazon and common-compat providers resolve for them; a sqlite Airflow home whose ``aws_default``
   connection points at the emulator; then ``compat/dag_runs.py`` in it (the benchmark example
   DAG, deferred and blocking, and the provider's registration), and ``test_version_compat.py``
   against the installed wheel (every Airflow name resolves there); a user's pytest suite
   (``compat/user_suite``): with the emulator installed, its test that uses the emulator's fixture
   passes too; without it, the provider registers no pytest plugin (nothing of the emulator loads);
4. prints the supported-versions table (the README's) and exits non-zero if any check failed.

Environments and their migrated databases are kept in the cache folder (``--cache-dir``), so a
second run only reinstalls the wheel. Each environment's output is in ``<cache>/logs/``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from airflow_provider_sm_eval.evaluation.steps_table import format_table
from example_dags.run_demo import airflow_environment, put_example_data
from sagemaker_eval_emulator.child_process import emulator_process

REPO = Path(__file__).resolve().parent.parent

DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "airflow-provider-sm-eval"
PACKAGES = ("apache-airflow", "apache-airflow-providers-amazon", "apache-airflow-providers-common-compat")


@dataclass(frozen=True)
class CompatEnv:
    """One environment: an Airflow release on a Python, with or without the emulator's wheel."""

    airflow: str
    python: str
    emulator: bool = False
    user_suite: bool = False
    #: Dependencies held back to the release's own era (``ERA_PINS_3_0``).
    pins: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"airflow-{self.airflow}-py{self.python}" + ("-emulator" if self.emulator else "")


#: An Airflow release is meant to be installed with its constraints file, which is not on PyPI.
#: Without one, today's cadwyn (>= 6) and fastapi (>= 0.117) break Airflow 3.0's in-process
#: execution API (every task fails before it starts, whatever the provider); these pins stand in
#: for its constraints. Airflow 3.2.2 is not in the run: with today's dependencies its in-process
#: execution API fails every task in ``dag.test()`` (no ``svcs_registry`` on the app state), and
#: pins of its era were not found (cadwyn < 8, fastapi < 0.137, starlette < 1.1 do not do it).
ERA_PINS_3_0 = ("cadwyn<6", "fastapi<0.117")

#: The lowest and the newest supported Airflow, over every supported Python, and 3.1 between.
ENVIRONMENTS = (
    CompatEnv("3.0.6", "3.10", user_suite=True, pins=ERA_PINS_3_0),
    CompatEnv("3.3.2", "3.13", emulator=True, user_suite=True),
    CompatEnv("3.1.8", "3.11"),
    CompatEnv("3.3.2", "3.12"),
)


@dataclass
class Outcome:
    """What one environment showed."""

    env: CompatEnv
    python: str = "-"
    versions: dict[str, str] = field(default_factory=dict)
    checks: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and bool(self.checks) and all(v.startswith("ok") for v in self.checks.values())


class StepFailed(Exception):
    """A setup command of an environment failed; the message says which."""


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    envs = [env for env in ENVIRONMENTS if not args.env or env.name in args.env]
    cache: Path = args.cache_dir.resolve()
    (cache / "logs").mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    wheel = build_wheel(args.uv, cache / "dist")
    emulator_wheel = build_emulator_wheel(args.uv, cache / "dist-emulator")
    took = time.monotonic() - started
    print(f"compat: built {wheel.name}, its sdist and {emulator_wheel.name} in {took:.0f} s", flush=True)
    packaging_problems = check_distributions(wheel, [env.python for env in ENVIRONMENTS])
    for problem in packaging_problems:
        print(f"compat: FAILED packaging: {problem}", flush=True)
    with emulator_process(step_seconds=args.step_seconds, quiet=True) as emulator:
        put_example_data(emulator.client("s3"))
        with ThreadPoolExecutor(max_workers=args.parallel) as pool:
            outcomes = list(
                pool.map(
                    lambda env: check_env(
                        env, (wheel, emulator_wheel), emulator.endpoint_url, args.uv, cache
                    ),
                    envs,
                )
            )
    print()
    print(render_table(outcomes))
    failed = [outcome for outcome in outcomes if not outcome.ok]
    for outcome in failed:
        log = cache / "logs" / f"{outcome.env.name}.log"
        print(f"\nFAILED {outcome.env.name}: {outcome.error or 'see checks'}; log: {log}")
        print(_tail(log, 30))
    print(f"\ncompat: {len(outcomes)} environments in {time.monotonic() - started:.0f} s", flush=True)
    passed = len(outcomes) - len(failed) + (not packaging_problems)
    print(f"compat: {passed} passed, {len(failed) + bool(packaging_problems)} failed", flush=True)
    return 1 if failed or packaging_problems else 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--uv", type=Path, default=Path(sys.executable).with_name("uv"), help="uv binary")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=DEFAULT_CACHE / "compat",
        help=f"where environments, wheels and logs are kept (default {DEFAULT_CACHE / 'compat'})",
    )
    parser.add_argument("--env", action="append", choices=[env.name for env in ENVIRONMENTS])
    parser.add_argument("--parallel", type=int, default=2, help="environments checked at once (default 2)")
    parser.add_argument("--step-seconds", type=float, default=0.5, help="emulated pipeline step duration")
    return parser


def build_wheel(uv: Path, out_dir: Path) -> Path:
    """The sdist, then the wheel built from it (so the sdist is complete); returns the wheel."""
    for old in [*out_dir.glob("*.whl"), *out_dir.glob("*.tar.gz")]:
        old.unlink()
    _run([str(uv), "build", "--quiet", "--out-dir", str(out_dir), str(REPO)], check=True)
    (wheel,) = out_dir.glob("airflow_provider_sm_eval-*.whl")
    return wheel


def build_emulator_wheel(uv: Path, out_dir: Path) -> Path:
    """The emulator's wheel (``emulator/``, a distribution of its own)."""
    for old in out_dir.glob("*.whl"):
        old.unlink()
    _run(
        [str(uv), "build", "--quiet", "--wheel", "--out-dir", str(out_dir), str(REPO / "emulator")],
        check=True,
    )
    (wheel,) = out_dir.glob("sagemaker_evaluation_emulator-*.whl")
    return wheel


def check_distributions(wheel: Path, pythons: Sequence[str]) -> list[str]:
    """What the published files lack: the license text, the changelog, a classifier per Python."""
    (sdist,) = wheel.parent.glob("airflow_provider_sm_eval-*.tar.gz")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata,) = [name for name in names if name.endswith(".dist-info/METADATA")]
        classifiers = archive.read(metadata).decode()
    with tarfile.open(sdist) as archive:
        sdist_files = {name.split("/", 1)[-1] for name in archive.getnames()}
    problems = [
        f"the wheel has no {name}"
        for name in ("licenses/LICENSE",)
        if not any(n.endswith(".dist-info/" + name) for n in names)
    ]
    problems += [
        f"the sdist has no {name}" for name in ("LICENSE", "CHANGELOG.md") if name not in sdist_files
    ]
    problems += [
        f"no classifier for Python {python}"
        for python in pythons
        if f"Classifier: Programming Language :: Python :: {python}\n" not in classifiers
    ]
    return problems


def check_env(env: CompatEnv, wheels: tuple[Path, Path], endpoint: str, uv: Path, cache: Path) -> Outcome:
    """Install (the provider's wheel, and the emulator's where ``env`` has it), then run every check
    of one environment; never raises."""
    outcome = Outcome(env)
    started = time.monotonic()
    log = (cache / "logs" / f"{env.name}.log").open("w")
    try:
        venv = cache / "envs" / env.name
        python = venv / "bin" / "python"
        if not python.exists():
            interpreter = find_python(env.python, uv)
            _step(
                log, "create the virtualenv", [str(uv), "venv", "--quiet", "--python", interpreter, str(venv)]
            )
        installed = [str(wheel) for wheel in (wheels if env.emulator else wheels[:1])]
        install = [str(uv), "pip", "install", "--python", str(python)]
        install += ["--reinstall-package", "airflow-provider-sm-eval"]
        install += ["--reinstall-package", "sagemaker-evaluation-emulator"] if env.emulator else []
        _step(log, "install", [*install, *installed, f"apache-airflow=={env.airflow}", *env.pins, "pytest"])
        outcome.python = _step(
            log, "python version", [str(python), "-c", "import platform; print(platform.python_version())"]
        ).strip()
        outcome.versions = installed_versions(uv, python)
        home = venv / "airflow-home"
        environ = airflow_environment(endpoint, home)
        migrated = home / "airflow.db.migrated"
        if not migrated.exists():
            home.mkdir(parents=True, exist_ok=True)
            _step(log, "airflow db migrate", [str(venv / "bin" / "airflow"), "db", "migrate"], env=environ)
            migrated.touch()
        result = _run([str(python), str(REPO / "compat" / "dag_runs.py")], env=environ, log=log)
        for line in result.stdout.splitlines():
            if line.startswith("COMPAT "):
                check = json.loads(line.removeprefix("COMPAT "))
                outcome.checks[check["check"]] = (
                    f"ok ({check['seconds']:.0f} s)"
                    if check["ok"] and "seconds" in check
                    else "ok"
                    if check["ok"]
                    else "FAILED: " + "; ".join(check["problems"])
                )
        if result.returncode != 0 and not outcome.checks:
            outcome.error = f"compat/dag_runs.py exited {result.returncode}"
        outcome.checks["names"] = check_version_compat(python, environ, log)
        if env.user_suite:
            outcome.checks["suite"] = check_user_suite(python, env.emulator, log)
    except StepFailed as exc:
        outcome.error = str(exc)
    finally:
        outcome.seconds = time.monotonic() - started
        log.close()
    print(f"compat: {env.name}: {'ok' if outcome.ok else 'FAILED'} in {outcome.seconds:.0f} s", flush=True)
    return outcome


def check_version_compat(python: Path, environ: dict[str, str], log: TextIO) -> str:
    """tests/airflow/test_version_compat.py against the installed wheel: every Airflow name resolves,
    a timed-out deferral raises the TaskDeferralTimeout that the operator catches."""
    test = REPO / "tests" / "airflow" / "test_version_compat.py"
    command = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--noconftest", str(test)]
    result = _run(command, env=environ, log=log)
    return "ok" if result.returncode == 0 else f"FAILED: pytest exited {result.returncode}"


def check_user_suite(python: Path, emulator: bool, log: TextIO) -> str:
    """A user's pytest suite: with the emulator installed, its fixture serves the test that uses it;
    without, the unrelated test passes and no plugin of ours loads (the provider registers none)."""
    suite = REPO / "compat" / "user_suite"
    command = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", str(suite)]
    if emulator:
        result = _run(command, log=log)
        expected = "2 passed"
    else:
        result = _run([*command, "-k", "not emulator", "--trace-config"], log=log)
        expected = "1 passed"
        loaded = [line for line in result.stdout.splitlines() if line.startswith("PLUGIN registered")]
        if any("emulator" in line for line in loaded):
            return "FAILED: an emulator pytest plugin loaded without the emulator installed"
    if result.returncode == 0 and expected in result.stdout:
        return f"ok ({expected})"
    return f"FAILED: pytest exited {result.returncode}"


def find_python(version: str, uv: Path) -> str:
    """An interpreter of ``version``: a pyenv build, else whatever ``uv python find`` finds."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    builds = sorted(root.glob(f"versions/{version}.*/bin/python{version}"))
    if builds:
        return str(builds[-1])
    found = _run([str(uv), "python", "find", "--no-python-downloads", version])
    if found.returncode == 0:
        return found.stdout.strip()
    raise StepFailed(f"no Python {version} on this machine (pyenv or uv python find)")


def installed_versions(uv: Path, python: Path) -> dict[str, str]:
    listing = _run([str(uv), "pip", "list", "--python", str(python), "--format", "json"], check=True)
    versions = {item["name"]: item["version"] for item in json.loads(listing.stdout)}
    return {name: versions.get(name, "-") for name in PACKAGES}


def render_table(outcomes: Sequence[Outcome]) -> str:
    header = (
        "Airflow",
        "Python",
        "amazon provider",
        "common-compat",
        "emulator",
        "provider found",
        "version_compat names",
        "deferrable DAG",
        "blocking DAG",
        "user pytest suite",
        "env time",
    )
    rows = [
        (
            outcome.versions.get("apache-airflow", outcome.env.airflow),
            outcome.python,
            outcome.versions.get("apache-airflow-providers-amazon", "-"),
            outcome.versions.get("apache-airflow-providers-common-compat", "-"),
            "installed" if outcome.env.emulator else "not installed",
            outcome.error or outcome.checks.get("registered", "-"),
            outcome.checks.get("names", "-"),
            outcome.checks.get("deferrable", "-"),
            outcome.checks.get("blocking", "-"),
            outcome.checks.get("suite", "-"),
            f"{outcome.seconds:.0f} s",
        )
        for outcome in sorted(outcomes, key=lambda o: (o.env.airflow, o.env.python))
    ]
    return format_table(header, rows)


def _step(log: TextIO, what: str, command: list[str], env: dict[str, str] | None = None) -> str:
    result = _run(command, env=env, log=log)
    if result.returncode != 0:
        raise StepFailed(f"{what} failed (exit code {result.returncode})")
    return result.stdout


def _run(
    command: list[str], *, env: dict[str, str] | None = None, log: TextIO | None = None, check: bool = False
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, check=check)
    if log is not None:
        log.write(f"$ {' '.join(command)}\n{result.stdout}{result.stderr}\n[exit {result.returncode}]\n")
        log.flush()
    return result


def _tail(path: Path, lines: int) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


if __name__ == "__main__":
    sys.exit(main())
