"""The local Airflow stack: PostgreSQL, the emulator and Airflow 3's components as separate processes.

Two profiles (``executor``): ``LocalExecutor``, one of each component sharing one ``AIRFLOW_HOME``;
``CeleryExecutor``, a distributed deployment as on separate hosts (``CELERY_COMPONENTS``: two
API servers, two triggerers, two Celery workers, a scheduler and a dag-processor; a Redis broker,
``devstack.redis``; PostgreSQL as metadata database and Celery result backend). In the Celery
profile each component has its own ``AIRFLOW_HOME``, temp and log folders and its own loopback
address as host name (``devstack.hosts``), where the log server of each worker and triggerer
listens: the API servers read task logs from there, as from another host. Only the DAG folders,
the database and the broker are shared.

``AirflowStack`` is a context manager. On entry it makes a throwaway folder (0700; its processes
run with umask 077, so what they create is private too), starts PostgreSQL
(``devstack.postgres``) and the SageMaker evaluation emulator on free ports of 127.0.0.1,
migrates Airflow's metadata database, then starts the profile's components. On exit it stops
every process it started, by PID, each whole process group, and deletes the folder.

Airflow 3 components that run as separate processes must share (all set in ``environment()``):

- the metadata database (``[database] sql_alchemy_conn``; the API server derives its asyncpg URL);
- the JWT secret that signs the tokens of the task execution API (``[api_auth] jwt_secret``) and
  the API server's ``[api] secret_key``, and the Fernet key (``[core] fernet_key``);
- where workers and triggerers reach the execution API (``[core] execution_api_server_url``);
- the DAG folders (``[dag_processor] dag_bundle_config_list``) and the connections (here
  ``AIRFLOW_CONN_AWS_DEFAULT``, whose extra carries the emulator's ``endpoint_url``).
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import psutil

from devstack.api import AirflowApi
from devstack.hosts import HOSTNAME_VARIABLE
from devstack.postgres import PostgresServer, start_postgres
from devstack.processes import PRIVATE_UMASK, ManagedProcess, die_with_parent, free_port
from devstack.redis import RedisServer, start_redis
from example_dags.run_demo import put_example_data

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_DAGS = REPO / "example_dags"
#: The Airflow components a stack runs; more triggerers can be added (``start_component``).
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
#: Those of the Celery profile, each as on a host of its own. The first API server also serves the
#: execution API of the workers and triggerers (a deployment puts a load balancer there).
CELERY_COMPONENTS = (
    "api-server",
    "api-server-2",
    "scheduler",
    "dag-processor",
    "triggerer",
    "triggerer-2",
    "worker",
    "worker-2",
)
#: The executors a stack can run, and the components of each.
PROFILES = {"LocalExecutor": COMPONENTS, "CeleryExecutor": CELERY_COMPONENTS}
#: The SimpleAuthManager user of the UI and of the REST API.
USERNAME = "admin"
#: Queues that SageMaker's status-change events reach, each through its own EventBridge rule: one
#: for deferred waits (``SM_EVAL_WAIT_QUEUE_URL``), one for the event-driven example DAG's
#: AssetWatcher (``SM_EVAL_ASSET_QUEUE_URL``). SQS hands a message to one consumer, and with
#: several triggerers a consumer deletes the events of its own waits: a watcher needs its own queue.
WAIT_QUEUE_NAME = "sm-eval-events"
ASSET_QUEUE_NAME = "sm-eval-asset-events"


class AirflowStack:
    """A running local Airflow 3 deployment against the emulator (see the module docstring).

    ``dag_folders`` become one DAG bundle each; ``step_seconds`` is the emulator's step time;
    ``executor`` picks the profile (``PROFILES``); ``worker_concurrency`` is each Celery worker's
    number of task slots; ``extra_env`` adds (or overrides) Airflow settings of every component.
    """

    def __init__(
        self,
        dag_folders: Sequence[Path] = (EXAMPLE_DAGS,),
        *,
        step_seconds: float = 1.0,
        poll_seconds: float = 1.0,
        parallelism: int = 8,
        executor: str = "LocalExecutor",
        worker_concurrency: int = 8,
        extra_env: dict[str, str] | None = None,
        folder: Path | None = None,
        keep_folder: bool = False,
    ) -> None:
        if executor not in PROFILES:
            raise ValueError(f"executor must be one of {sorted(PROFILES)}, not {executor!r}")
        self.dag_folders = [Path(folder).resolve() for folder in dag_folders]
        self.executor = executor
        self.worker_concurrency = worker_concurrency
        self.step_seconds = step_seconds
        self.poll_seconds = poll_seconds
        self.parallelism = parallelism
        self.extra_env = dict(extra_env or {})
        self._folder_given = folder
        self.keep_folder = keep_folder or folder is not None
        self.password = secrets.token_urlsafe(12)
        #: A distinctive AWS secret key of the ``aws_default`` connection: it must never show anywhere.
        self.aws_secret_access_key = "SmEvalStackSecret" + secrets.token_hex(12)
        self.aws_access_key_id = "AKIASMEVALSTACKTEST"
        self.components: dict[str, ManagedProcess] = {}
        self._exit = ExitStack()
        self.folder = Path()
        self.postgres: PostgresServer | None = None
        self.redis: RedisServer | None = None
        #: The API server port of each API server component (the first is ``api_port``).
        self.api_ports: dict[str, int] = {}
        #: The port of every worker's and triggerer's log server (each on its own host address).
        self.log_server_ports = {"worker": 0, "triggerer": 0}
        self.emulator_url = ""
        #: The token of the emulator's control API (``emulator_control``).
        self.emulator_control_token = ""
        self.wait_queue_url = ""
        self.asset_queue_url = ""
        self.api_port = 0
        self._api: AirflowApi | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def __enter__(self) -> AirflowStack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        from sagemaker_eval_emulator.child_process import emulator_process

        self.folder = (
            Path(tempfile.mkdtemp(prefix="sm-eval-stack-"))
            if self._folder_given is None
            else self._folder_given
        )
        for private in (self.folder, self.folder / "logs"):
            private.mkdir(parents=True, exist_ok=True)
            private.chmod(0o700)
        self._exit.callback(self._remove_folder)
        self.postgres = start_postgres(self.folder / "postgres", self.folder / "logs")
        self._exit.callback(self.postgres.process.stop)
        if self.celery:
            self.redis = start_redis(self.folder / "redis", self.folder / "logs")
            self._exit.callback(self.redis.process.stop)
        emulator = self._exit.enter_context(emulator_process(step_seconds=self.step_seconds, quiet=True))
        self.emulator_url = emulator.endpoint_url
        self.emulator_pid = emulator.pid
        self.emulator_control_token = emulator.control_token
        put_example_data(self.emulator_client("s3"))
        self.wait_queue_url = self._create_event_queue(WAIT_QUEUE_NAME)
        self.asset_queue_url = self._create_event_queue(ASSET_QUEUE_NAME)
        self.api_ports = {
            name: free_port() for name in self.profile_components if _kind(name) == "api-server"
        }
        self.api_port = self.api_ports["api-server"]
        self.log_server_ports = {"worker": free_port(), "triggerer": free_port()}
        self._write_passwords_file()
        self._airflow_cli(["db", "migrate"], "db-migrate")
        self._exit.callback(self._stop_components)
        # All at once: the others need the API server (the execution API) only once tasks and
        # triggers run, and each component's start takes tens of seconds of CPU.
        for name in self.profile_components:
            self.start_component(name)
        self.wait_healthy()

    def stop(self) -> None:
        """Stop every process this stack started (components, emulator, PostgreSQL), by PID."""
        if self._api is not None:
            self._api.close()
            self._api = None
        self._exit.close()

    def _stop_components(self) -> None:
        processes = list(self.components.values())
        for process in processes:  # SIGTERM to all at once, then wait for each
            if process.running():
                process.signal_group(signal.SIGTERM)
        for process in reversed(processes):
            process.stop()

    def _remove_folder(self) -> None:
        if not self.keep_folder:
            shutil.rmtree(self.folder, ignore_errors=True)

    # -- components -----------------------------------------------------------------------------

    @property
    def celery(self) -> bool:
        """Whether this is the Celery profile (components as on separate hosts)."""
        return self.executor == "CeleryExecutor"

    @property
    def profile_components(self) -> tuple[str, ...]:
        """The components the stack starts (``PROFILES``)."""
        return PROFILES[self.executor]

    def start_component(self, name: str, kind: str | None = None) -> ManagedProcess:
        """Start (or start again) component ``name`` running ``airflow <kind>``.

        ``kind`` defaults to the name without a ``-<number>`` suffix (``triggerer-2``: a triggerer).
        """
        kind = kind or _kind(name)
        previous = self.components.get(name)
        if previous is not None and previous.running():
            raise RuntimeError(f"{name} is already running (pid {previous.pid})")
        host = self.host_of(name)
        arguments = {
            "api-server": [
                "api-server",
                *("--host", host),
                *("--port", str(self.api_ports.get(name) or free_port())),
            ],
            "scheduler": ["scheduler", "--skip-serve-logs"],
            "dag-processor": ["dag-processor"],
            "triggerer": ["triggerer", "--skip-serve-logs"],
            "worker": ["celery", "worker", "--skip-serve-logs", "--celery-hostname", f"{name}@{host}"],
        }[kind]
        command = [self.airflow_executable, *arguments]
        if self.celery and kind in self.log_server_ports:
            command = self._with_log_server(command, host, self.log_server_ports[kind])
        env = self.environment(name)
        for folder in (env["AIRFLOW_HOME"], env.get("TMPDIR"), self.task_log_folder_of(name)):
            if folder is not None:
                Path(folder).mkdir(parents=True, exist_ok=True)
        cwd = Path(env["AIRFLOW_HOME"]) if self.celery else self.folder
        process = ManagedProcess(name, command, env, self.folder / "logs" / f"{name}.log", cwd=cwd).start()
        self.components[name] = process
        return process

    def _with_log_server(self, command: list[str], host: str, port: int) -> list[str]:
        """``command`` with a log server on ``host``:``port`` beside it, in its process group.

        Airflow's own log server listens on every address (one per machine); each component here
        gets one on its own address. It gets SIGTERM when the component exits (parent death), and
        killing the component's process group (a lost host) kills it too.
        """
        server = [
            *die_with_parent("TERM"),
            sys.executable,
            *("-m", "uvicorn", "--factory", "airflow.utils.serve_logs.log_server:get_app"),
            *("--host", host, "--port", str(port), "--no-access-log", "--log-level", "warning"),
        ]
        return ["sh", "-c", f'{_shell_words(server)} & exec "$0" "$@"', *command]

    def host_of(self, name: str) -> str:
        """Component ``name``'s host address: its own 127.0.0.N in the Celery profile, else 127.0.0.1."""
        if not self.celery:
            return "127.0.0.1"
        names = list(self.profile_components)
        if name not in names:
            names.append(name)
        return f"127.0.0.{10 + names.index(name)}"

    def component_at(self, hostname: str) -> str | None:
        """The component whose host name is ``hostname`` (as a task instance or job records it)."""
        return next((name for name in self.components if self.host_of(name) == hostname), None)

    def task_log_folder_of(self, name: str) -> Path:
        """Where component ``name`` writes task and trigger logs: its own folder in the Celery profile."""
        return self.folder / "hosts" / name / "logs" if self.celery else self.task_log_folder

    @property
    def task_log_folders(self) -> list[Path]:
        """Every component's task log folder (one, shared, in the local profile)."""
        if not self.celery:
            return [self.task_log_folder]
        return [self.task_log_folder_of(name) for name in self.components]

    def api_url(self, name: str) -> str:
        """The address of API server component ``name``."""
        return f"http://{self.host_of(name)}:{self.api_ports[name]}"

    def api_of(self, name: str) -> AirflowApi:
        """A REST client of API server component ``name`` (a new one: close it)."""
        return AirflowApi(self.api_url(name), USERNAME, self.password)

    def workers(self) -> list[str]:
        """The names of the components that run tasks (the scheduler in the local profile)."""
        return [name for name in self.components if _kind(name) == "worker"] or ["scheduler"]

    def kill(self, name: str) -> None:
        """SIGKILL component ``name``'s whole process group (a crash: no clean-up code runs)."""
        self.components[name].kill()

    def restart(self, name: str, kind: str | None = None) -> ManagedProcess:
        """Start component ``name`` again after it was killed or stopped."""
        return self.start_component(name, kind)

    def task_process(self, ti_id: str) -> int | None:
        """PID of the process running task instance ``ti_id`` (titled ``airflow worker -- <ti_id>``)."""
        for worker in self.workers():
            for process in self.components[worker].tree():
                try:
                    if f"airflow worker -- {ti_id}" in " ".join(process.cmdline()):
                        return int(process.pid)
                except psutil.Error:
                    continue
        return None

    def stop_component(self, name: str) -> None:
        """Stop component ``name`` gracefully (SIGTERM to its process group) and forget it."""
        self.components.pop(name).stop()

    def wait_healthy(
        self,
        timeout: float = 240.0,
        parts: Sequence[str] = ("metadatabase", "scheduler", "triggerer", "dag_processor"),
    ) -> None:
        """Wait until the API server answers and ``parts`` of its health report are healthy."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            for name, process in self.components.items():
                if not process.running():
                    raise RuntimeError(
                        f"{name} exited (code {process.popen and process.popen.returncode}):\n"
                        f"{process.tail()}"
                    )
            if not self._others_ready():
                time.sleep(1.0)
                continue
            try:
                answer = httpx.get(f"{self.base_url}/api/v2/monitor/health", timeout=5)
                last = answer.json() if answer.status_code == 200 else answer.text
                if answer.status_code == 200 and all(
                    last.get(part, {}).get("status") == "healthy" for part in parts
                ):
                    return
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(1.0)
        raise TimeoutError(f"the stack was not healthy within {timeout:g} s; last health: {last}")

    def _others_ready(self) -> bool:
        """Whether every API server but the first answers, and every Celery worker is ready."""
        for name, port in self.api_ports.items():
            if name == "api-server" or name not in self.components:
                continue
            try:
                httpx.get(f"http://{self.host_of(name)}:{port}/api/v2/monitor/health", timeout=5)
            except httpx.HTTPError:
                return False
        return all(
            " ready." in self.components[name].tail(200) for name in self.workers() if name != "scheduler"
        )

    def wait_for_dags(self, dag_ids: Sequence[str], timeout: float = 180.0) -> None:
        """Wait until the dag-processor has parsed ``dag_ids`` (they are listed by the REST API)."""
        deadline = time.monotonic() + timeout
        missing: set[str] = set(dag_ids)
        while time.monotonic() < deadline:
            listed = {dag["dag_id"] for dag in self.api.get_all("/dags", "dags")}
            missing = set(dag_ids) - listed
            if not missing:
                return
            time.sleep(1.0)
        errors = self.api.get("/importErrors")
        raise TimeoutError(
            f"DAGs not parsed within {timeout:g} s: {sorted(missing)}; import errors: {errors}"
        )

    # -- settings -------------------------------------------------------------------------------

    @property
    def airflow_executable(self) -> str:
        return str(Path(sys.executable).with_name("airflow"))

    @property
    def base_url(self) -> str:
        return self.api_url("api-server")

    @property
    def task_log_folder(self) -> Path:
        """Where the workers and triggerers write task logs (``[logging] base_log_folder``)."""
        return self.folder / "task-logs"

    @property
    def api(self) -> AirflowApi:
        """A REST client of ``/api/v2`` logged in as the stack's user."""
        if self._api is None:
            self._api = AirflowApi(self.base_url, USERNAME, self.password)
        return self._api

    @property
    def aws_connection(self) -> dict[str, Any]:
        """The ``aws_default`` connection: the emulator's endpoint and region in the extra."""
        from sagemaker_eval_emulator.server import DEFAULT_REGION

        return {
            "conn_type": "aws",
            "login": self.aws_access_key_id,
            "password": self.aws_secret_access_key,
            "extra": {"endpoint_url": self.emulator_url, "region_name": DEFAULT_REGION},
        }

    def environment(self, name: str | None = None) -> dict[str, str]:
        """The environment of the Airflow processes of this stack (of component ``name``, if given).

        In the Celery profile, each component has its own home, temp and task log folders and its
        own host name.
        """
        assert self.postgres is not None, "the stack is not started"
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("AIRFLOW_", "AIRFLOW__", "AWS_", "SM_EVAL_", "PYTEST_"))
        }
        secret = self._shared_secret()
        bundles = [
            {
                "name": _bundle_name(folder, index),
                "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
                "kwargs": {"path": str(folder), "refresh_interval": 5},
            }
            for index, folder in enumerate(self.dag_folders)
        ]
        env.update(
            AIRFLOW_HOME=str(self.folder / "airflow-home"),
            AIRFLOW__CORE__EXECUTOR=self.executor,
            AIRFLOW__CORE__PARALLELISM=str(self.parallelism),
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="False",
            AIRFLOW__CORE__FERNET_KEY=secret["fernet_key"],
            AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"{self.base_url}/execution/",
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=f"{USERNAME}:admin",
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(self.folder / "passwords.json"),
            **self.postgres.client_env(),
            AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=self.postgres.sync_url,
            AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC=self.postgres.async_url,
            AIRFLOW__API__BASE_URL=self.base_url,
            AIRFLOW__API__SECRET_KEY=secret["secret_key"],
            AIRFLOW__API_AUTH__JWT_SECRET=secret["jwt_secret"],
            AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST=json.dumps(bundles),
            AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="5",
            AIRFLOW__LOGGING__BASE_LOG_FOLDER=str(self.task_log_folder),
            # Airflow chmods task log folders and files itself (group-writable by default).
            AIRFLOW__LOGGING__FILE_TASK_HANDLER_NEW_FOLDER_PERMISSIONS="0o700",
            AIRFLOW__LOGGING__FILE_TASK_HANDLER_NEW_FILE_PERMISSIONS="0o600",
            AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(self.log_server_ports["worker"] or free_port()),
            AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT=str(self.log_server_ports["triggerer"] or free_port()),
            AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT="60",
            AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD="15",
            AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC="2",
            AIRFLOW_CONN_AWS_DEFAULT=json.dumps(self.aws_connection),
            SM_EVAL_POLL_SECONDS=str(self.poll_seconds),
            SM_EVAL_WAIT_QUEUE_URL=self.wait_queue_url,
            SM_EVAL_ASSET_QUEUE_URL=self.asset_queue_url,
        )
        if self.celery:
            env.update(self._celery_environment(name))
        env.update(self.extra_env)
        return env

    def _celery_environment(self, name: str | None) -> dict[str, str]:
        """The Celery profile's settings: broker, result backend, and the component's own folders."""
        assert self.postgres is not None and self.redis is not None, "the stack is not started"
        env = {
            "AIRFLOW__CELERY__BROKER_URL": self.redis.url,
            # Celery's result backend on the metadata database: db+<SQLAlchemy URL>, its driver named
            # (a bare postgresql:// means psycopg 3 to this SQLAlchemy, which is not installed).
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + self.postgres.sync_url,
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(self.worker_concurrency),
            # One task taken at a time: a worker lost with its host holds no others' messages.
            "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER": "1",
            # An unacknowledged task of a lost worker is redelivered after this long (Airflow's
            # retry of it runs long before): said here so that Airflow does not warn of its default.
            "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": "86400",
            # Task messages a restarted broker lost are queued again after this long.
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "90",
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "devstack.hosts.hostname",
            # devstack is not installed (the package is airflow_provider_sm_eval): for that callable.
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        }
        if name is not None:
            host = self.folder / "hosts" / name
            env.update(
                {
                    "AIRFLOW_HOME": str(host / "airflow-home"),
                    "TMPDIR": str(host / "tmp"),
                    "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.task_log_folder_of(name)),
                    HOSTNAME_VARIABLE: self.host_of(name),
                }
            )
            if name in self.api_ports:  # the address its UI links and redirects use
                env["AIRFLOW__API__BASE_URL"] = self.api_url(name)
        return env

    def _shared_secret(self) -> dict[str, str]:
        """The secrets every component must share, made once per stack and kept in its folder."""
        path = self.folder / "secrets.json"
        if not path.exists():
            from cryptography.fernet import Fernet

            path.write_text(
                json.dumps(
                    {
                        "fernet_key": Fernet.generate_key().decode(),
                        "secret_key": secrets.token_urlsafe(32),
                        "jwt_secret": secrets.token_urlsafe(64),
                    }
                )
            )
            path.chmod(0o600)
        return dict(json.loads(path.read_text()))

    def _write_passwords_file(self) -> None:
        path = self.folder / "passwords.json"
        path.write_text(json.dumps({USERNAME: self.password}))
        path.chmod(0o600)

    def _airflow_cli(self, arguments: list[str], log_name: str) -> None:
        log_file = self.folder / "logs" / f"{log_name}.log"
        with log_file.open("ab") as log:
            code = subprocess.run(
                [self.airflow_executable, *arguments],
                env=self.environment(),
                cwd=self.folder,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=False,
                umask=PRIVATE_UMASK,
            ).returncode
        if code != 0:
            tail = "\n".join(log_file.read_text(errors="replace").splitlines()[-30:])
            raise RuntimeError(f"airflow {' '.join(arguments)} failed (exit code {code}):\n{tail}")

    # -- the emulator ---------------------------------------------------------------------------

    def emulator_client(self, service: str) -> Any:
        """A boto3 client of the emulator (the stack's connection keys)."""
        import boto3

        from sagemaker_eval_emulator.server import DEFAULT_REGION

        return boto3.session.Session().client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.emulator_url,
            region_name=DEFAULT_REGION,
            aws_access_key_id=self.aws_access_key_id,
            aws_secret_access_key=self.aws_secret_access_key,
        )

    def _create_event_queue(self, name: str) -> str:
        """An SQS queue and its EventBridge rule of SageMaker's status-change events, in the emulator."""
        from airflow_provider_sm_eval.provisioning.event_setup import ensure_event_queue

        return ensure_event_queue(name, session=_EmulatorSession(self)).queue_url

    def emulator_control(self, method: str, route: str, body: dict[str, Any] | None = None) -> Any:
        """One request to the emulator's control API (``/_emulator/<route>``) with its token; the answer."""
        from sagemaker_eval_emulator.control import control_request

        return control_request(self.emulator_url, self.emulator_control_token, method, route, body)


class _EmulatorSession:
    """What ``ensure_event_queue`` needs of a boto3 session: clients of the stack's emulator."""

    def __init__(self, stack: AirflowStack) -> None:
        self._stack = stack

    def client(self, service: str, region_name: str | None = None) -> Any:
        return self._stack.emulator_client(service)


def _kind(name: str) -> str:
    """The Airflow command of component ``name``: its name without a ``-<number>`` suffix."""
    base, _, suffix = name.rpartition("-")
    return base if base and suffix.isdigit() else name


def _shell_words(words: Sequence[str]) -> str:
    """``words`` quoted for ``sh``."""
    return " ".join(shlex.quote(word) for word in words)


def _bundle_name(folder: Path, index: int) -> str:
    """A bundle name per DAG folder (``example_dags`` itself is reserved by Airflow)."""
    name = "sm_eval_examples" if folder == EXAMPLE_DAGS else f"{folder.parent.name}_{folder.name}"
    return name if index == 0 else f"{name}_{index}"
