"""Run the emulator: ``python -m sagemaker_eval_emulator --port N``.

Prints ``control token: TOKEN`` (the token of its control API, ``/_emulator/``) and then
``endpoint: http://HOST:PORT`` once it accepts requests, then serves until SIGTERM or Ctrl-C
(or, with ``--stop-on-stdin-eof``, until its standard input closes: a parent that starts it with
a pipe there and dies, even by SIGKILL, leaves no emulator behind).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from sagemaker_eval_emulator.child_process import ENDPOINT_PREFIX, TOKEN_PREFIX


def _parser(default_region: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sagemaker_eval_emulator",
        description="Local SageMaker evaluation emulator (SageMaker pipelines + moto for S3, STS, IAM, ...).",
        epilog=(
            f"Once serving, it prints '{TOKEN_PREFIX}TOKEN' then '{ENDPOINT_PREFIX}http://HOST:PORT' on"
            " standard output. Control requests (/_emulator/...) must carry TOKEN in the"
            " X-Sm-Eval-Emulator-Token header; requests whose Host is not localhost or an IP address"
            " with this port, or sent by another web page (Origin), are refused with 403."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one (default 0)")
    parser.add_argument(
        "--step-seconds", type=float, default=1.0, help="seconds each pipeline step takes (default 1)"
    )
    parser.add_argument(
        "--examples", type=int, default=10, help="per-example records of LLM-as-judge results (default 10)"
    )
    parser.add_argument(
        "--no-events",
        action="store_true",
        help="do not publish pipeline status-change events to EventBridge (saves CPU in load tests)",
    )
    parser.add_argument(
        "--stop-on-stdin-eof",
        action="store_true",
        help="also stop when standard input closes (for a parent that starts it with a pipe there)",
    )
    parser.add_argument(
        "--region",
        default=default_region,
        help=f"region of boto3 clients made by the emulator (default {default_region})",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from sagemaker_eval_emulator.server import DEFAULT_REGION, EvaluationEmulator

    parser = _parser(DEFAULT_REGION)
    args = parser.parse_args(argv)
    try:
        emulator = EvaluationEmulator(
            host=args.host,
            port=args.port,
            step_seconds=args.step_seconds,
            examples=args.examples,
            region=args.region,
            publish_events=not args.no_events,
        )
    except ValueError as exc:
        parser.error(str(exc))
    done = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if args.stop_on_stdin_eof:
        threading.Thread(target=_set_at_eof, args=(done,), name="stdin-eof", daemon=True).start()
    with emulator:
        print(f"{TOKEN_PREFIX}{emulator.control_token}\n{ENDPOINT_PREFIX}{emulator.endpoint_url}", flush=True)
        done.wait()
    print("emulator stopped", file=sys.stderr, flush=True)
    return 0


def _set_at_eof(done: threading.Event) -> None:
    """Read standard input to its end (its writer closed it or died), then ask to stop.

    It reads the file descriptor itself: this daemon thread is still blocked in the read when the
    interpreter exits, and blocked in ``sys.stdin.buffer`` it would hold the buffer's lock, which
    the interpreter's shutdown then cannot take (a "Fatal Python error" at every stop).
    """
    while os.read(0, 4096):
        pass
    done.set()


if __name__ == "__main__":
    sys.exit(main())
