# The README's two commands: `make demo` (example evaluation DAG on the local emulator) and
# `make test` (the whole test suite). Each creates or refreshes .venv and installs what it needs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# pytest-xdist workers of `make test` and `make check`: the tests mostly wait (on Airflow, on
# emulated steps), so three share two cores well. `--dist loadgroup`: the local Airflow stack's tests
# are one xdist group (tests/conftest.py), first, and so is each module with module-scoped fixtures;
# other tests go to any worker. `--no-loadscope-reorder` keeps that order (not largest group first).
TEST_WORKERS ?= 3
XDIST = -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder
UV := $(VENV)/bin/uv

.PHONY: test-long venv demo test check lint bench bench-scale constraints airflow compat stack-deps browser-deps sdk-venv sdk-fixtures

venv: $(VENV)/.installed

# Compiled bytecode: every Airflow component, task process and test subprocess imports hundreds of
# modules; uv writes no .pyc by default and, where PYTHONDONTWRITEBYTECODE is set, neither does
# Python, so each process would compile them again (about 3 CPU s each on a loaded 2-core machine).
$(VENV)/.installed: pyproject.toml emulator/pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	test -x $(UV) || $(PY) -m pip install -qq --disable-pip-version-check uv
	$(UV) pip install --quiet --compile-bytecode --python $(PY) -c constraints.txt -e ".[dev,stack]" -e ./emulator
	$(PY) -m compileall -q airflow_provider_sm_eval emulator/sagemaker_eval_emulator devstack example_dags
	touch $@

demo: venv
	$(PY) example_dags/run_demo.py

# A local Airflow 3 deployment (PostgreSQL, emulator, api-server, scheduler, dag-processor,
# triggerer) with the example DAGs, until Ctrl-C; see devstack/. `EXECUTOR=celery`: the distributed
# profile (Redis broker, 2 Celery workers, 2 triggerers, 2 API servers, each as on its own host).
EXECUTOR ?= local
airflow: venv stack-deps
	$(PY) -m devstack --executor $(EXECUTOR)

# Debian packages of the local stack (PostgreSQL 15; Redis, the broker of its Celery profile) and of
# the UI tests (Chromium, driven by Playwright), installed when missing (as root, like CI).
APT_INSTALL := apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq
stack-deps:
	test -x /usr/lib/postgresql/15/bin/postgres || ($(APT_INSTALL) postgresql-15)
	test -x /usr/bin/redis-server || ($(APT_INSTALL) redis-server)

browser-deps:
	test -x /usr/bin/chromium || ($(APT_INSTALL) chromium)

# ruff, mypy and the package's import contracts (`[tool.importlinter]` in pyproject.toml).
lint: venv
	$(PY) -m ruff check airflow_provider_sm_eval emulator tests example_dags benchmarks devstack compat
	$(PY) -m mypy
	$(VENV)/bin/lint-imports

# The inner loop (under 3 minutes): lint and the unit and emulator tests; no whole-DAG run, no
# PostgreSQL, no Chromium, no wheel builds, no compatibility run (pytest markers `dag_run`,
# `stack`, `browser`, `packaging`, `long`).
check: lint
	$(PY) -m pytest -q -m "not (dag_run or stack or browser or packaging or long)" $(XDIST)

# The SageMaker SDK's virtualenv (sdk-venv) serves tests/packaging: the SDK against the emulator's
# wheel installed alone.
test: venv stack-deps browser-deps sdk-venv lint
	$(MAKE) compat
	SM_EVAL_SDK_PYTHON=$(abspath $(SDK_VENV))/bin/python $(PY) -m pytest -q -m "not long" $(XDIST)

# The minutes-long stack tests: 20 deferred tasks under 50% then 90% throttling, and the load test
# (SM_EVAL_STACK_LOAD_RUNS runs, default 20; the full figure is 100).
test-long: venv stack-deps browser-deps
	$(PY) -m pytest -q -m long

# The built wheel in fresh environments of the lowest to the newest supported Airflow, over every
# supported Python: the example DAG deferred and blocking, a user's pytest suite with and without
# the emulator's wheel; prints the README's supported-versions table. Environments are cached.
compat: venv
	$(PY) -m compat.run --uv $(UV)

# Peers measured beside ours: the SageMaker SDK lives in its own virtualenv (its pins differ).
SDK_VENV ?= .venv-bench-sdk
sdk-venv: venv
	test -x $(SDK_VENV)/bin/python || $(UV) venv --quiet --python $(PY) $(SDK_VENV)
	$(UV) pip install --quiet --python $(SDK_VENV)/bin/python "sagemaker-train==1.27.0"

bench: sdk-venv
	$(PY) -m benchmarks.run --sdk-python $(SDK_VENV)/bin/python

# The scale run on the Celery profile (benchmarks/scale.py): 100 to 1,000 deferred evaluations as
# mapped tasks of one DAG run, ours (events off and on) and the amazon operator (up to 250), one
# stack; prints the README's "Scale" tables. Long: about an hour per 1,000 evaluations on 2 cores.
SCALE_ARGS ?= --sizes 100,250,500,1000 --events off,on --peers ours,amazon
bench-scale: venv stack-deps
	$(PY) -m benchmarks.scale $(SCALE_ARGS)

# The SDK's pipeline definitions (tests/fixtures/sdk_definitions/*.json), made by running the SDK's
# three evaluators against the emulator; fails when any of them cannot evaluate, wait or show results.
sdk-fixtures: sdk-venv
	$(SDK_VENV)/bin/python tests/fixtures/sdk_definitions/regenerate.py --emulator-python $(PY)

# Re-pin the tested dependency set (run when pyproject.toml's dependencies change).
constraints: venv
	$(UV) pip compile --quiet --python $(PY) --extra dev --extra stack pyproject.toml emulator/pyproject.toml -o constraints.txt
