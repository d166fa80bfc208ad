"""The emulator's control API under ``/_emulator/``: faults, result settings, config, reset.

Every control request carries the emulator's token in the ``CONTROL_TOKEN_HEADER`` header
(``guard``); ``control_request`` sends one. Routes (JSON bodies and responses):

- ``GET  /_emulator/health``
- ``GET|DELETE /_emulator/calls``: calls received per service and operation
  (``{"calls": {"sagemaker": {"DescribePipelineExecution": 3}}, "total": 3}``), or reset them
- ``POST /_emulator/reset``: forget all pipelines, executions, faults and settings, and reset moto
- ``GET|PUT /_emulator/config``: ``{"step_seconds": float, "examples": int}``
- ``GET|DELETE /_emulator/faults``: list or clear every fault
- ``POST /_emulator/faults/fail-step``: ``{"step_name", "reason", "pipeline_name"?, "times"?,
  "continue_on_failure"?}``
- ``POST /_emulator/faults/fail-call``: ``{"operation", "code", "message"?, "times"?}``
- ``POST /_emulator/faults/throttle``: ``{"share"? | "above_per_second"?, "operations"?}``
- ``POST /_emulator/faults/delay``: ``{"seconds", "operations"?}``
- ``GET|PUT|DELETE /_emulator/results``: ``{"custom_worse_than_base": bool}``
- ``POST /_emulator/results/override``: ``{"step_name", "metrics": {name: number}, "pipeline_name"?}``
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any

from sagemaker_eval_emulator.backend import PipelineBackend
from sagemaker_eval_emulator.call_log import CallLog

CONTROL_PREFIX = "/_emulator/"
#: The header of control requests that carries the emulator's token (``EvaluationEmulator.control_token``).
CONTROL_TOKEN_HEADER = "X-Sm-Eval-Emulator-Token"


def control_request(
    endpoint_url: str,
    token: str,
    method: str,
    route: str,
    body: dict[str, Any] | None = None,
    *,
    timeout: float = 30.0,
) -> Any:
    """One request to the control API of the emulator at ``endpoint_url`` (``/_emulator/<route>``)
    with its ``token``; the decoded JSON answer (``urllib.error.HTTPError`` on an error status)."""
    request = urllib.request.Request(
        f"{endpoint_url}{CONTROL_PREFIX}{route}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", CONTROL_TOKEN_HEADER: token},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


class ControlError(ValueError):
    """A bad control request (HTTP 400) or an unknown route (HTTP 404)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class ControlApi:
    """Handles control requests against one emulator's state."""

    def __init__(self, backend: PipelineBackend, reset: Callable[[], None], calls: CallLog) -> None:
        self._backend = backend
        self._reset = reset
        self._calls = calls

    def handle(self, method: str, path: str, body: Any) -> dict[str, Any]:
        """Run one control request; raise ControlError when it is wrong."""
        route = path.removeprefix(CONTROL_PREFIX).strip("/")
        handler = self._routes().get((method, route))
        if handler is None:
            raise ControlError(f"no control route {method} {path}", status=404)
        if body is not None and not isinstance(body, dict):
            raise ControlError("the request body must be a JSON object")
        try:
            return handler(body or {})
        except (TypeError, ValueError) as exc:
            raise ControlError(str(exc)) from None

    def _routes(self) -> dict[tuple[str, str], Callable[[dict[str, Any]], dict[str, Any]]]:
        return {
            ("GET", "health"): lambda _: {"status": "ok"},
            ("POST", "reset"): self._do_reset,
            ("GET", "calls"): lambda _: self._calls.describe(),
            ("DELETE", "calls"): self._reset_calls,
            ("GET", "config"): lambda _: self._config(),
            ("PUT", "config"): self._set_config,
            ("GET", "faults"): lambda _: self._backend.faults.describe(),
            ("DELETE", "faults"): self._clear_faults,
            ("POST", "faults/fail-step"): self._fail_step,
            ("POST", "faults/fail-call"): self._fail_call,
            ("POST", "faults/throttle"): self._throttle,
            ("POST", "faults/delay"): self._delay,
            ("GET", "results"): lambda _: self._backend.result_settings.describe(),
            ("PUT", "results"): self._set_results,
            ("DELETE", "results"): self._clear_results,
            ("POST", "results/override"): self._override,
        }

    def _do_reset(self, _: dict[str, Any]) -> dict[str, Any]:
        self._reset()
        return {"reset": True}

    def _reset_calls(self, _: dict[str, Any]) -> dict[str, Any]:
        self._calls.reset()
        return self._calls.describe()

    def _config(self) -> dict[str, Any]:
        return {"step_seconds": self._backend.step_seconds, "examples": self._backend.examples}

    def _set_config(self, body: dict[str, Any]) -> dict[str, Any]:
        _only(body, {"step_seconds", "examples"})
        if "step_seconds" in body:
            self._backend.step_seconds = check_step_seconds(body["step_seconds"])
        if "examples" in body:
            self._backend.examples = check_examples(body["examples"])
        return self._config()

    def _clear_faults(self, _: dict[str, Any]) -> dict[str, Any]:
        self._backend.faults.clear()
        return self._backend.faults.describe()

    def _fail_step(self, body: dict[str, Any]) -> dict[str, Any]:
        _only(body, {"step_name", "reason", "pipeline_name", "times", "continue_on_failure"})
        self._backend.faults.fail_step(
            body.get("step_name"),  # type: ignore[arg-type]  # checked by fail_step
            body.get("reason"),  # type: ignore[arg-type]
            body.get("pipeline_name"),
            times=body.get("times"),
            continue_on_failure=bool(body.get("continue_on_failure", False)),
        )
        return self._backend.faults.describe()

    def _fail_call(self, body: dict[str, Any]) -> dict[str, Any]:
        _only(body, {"operation", "code", "message", "times"})
        self._backend.faults.fail_call(
            body.get("operation"),  # type: ignore[arg-type]  # checked by fail_call
            body.get("code"),  # type: ignore[arg-type]
            body.get("message", "Injected fault"),
            times=body.get("times", 1),
        )
        return self._backend.faults.describe()

    def _throttle(self, body: dict[str, Any]) -> dict[str, Any]:
        _only(body, {"share", "above_per_second", "operations"})
        self._backend.faults.throttle(
            share=body.get("share"),
            above_per_second=body.get("above_per_second"),
            operations=body.get("operations"),
        )
        return self._backend.faults.describe()

    def _delay(self, body: dict[str, Any]) -> dict[str, Any]:
        _only(body, {"seconds", "operations"})
        self._backend.faults.delay(body.get("seconds"), operations=body.get("operations"))  # type: ignore[arg-type]
        return self._backend.faults.describe()

    def _set_results(self, body: dict[str, Any]) -> dict[str, Any]:
        _only(body, {"custom_worse_than_base"})
        value = body.get("custom_worse_than_base")
        if not isinstance(value, bool):
            raise ValueError("custom_worse_than_base must be true or false")
        self._backend.result_settings.custom_worse_than_base = value
        return self._backend.result_settings.describe()

    def _clear_results(self, _: dict[str, Any]) -> dict[str, Any]:
        self._backend.result_settings.clear()
        return self._backend.result_settings.describe()

    def _override(self, body: dict[str, Any]) -> dict[str, Any]:
        _only(body, {"step_name", "metrics", "pipeline_name"})
        self._backend.result_settings.override(
            body.get("step_name"),  # type: ignore[arg-type]
            body.get("metrics"),  # type: ignore[arg-type]
            body.get("pipeline_name"),
        )
        return self._backend.result_settings.describe()


def check_step_seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"step_seconds must be a non-negative number, got {value!r}")
    return float(value)


def check_examples(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"examples must be a positive integer, got {value!r}")
    return value


def _only(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
