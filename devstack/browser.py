"""Headless Chromium for UI tests and screenshots: Debian's package, driven by Playwright.

Playwright's own browser download cannot run on these machines (no network but the package
registries), so Playwright drives the system's Chromium (``/usr/bin/chromium``, Debian package
``chromium``), which ``ensure_chromium`` installs with apt-get when it is missing and we are
root (CI, ``make test``). The flags keep Chromium from reaching out to the network it does not
have. ``logged_in_page`` opens a page already logged in to a stack's UI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from devstack.airflow_stack import AirflowStack

CHROMIUM = os.environ.get("SM_EVAL_CHROMIUM", "/usr/bin/chromium")
#: Headless, as root, with no background traffic (which this machine's closed network refuses).
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def ensure_chromium() -> str:
    """The Chromium executable; installed with ``apt-get install chromium`` when missing and root."""
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise RuntimeError(f"Chromium is not installed at {CHROMIUM} (Debian: apt-get install chromium)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, capture_output=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env, capture_output=True)
    return CHROMIUM


@contextmanager
def chromium_page(width: int = 1440, height: int = 900) -> Iterator[Page]:
    """A page of a fresh headless Chromium (throwaway profile), closed on exit."""
    from playwright.sync_api import sync_playwright

    executable = ensure_chromium()
    with tempfile.TemporaryDirectory(prefix="sm-eval-chromium-") as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=executable,
            headless=True,
            args=list(CHROMIUM_FLAGS),
            viewport={"width": width, "height": height},
        )
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


@contextmanager
def logged_in_page(stack: AirflowStack, width: int = 1440, height: int = 900) -> Iterator[Page]:
    """A Chromium page logged in to the stack's UI (the JWT of ``/auth/token`` in Airflow's cookie)."""
    with chromium_page(width, height) as page:
        page.context.add_cookies([{"name": "_token", "value": stack.api.token(), "url": stack.base_url}])
        yield page
