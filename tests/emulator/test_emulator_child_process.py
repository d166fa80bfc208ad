"""The emulator as a child process (``emulator_process``), started and stopped as ``make demo`` does:
it stops without a crash report, whether its owner leaves the ``with`` block or dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
#: What a crashed interpreter or an unhandled exception prints.
CRASH_MARKERS = ("Fatal Python error", "Traceback")

OWNER = textwrap.dedent(
    """
    import os, sys, time
    from sagemaker_eval_emulator.child_process import emulator_process

    with emulator_process(step_seconds=0.05) as process:
        process.client("s3").list_buckets()
        assert process.control("GET", "health") == {"status": "ok"}
        print(process.pid, flush=True)
        if sys.argv[1] == "die":
            time.sleep(600)  # killed here: the child sees its standard input close
    """
)


def assert_no_crash(output: str) -> None:
    for marker in CRASH_MARKERS:
        assert marker not in output, output


def test_the_child_stops_cleanly_when_its_owner_leaves_the_with_block() -> None:
    result = subprocess.run(
        [sys.executable, "-c", OWNER, "leave"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "emulator stopped" in result.stderr  # the child's own last words, through the owner's stderr
    assert_no_crash(result.stdout + result.stderr)
    with pytest.raises(ProcessLookupError):
        os.kill(int(result.stdout.split()[0]), 0)


def test_the_child_stops_cleanly_at_stdin_eof_when_its_owner_dies() -> None:
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER, "die"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert owner.stdout is not None
    assert owner.stdout.readline().strip().isdigit()  # serving
    owner.send_signal(signal.SIGKILL)
    # The pipe ends once the child, which writes its stderr there too, has exited.
    _, stderr = owner.communicate(timeout=60)
    assert "emulator stopped" in stderr  # (tests/devstack/test_orphans.py checks that it is gone)
    assert_no_crash(stderr)
