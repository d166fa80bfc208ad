"""The ``emulator`` extra: which modules it brings, and the error that says how to install it.

The provider installs without it (users' Airflow deployments need no moto), so everything that
starts the emulator checks first and names the install command instead of failing on an import.
"""

from __future__ import annotations

import importlib.util

#: Top-level modules the emulator imports that only the ``emulator`` extra (``moto[server]``) installs.
EXTRA_MODULES = ("moto", "werkzeug", "flask", "flask_cors")
INSTALL_COMMAND = 'pip install "airflow-provider-sm-eval[emulator]"'


def require_emulator_extra() -> None:
    """Raise ModuleNotFoundError naming the install command unless the extra is installed."""
    missing = [name for name in EXTRA_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise ModuleNotFoundError(
            f"The SageMaker evaluation emulator needs the provider's 'emulator' extra "
            f"({', '.join(missing)} not installed): {INSTALL_COMMAND}",
            name=missing[0],
        )
