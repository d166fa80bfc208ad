"""``make airflow``: run the local Airflow stack with the example DAGs until Ctrl-C.

Prints the UI address and login, then waits. Ctrl-C (or SIGTERM) stops every process it started.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from devstack.airflow_stack import EXAMPLE_DAGS, USERNAME, AirflowStack


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--dags", type=Path, action="append", help="DAG folder (repeatable; default example_dags)"
    )
    parser.add_argument("--step-seconds", type=float, default=2.0, help="seconds each emulated step takes")
    parser.add_argument("--keep", type=Path, help="keep the stack's files (database, logs) in this folder")
    args = parser.parse_args(argv)
    done = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    print("Starting PostgreSQL, the emulator and Airflow (about a minute) ...", flush=True)
    with AirflowStack(args.dags or [EXAMPLE_DAGS], step_seconds=args.step_seconds, folder=args.keep) as stack:
        print(
            f"\nAirflow UI:  {stack.base_url}\n"
            f"Login:       {USERNAME} / {stack.password}\n"
            f"Emulator:    {stack.emulator_url} (the aws_default connection points at it)\n"
            f"Its control token (header X-Sm-Eval-Emulator-Token of /_emulator/...): "
            f"{stack.emulator_control_token}\n"
            f"Logs:        {stack.folder / 'logs'}\n"
            "Press Ctrl-C to stop everything.",
            flush=True,
        )
        while not done.wait(1.0):
            for name, process in stack.components.items():
                if not process.running():
                    print(f"{name} exited; stopping the stack. Its log:\n{process.tail()}", flush=True)
                    done.set()
                    break
        print("Stopping ...", flush=True)
    print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
