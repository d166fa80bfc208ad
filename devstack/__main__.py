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

#: ``--executor`` (``make airflow EXECUTOR=...``): the stack's profile.
EXECUTORS = {"local": "LocalExecutor", "celery": "CeleryExecutor"}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--dags", type=Path, action="append", help="DAG folder (repeatable; default example_dags)"
    )
    parser.add_argument("--step-seconds", type=float, default=2.0, help="seconds each emulated step takes")
    parser.add_argument("--keep", type=Path, help="keep the stack's files (database, logs) in this folder")
    parser.add_argument(
        "--executor",
        choices=sorted(EXECUTORS),
        default="local",
        help="local: one of each component (LocalExecutor); celery: Redis broker, 2 Celery workers, "
        "2 triggerers, 2 API servers, each as on its own host",
    )
    args = parser.parse_args(argv)
    done = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    print("Starting PostgreSQL, the emulator and Airflow (a minute or two) ...", flush=True)
    with AirflowStack(
        args.dags or [EXAMPLE_DAGS],
        step_seconds=args.step_seconds,
        folder=args.keep,
        executor=EXECUTORS[args.executor],
    ) as stack:
        others = "".join(
            f"             {stack.api_url(name)} ({name})\n"
            for name in stack.api_ports
            if name != "api-server"
        )
        print(
            f"\nAirflow UI:  {stack.base_url}\n{others}"
            f"Login:       {USERNAME} / {stack.password}\n"
            f"Emulator:    {stack.emulator_url} (the aws_default connection points at it)\n"
            f"Its control token (header X-Sm-Eval-Emulator-Token of /_emulator/...): "
            f"{stack.emulator_control_token}\n"
            f"Logs:        {stack.folder / 'logs'}\n"
            f"Task logs:   {', '.join(map(str, stack.task_log_folders))}\n"
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
