"""``EvaluationEmulator``: the emulator as an HTTP server on 127.0.0.1, usable in-process."""

from __future__ import annotations

import functools
import logging
import secrets
import threading
from types import TracebackType
from typing import Any

from botocore.config import Config
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.test import Client

from sagemaker_eval_emulator.app import INTERNAL_USER_AGENT, EmulatorApp
from sagemaker_eval_emulator.backend import ACCOUNT_ID, PipelineBackend
from sagemaker_eval_emulator.call_log import CallLog
from sagemaker_eval_emulator.catalog import Catalog
from sagemaker_eval_emulator.control import (
    ControlApi,
    check_examples,
    check_step_seconds,
    control_request,
)
from sagemaker_eval_emulator.events import EventPublisher
from sagemaker_eval_emulator.faults import FaultController
from sagemaker_eval_emulator.guard import RequestGuard
from sagemaker_eval_emulator.keep_alive import Connections, keep_alive_handler
from sagemaker_eval_emulator.results import ResultSettings
from sagemaker_eval_emulator.service import S3Uri

log = logging.getLogger(__name__)
#: Config of the emulator's own clients: their calls are not counted in the call log.
_INTERNAL = Config(user_agent_extra=INTERNAL_USER_AGENT)

DEFAULT_REGION = "us-east-1"
#: Dummy credentials: the emulator accepts any signature.
ACCESS_KEY_ID = "testing"
SECRET_ACCESS_KEY = "testing"


def emulator_client(endpoint_url: str, service_name: str, **kwargs: Any) -> Any:
    """A boto3 client for ``service_name`` of the emulator at ``endpoint_url``, with its dummy keys.

    ``kwargs`` are boto3's client arguments (``region_name`` defaults to ``DEFAULT_REGION``).
    """
    import boto3

    options: dict[str, Any] = {
        "region_name": DEFAULT_REGION,
        "aws_access_key_id": ACCESS_KEY_ID,
        "aws_secret_access_key": SECRET_ACCESS_KEY,
        **kwargs,
    }
    session: Any = boto3.session.Session()
    # A session per client (sessions are not thread-safe), but one botocore data loader for all:
    # each new session would otherwise parse the service model's JSON again.
    data_path = session._session.get_config_variable("data_path")
    session._session.register_component("data_loader", _shared_loader(data_path))
    return session.client(service_name, endpoint_url=endpoint_url, **options)


@functools.cache
def _shared_loader(data_path: str | None) -> Any:
    from botocore.loaders import create_loader

    return create_loader(data_path)


