"""The emulator as a child process: for scripts that must not share moto's in-process state.

``EvaluationEmulator`` runs in the caller's process; this starts
``python -m sagemaker_eval_emulator`` instead, reads its control token and endpoint
lines and stops it however the ``with`` block is left. The child also stops when its standard
input (a pipe from the caller) closes, so a caller that is killed leaves no emulator behind.
"""

from __future__ import annotations

import selectors
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

#: The lines the CLI prints once it serves: its control API's token, then its endpoint.
TOKEN_PREFIX = "control token: "
ENDPOINT_PREFIX = "endpoint: "


@dataclass(frozen=True)
class EmulatorProcess:
    """A running emulator child process."""

    endpoint_url: str
    pid: int
    #: The token of its control API (only its owner has it).
    control_token: str = field(repr=False)

    def client(self, service_name: str, **kwargs: Any) -> Any:
        """A boto3 client for ``service_name`` pointed at this emulator, with its dummy keys."""
        from sagemaker_eval_emulator.server import emulator_client

        return emulator_client(self.endpoint_url, service_name, **kwargs)

    def control(self, method: str, route: str, body: dict[str, Any] | None = None) -> Any:
        """One request to this emulator's control API (``/_emulator/<route>``), with its token."""
        from sagemaker_eval_emulator.control import control_request

        return control_request(self.endpoint_url, self.control_token, method, route, body)


@contextmanager
def emulator_process(
    *,
    step_seconds: float = 1.0,
    examples: int = 10,
    quiet: bool = False,
    publish_events: bool = True,
    start_timeout: float = 60.0,
    stop_timeout: float = 15.0,
) -> Iterator[EmulatorProcess]:
    """Start the emulator on a free port; yield it once it serves; terminate (then kill) it on exit.

    ``quiet`` drops the emulator's own messages (stderr) instead of passing them through;
    ``publish_events=False`` runs it with ``--no-events``.
    """
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sagemaker_eval_emulator",
            "--port",
            "0",
            "--step-seconds",
            str(step_seconds),
            "--examples",
            str(examples),
            "--stop-on-stdin-eof",
            *([] if publish_events else ["--no-events"]),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL if quiet else None,
        text=True,
    )
    try:
        token, endpoint = _read_token_and_endpoint(process, start_timeout)
        yield EmulatorProcess(endpoint, process.pid, token)
    finally:
        process.terminate()
        try:
            process.wait(timeout=stop_timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                pipe.close()


def _read_token_and_endpoint(process: subprocess.Popen[str], timeout: float) -> tuple[str, str]:
    assert process.stdout is not None
    token = ""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while (remaining := deadline - time.monotonic()) > 0:
            if not selector.select(timeout=remaining):
                break
            line = process.stdout.readline()
            if not line:
                raise RuntimeError(f"the emulator exited (code {process.wait()}) before serving")
            if line.startswith(TOKEN_PREFIX):  # the endpoint line came in the same write: read, not select
                token = line.removeprefix(TOKEN_PREFIX).strip()
                line = process.stdout.readline()
            if line.startswith(ENDPOINT_PREFIX):
                return token, line.removeprefix(ENDPOINT_PREFIX).strip()
    raise RuntimeError(f"the emulator printed no endpoint within {timeout:g} s")
