"""The UI plugin's templates and stylesheet are package data: the wheel ships them beside the code."""

from __future__ import annotations

from fnmatch import fnmatch
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "airflow_provider_sm_eval"


def test_every_template_and_stylesheet_is_package_data() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["airflow_provider_sm_eval"]
    files = [
        path.relative_to(PACKAGE).as_posix()
        for folder in ("plugins/templates", "plugins/static")
        for path in (PACKAGE / folder).rglob("*")
        if path.is_file()
    ]

    assert {"plugins/templates/task.html", "plugins/static/evaluation.css"} <= set(files)
    assert [name for name in files if not any(fnmatch(name, pattern) for pattern in patterns)] == []