class EvaluationEmulator:
    """A local SageMaker evaluation emulator; S3, STS, IAM and the rest are served by moto.

    Use as a context manager (or ``start()`` / ``stop()``)::

        with EvaluationEmulator(port=0, step_seconds=0.05) as emu:
            sm = emu.client("sagemaker")

    moto keeps its state per process, so emulators in one process share S3 and the other
    moto-served services (pipelines and executions are per emulator).

    Execution and step status changes are published to EventBridge as SageMaker does
    (``events``); ``publish_events=False`` turns that off.

    It answers only requests addressed to 127.0.0.1/localhost at its port and not sent by another
    web page; its control API (``control``) needs ``control_token``, made at random per emulator
    (see ``guard``).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        step_seconds: float = 1.0,
        examples: int = 10,
        region: str = DEFAULT_REGION,
        publish_events: bool = True,
    ) -> None:
        self.host = host
        self.region = region
        self.account_id = ACCOUNT_ID
        #: The token of the control API (``/_emulator/``): give it only to whoever may steer this emulator.
        self.control_token = secrets.token_urlsafe(32)
        self._requested_port = port
        self._initial_step_seconds = check_step_seconds(step_seconds)
        self._initial_examples = check_examples(examples)
        self.faults = FaultController()
        self.results = ResultSettings()
        #: Calls of every AWS operation received (see ``call_log``); reset with the emulator.
        self.calls = CallLog()
        #: Publishes status-change events to EventBridge; ``.enabled`` switches it.
        self.events = EventPublisher(self._events_client, enabled=publish_events)
        self._backend = PipelineBackend(
            put_object=self._put_object,
            get_object=self._get_object,
            faults=self.faults,
            result_settings=self.results,
            step_seconds=self._initial_step_seconds,
            examples=self._initial_examples,
            listener=self.events.publish,
        )
        self._moto_app: Any = None
        self._server: BaseWSGIServer | None = None
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._s3: Any = None
        self._connections = Connections()

    # --- lifecycle ----------------------------------------------------------------------
    def start(self) -> EvaluationEmulator:
        """Start serving; returns self once the endpoint accepts connections."""
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        self._moto_app = DomainDispatcherApplication(create_backend_app)
        control = ControlApi(self._backend, self.reset, self.calls)
        app = EmulatorApp(
            self._backend,
            control,
            self._moto_app,
            self.region,
            self.calls,
            guard=RequestGuard(self.control_token),
        )
        self._server = make_server(
            self.host,
            self._requested_port,
            app,
            threaded=True,
            request_handler=keep_alive_handler(self._connections),
        )
        self._stopping.clear()
        self._threads = [
            threading.Thread(target=self._server.serve_forever, name="sm-eval-emulator-http", daemon=True),
            threading.Thread(target=self._run_clock, name="sm-eval-emulator-clock", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        self._s3 = self.client("s3", config=_INTERNAL)
        self._backend.catalog.seed_objects(self.region, self._put_seed_object)
        self.events.start()
        return self

    def stop(self) -> None:
        """Stop serving and wait for the server threads."""
        if self._server is None:
            return
        self._stopping.set()
        http_thread, clock_thread = self._threads
        clock_thread.join()
        self.events.stop()
        self._server.shutdown()
        self._server.server_close()
        self._connections.close_all()
        http_thread.join()
        self._server = None
        self._threads = []

    def __enter__(self) -> EvaluationEmulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- access -------------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        return int(self._server.server_address[1])

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def catalog(self) -> Catalog:
        """Hubs, model packages, MLflow apps and lineage (tests add to it: ``add_hub_content`` ...)."""
        return self._backend.catalog

    @property
    def step_seconds(self) -> float:
        return self._backend.step_seconds

    @step_seconds.setter
    def step_seconds(self, value: float) -> None:
        self._backend.step_seconds = check_step_seconds(value)

    @property
    def examples(self) -> int:
        return self._backend.examples

    @examples.setter
    def examples(self, value: int) -> None:
        self._backend.examples = check_examples(value)

    def client(self, service_name: str, **kwargs: Any) -> Any:
        """A boto3 client for ``service_name`` pointed at the emulator, with dummy credentials."""
        return emulator_client(self.endpoint_url, service_name, **{"region_name": self.region, **kwargs})

    def control(self, method: str, route: str, body: dict[str, Any] | None = None) -> Any:
        """One request to this emulator's control API over HTTP (``/_emulator/<route>``), with its token."""
        return control_request(self.endpoint_url, self.control_token, method, route, body)

    def reset(self) -> None:
        """Forget every pipeline, execution, fault, setting and call; reset moto; restore the config."""
        self._backend.reset()
        self.events.discard()
        if not self.events.wait_idle(timeout=30):
            log.warning("events of the executions before the reset are still being published")
        self.faults.clear()
        self.calls.reset()
        self.results.clear()
        self._backend.step_seconds = self._initial_step_seconds
        self._backend.examples = self._initial_examples
        if self._moto_app is not None:
            response = Client(self._moto_app).post("/moto-api/reset")
            if response.status_code != 200:
                raise RuntimeError(f"moto reset failed with HTTP {response.status_code}")
            self._backend.catalog.seed_objects(self.region, self._put_seed_object)

    # --- internals ----------------------------------------------------------------------
    def _events_client(self, region: str) -> Any:
        return self.client("events", region_name=region, config=_INTERNAL)

    def _put_object(self, uri: S3Uri, body: bytes) -> None:
        self._s3.put_object(Bucket=uri.bucket, Key=uri.key, Body=body)

    def _put_seed_object(self, bucket: str, key: str, body: bytes) -> None:
        """Store a seeded object, creating its bucket (in the emulator's region) when it is missing."""
        try:
            self._s3.head_bucket(Bucket=bucket)
        except Exception:  # missing: create it where the emulator's clients are
            extra = (
                {}
                if self.region == "us-east-1"
                else {"CreateBucketConfiguration": {"LocationConstraint": self.region}}
            )
            self._s3.create_bucket(Bucket=bucket, **extra)
        self._s3.put_object(Bucket=bucket, Key=key, Body=body)

    def _get_object(self, uri: S3Uri, version_id: str | None) -> bytes:
        extra = {"VersionId": version_id} if version_id else {}
        return bytes(self._s3.get_object(Bucket=uri.bucket, Key=uri.key, **extra)["Body"].read())

    def _run_clock(self) -> None:
        """Advance executions even when nobody polls, so artifacts appear on time."""
        while not self._stopping.wait(min(0.1, max(0.01, self._backend.step_seconds / 10))):
            try:
                self._backend.advance()
            except Exception:
                log.exception("emulator clock failed to advance executions")
