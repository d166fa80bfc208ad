# The README's two commands: `make demo` (example evaluation DAG on the local emulator) and
# `make test` (the whole test suite). Each creates or refreshes .venv and installs what it needs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv

.PHONY: venv demo test lint bench constraints

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	test -x $(UV) || $(PY) -m pip install --quiet --disable-pip-version-check uv
	$(UV) pip install --quiet --python $(PY) -c constraints.txt -e ".[dev,emulator]"
	touch $@

demo: venv
	$(PY) example_dags/run_demo.py

test: venv
	$(PY) -m ruff check airflow_provider_sm_eval tests example_dags benchmarks
	$(PY) -m mypy
	$(PY) -m pytest -q

bench: venv
	$(PY) benchmarks/run.py

# Re-pin the tested dependency set (run when pyproject.toml's dependencies change).
constraints: venv
	$(UV) pip compile --quiet --python $(PY) --extra dev --extra emulator pyproject.toml -o constraints.txt
