"""The scale run: N concurrent deferred evaluations on the Celery profile, ours and the amazon provider's.

One Celery-profile stack (``devstack.AirflowStack(executor="CeleryExecutor")``: two Celery
workers, two triggerers, two API servers, a scheduler, a dag-processor, Redis, PostgreSQL, the
emulator) runs each case in turn: a peer (``ours``: ``StartEvaluationOperator``; ``amazon``:
``SageMakerStartPipelineOperator``), events off or on (ours only: the stack's SQS queue as
``event_queue_url``), and N, as ONE DAG run whose ``evaluate`` task is mapped over N evaluation
names (``benchmarks/scale_dags``). Per case it prints:

- wall time: from the end of the task that lists the N names (the mapped tasks can start) to the
  last mapped task's end;
- SageMaker and SQS calls per evaluation (the emulator's call log, reset before each case);
- CPU seconds and peak RSS of each component's process tree, sampled every second (CPU: user +
  system of the live processes plus what their reaped children used, last sample minus first;
  RSS: summed over the tree, shared pages counted in each process);
- end-notice latency p50/p99: the execution's end as the emulator reports it
  (``LastModifiedTime`` of an ended execution) to the task's ``end_date`` in the metadata database;
- metadata written per evaluation: XCom rows and bytes (``pg_column_size``) of the mapped task,
  trigger rows inserted, WAL bytes (``pg_current_wal_lsn`` before and after), and the busiest
  tables' ``pg_stat_user_tables`` inserts/updates;
- the peak number of executions executing at once (their creation-to-end intervals).

    make bench-scale
    python -m benchmarks.scale --sizes 100,250,500,1000 --events off,on --peers ours,amazon

Every process is stopped at the end (the stack is a context manager; Ctrl-C stops it too).
"""

from __future__ import annotations

import argparse
import os
import random
import shlex
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psutil

from benchmarks.scale_report import (
    UsageMeter,
    busiest,
    calls_of,
    counter_deltas,
    number,
    peak_overlap,
    per,
    percentile,
    ratio,
    table,
)
from devstack import AirflowStack
from devstack.postgres import DATABASE, USER, PostgresServer

SCALE_DAGS = Path(__file__).resolve().parent / "scale_dags"
DEFINITION = (
    Path(__file__).resolve().parent.parent / "example_dags" / "pipeline_definitions" / "benchmark.json"
)
ROLE_ARN = "arn:aws:iam::123456789012:role/SageMakerEvaluationRole"
#: The DAG of each (peer, events) case, as in benchmarks/scale_dags.
DAG_OF = {
    ("ours", False): "scale_ours",
    ("ours", True): "scale_ours_events",
    ("amazon", False): "scale_amazon",
}
TASK_ID = "evaluate"
NAMES_TASK_ID = "evaluation_names"
#: The XCom key that holds each mapped task's execution ARN.
ARN_KEY = {"ours": "execution_arn", "amazon": "return_value"}
#: The pipeline the amazon operator starts (the benchmark definition, created by this script).
PEER_PIPELINE = "sm-eval-scale-peer"
#: The components measured, as the table names them (the stack's, then the servers beside them).
COMPONENTS = (
    "scheduler",
    "dag-processor",
    "worker",
    "worker-2",
    "triggerer",
    "triggerer-2",
    "api-server",
    "api-server-2",
    "postgres",
    "redis",
    "emulator",
)
#: Backends report table statistics at most this long after their last transaction (PostgreSQL 15).
STATS_FLUSH_SECONDS = 11.0
SAMPLE_SECONDS = 1.0
#: The step time is redrawn this often within +-STEP_SPREAD of the case's: executions of one length
#: would each end at the same phase of a fixed poll interval (the amazon trigger's), which would
#: make its notice latency an artefact of the length chosen.
STEP_REDRAW_SECONDS = 3.0
STEP_SPREAD = 0.2


# -- measuring ------------------------------------------------------------------------------------


def _tree_sample(processes: list[psutil.Process]) -> tuple[float, int]:
    """CPU seconds so far (children reaped included) and summed RSS of ``processes``."""
    cpu, rss = 0.0, 0
    for process in processes:
        try:
            with process.oneshot():
                times = process.cpu_times()
                memory = process.memory_info()
        except psutil.Error:  # ended between listing and reading
            continue
        cpu += times.user + times.system + times.children_user + times.children_system
        rss += memory.rss
    return cpu, rss


def _emulator_tree(pid: int) -> list[psutil.Process]:
    try:
        leader = psutil.Process(pid)
        return [leader, *leader.children(recursive=True)]
    except psutil.Error:
        return []


class Sampler:
    """Samples every component's process tree every ``SAMPLE_SECONDS`` in a thread, into a meter."""

    def __init__(self, stack: AirflowStack) -> None:
        assert stack.postgres is not None and stack.redis is not None
        trees: dict[str, Callable[[], list[psutil.Process]]] = {
            name: process.tree for name, process in stack.components.items()
        }
        trees["postgres"] = stack.postgres.process.tree
        trees["redis"] = stack.redis.process.tree
        emulator_pid = stack.emulator_pid
        trees["emulator"] = lambda: _emulator_tree(emulator_pid)
        self._trees = trees
        self.meter = UsageMeter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scale-sampler", daemon=True)

    def sample(self) -> None:
        for name, tree in self._trees.items():
            self.meter.add(name, *_tree_sample(tree()))

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self.sample()

    def __enter__(self) -> Sampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


class StepJitter:
    """Redraws the emulator's step time every ``STEP_REDRAW_SECONDS`` within ``STEP_SPREAD`` of
    ``step_seconds`` (seeded: the same draws each run), so that execution lengths vary; restores it."""

    def __init__(self, stack: AirflowStack, step_seconds: float, seed: int) -> None:
        self._stack = stack
        self._step = step_seconds
        self._random = random.Random(seed)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scale-step-jitter", daemon=True)

    def _set(self, seconds: float) -> None:
        self._stack.emulator_control("PUT", "config", {"step_seconds": round(seconds, 3)})

    def _run(self) -> None:
        while not self._stop.wait(STEP_REDRAW_SECONDS):
            self._set(self._step * self._random.uniform(1 - STEP_SPREAD, 1 + STEP_SPREAD))

    def __enter__(self) -> StepJitter:
        self._set(self._step)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._set(self._step)


class Metadata:
    """Reads of the stack's metadata database (psycopg2; the password from the server's passfile)."""

    def __init__(self, server: PostgresServer) -> None:
        import psycopg2

        self._connection = psycopg2.connect(
            host="127.0.0.1", port=server.port, user=USER, dbname=DATABASE, passfile=str(server.passfile)
        )
        self._connection.autocommit = True

    def close(self) -> None:
        self._connection.close()

    def rows(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        with self._connection.cursor() as cursor:
            cursor.execute(sql, args)
            return list(cursor.fetchall())

    def wal_lsn(self) -> str:
        return str(self.rows("select pg_current_wal_lsn()::text")[0][0])

    def wal_bytes_since(self, lsn: str) -> int:
        return int(self.rows("select pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)", lsn)[0][0])

    def table_counters(self) -> dict[str, dict[str, int]]:
        return {
            table: {"n_tup_ins": ins, "n_tup_upd": upd, "n_tup_del": dele}
            for table, ins, upd, dele in self.rows(
                "select relname, n_tup_ins, n_tup_upd, n_tup_del from pg_stat_user_tables"
            )
        }

    def run_state(self, dag_id: str, run_id: str) -> str | None:
        found = self.rows("select state from dag_run where dag_id = %s and run_id = %s", dag_id, run_id)
        return str(found[0][0]) if found else None

    def task_states(self, dag_id: str, run_id: str) -> Counter[str]:
        return Counter(
            {
                str(state): int(n)
                for state, n in self.rows(
                    "select coalesce(state, 'none'), count(*) from task_instance"
                    " where dag_id = %s and run_id = %s and task_id = %s group by 1",
                    dag_id,
                    run_id,
                    TASK_ID,
                )
            }
        )

    def task_instances(self, dag_id: str, run_id: str, task_id: str) -> list[tuple[int, str, Any, Any]]:
        """``(map_index, state, start_date, end_date)`` of each instance of ``task_id``."""
        return [
            (int(index), str(state), start, end)
            for index, state, start, end in self.rows(
                "select map_index, state, start_date, end_date from task_instance"
                " where dag_id = %s and run_id = %s and task_id = %s",
                dag_id,
                run_id,
                task_id,
            )
        ]

    def xcom_size(self, dag_id: str, run_id: str) -> tuple[int, int]:
        """Rows and bytes (``pg_column_size`` of the values) of the mapped task's XComs."""
        rows, size = self.rows(
            "select count(*), coalesce(sum(pg_column_size(value)), 0) from xcom"
            " where dag_id = %s and run_id = %s and task_id = %s",
            dag_id,
            run_id,
            TASK_ID,
        )[0]
        return int(rows), int(size)

    def execution_arns(self, dag_id: str, run_id: str, key: str) -> dict[int, str]:
        """Map index -> the execution ARN the mapped task pushed under ``key``."""
        return {
            int(index): str(arn)
            for index, arn in self.rows(
                "select map_index, value #>> '{}' from xcom"
                " where dag_id = %s and run_id = %s and task_id = %s and key = %s",
                dag_id,
                run_id,
                TASK_ID,
                key,
            )
            if arn
        }


# -- one case ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    peer: str
    events: bool
    evaluations: int

    @property
    def dag_id(self) -> str:
        return DAG_OF[(self.peer, self.events)]

    @property
    def label(self) -> str:
        return f"{self.peer}, events {'on' if self.events else 'off'}, N={self.evaluations:,}"


@dataclass
class Result:
    case: Case
    step_seconds: float
    state: str
    task_states: Counter[str]
    wall_seconds: float | None = None
    peak_executing: int = 0
    execution_seconds: float | None = None
    calls: dict[str, dict[str, int]] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    xcom_rows: int = 0
    xcom_bytes: int = 0
    wal_bytes: int = 0
    tables: dict[str, dict[str, int]] = field(default_factory=dict)
    meter: UsageMeter = field(default_factory=UsageMeter)

    @property
    def succeeded(self) -> int:
        return self.task_states.get("success", 0)


def run_case(
    stack: AirflowStack, metadata: Metadata, case: Case, step_seconds: float, timeout: float
) -> Result:
    """Run one case to its end (or ``timeout``) and measure it."""
    prefix = f"{case.peer}-{'ev' if case.events else 'po'}-{case.evaluations}-{uuid.uuid4().hex[:6]}"
    conf: dict[str, Any] = {"count": case.evaluations, "prefix": prefix}
    if case.peer == "amazon":
        conf["pipeline_name"] = PEER_PIPELINE
    stack.emulator_control("DELETE", "calls")
    lsn = metadata.wal_lsn()
    counters = metadata.table_counters()
    _say(f"{case.label}: step {step_seconds:g} s, run {prefix}__run")
    with StepJitter(stack, step_seconds, case.evaluations), Sampler(stack) as sampler:
        run_id = stack.api.trigger(case.dag_id, conf=conf, run_id=f"{prefix}__run")
        state = _wait_for_run(stack, metadata, case, run_id, timeout)
    calls = stack.emulator_control("GET", "calls")["calls"]
    wal = metadata.wal_bytes_since(lsn)
    time.sleep(STATS_FLUSH_SECONDS)
    tables = counter_deltas(counters, metadata.table_counters())
    result = Result(case, step_seconds, state, metadata.task_states(case.dag_id, run_id))
    result.calls, result.wal_bytes, result.tables, result.meter = calls, wal, tables, sampler.meter
    result.xcom_rows, result.xcom_bytes = metadata.xcom_size(case.dag_id, run_id)
    _timings(stack, metadata, case, run_id, result)
    _say(f"{case.label}: {state}, {dict(result.task_states)}, wall {number(result.wall_seconds)} s")
    return result


def _wait_for_run(stack: AirflowStack, metadata: Metadata, case: Case, run_id: str, timeout: float) -> str:
    """Wait until the run ends; its state ("timeout": marked failed after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    started = time.monotonic()
    reported = 0.0
    while (state := metadata.run_state(case.dag_id, run_id)) not in ("success", "failed"):
        now = time.monotonic()
        if now > deadline:
            stack.api.patch(f"/dags/{case.dag_id}/dagRuns/{run_id}", {"state": "failed"})
            return "timeout"
        if now - reported >= 30:
            reported = now
            states = dict(metadata.task_states(case.dag_id, run_id))
            _say(f"  {now - started:6.0f} s  {states}  load {os.getloadavg()[0]:.1f}")
        time.sleep(2.0)
    return str(state)


def _timings(stack: AirflowStack, metadata: Metadata, case: Case, run_id: str, result: Result) -> None:
    """Wall time, end-notice latencies, execution lengths and peak concurrency (after the calls
    were read: this describes every execution)."""
    names = metadata.task_instances(case.dag_id, run_id, NAMES_TASK_ID)
    instances = metadata.task_instances(case.dag_id, run_id, TASK_ID)
    ends = [end for _, state, _, end in instances if state == "success" and end is not None]
    if names and names[0][3] is not None and ends:
        result.wall_seconds = (max(ends) - names[0][3]).total_seconds()
    arns = metadata.execution_arns(case.dag_id, run_id, ARN_KEY[case.peer])
    client = stack.emulator_client("sagemaker")

    def describe(arn: str) -> dict[str, Any]:
        return dict(client.describe_pipeline_execution(PipelineExecutionArn=arn))

    with ThreadPoolExecutor(8) as pool:
        described = dict(zip(arns, pool.map(describe, arns.values()), strict=True))
    ended = {
        index: execution
        for index, execution in described.items()
        if execution["PipelineExecutionStatus"] not in ("Executing", "Stopping")
    }
    spans = [
        (execution["CreationTime"].timestamp(), execution["LastModifiedTime"].timestamp())
        for execution in ended.values()
    ]
    result.peak_executing = peak_overlap(spans)
    if spans:
        result.execution_seconds = statistics.median(end - start for start, end in spans)
    end_of = {index: end for index, state, _, end in instances if state == "success" and end is not None}
    result.latencies = [
        (end_of[index] - execution["LastModifiedTime"]).total_seconds()
        for index, execution in ended.items()
        if index in end_of
    ]


def ensure_peer_pipeline(stack: AirflowStack) -> None:
    """The amazon operator starts an existing pipeline: the benchmark definition, created once."""
    from airflow_provider_sm_eval.evaluation.constants import PIPELINE_NAME_PLACEHOLDER

    client = stack.emulator_client("sagemaker")
    names = {p["PipelineName"] for p in client.list_pipelines(MaxResults=100)["PipelineSummaries"]}
    if PEER_PIPELINE not in names:
        client.create_pipeline(
            PipelineName=PEER_PIPELINE,
            PipelineDefinition=PIPELINE_NAME_PLACEHOLDER.sub(PEER_PIPELINE, DEFINITION.read_text()),
            RoleArn=ROLE_ARN,
        )


def idle_baseline(stack: AirflowStack, metadata: Metadata, seconds: float) -> Result:
    """What the stack costs doing nothing for ``seconds`` (scheduler loops, heartbeats, parsing)."""
    _say(f"idle baseline: {seconds:g} s")
    lsn = metadata.wal_lsn()
    with Sampler(stack) as sampler:
        time.sleep(seconds)
    result = Result(Case("idle", False, 0), 0.0, "idle", Counter())
    result.wal_bytes, result.meter, result.wall_seconds = (
        metadata.wal_bytes_since(lsn),
        sampler.meter,
        seconds,
    )
    return result


# -- the tables --------------------------------------------------------------------------------------


def _events(case: Case) -> str:
    return "on" if case.events else "off"


def summary_rows(results: Sequence[Result]) -> list[list[str]]:
    rows = []
    for r in results:
        n = r.case.evaluations
        lat = r.latencies
        rows.append(
            [
                r.case.peer,
                _events(r.case),
                f"{n:,}",
                f"{r.succeeded}/{n}" + ("" if r.state == "success" else f" ({r.state})"),
                number(r.wall_seconds, 0),
                f"{r.peak_executing:,}",
                number(r.execution_seconds, 0),
                number(per(calls_of(r.calls, "sagemaker"), n), 2),
                number(per(calls_of(r.calls, "sqs"), n), 2),
                number(percentile(lat, 50), 1) if lat else "-",
                number(percentile(lat, 99), 1) if lat else "-",
                number(per(r.xcom_rows, n), 1),
                number(per(r.xcom_bytes, n), 0),
                number(per(r.tables.get("trigger", {}).get("n_tup_ins", 0), n), 2),
                number(per(r.wal_bytes, n) / 1024, 1),
            ]
        )
    return rows


SUMMARY_HEADER = [
    "peer",
    "events",
    "N",
    "succeeded",
    "wall s",
    "peak executing",
    "exec s (median)",
    "SM calls/eval",
    "SQS calls/eval",
    "notice p50 s",
    "notice p99 s",
    "XCom rows/eval",
    "XCom B/eval",
    "trigger rows/eval",
    "WAL KB/eval",
]


def usage_rows(results: Sequence[Result], idle: Result | None) -> list[list[str]]:
    """CPU seconds / peak RSS MB per component and run (the idle row: per minute)."""
    rows = []
    for r in ([idle] if idle else []) + list(results):
        is_idle = r.case.peer == "idle"
        scale = 60.0 / r.wall_seconds if is_idle and r.wall_seconds else 1.0
        total = sum(r.meter.cpu_seconds(name) for name in COMPONENTS)
        cells = [
            f"{r.meter.cpu_seconds(name) * scale:.0f}/{r.meter.peak_rss(name) / 2**20:.0f}"
            for name in COMPONENTS
        ]
        label = "idle, per minute" if is_idle else f"{r.case.peer} {_events(r.case)} {r.case.evaluations:,}"
        per_eval = "-" if is_idle else f"{per(total, r.case.evaluations):.2f}"
        rows.append([label, *cells, f"{total * scale:.0f}", per_eval])
    return rows


def table_rows(results: Sequence[Result], count: int = 4) -> list[list[str]]:
    """The busiest tables of each run: inserts/updates per evaluation."""
    rows = []
    for r in results:
        n = r.case.evaluations
        cells = [
            f"{table_name} {per(c.get('n_tup_ins', 0), n):.1f}/{per(c.get('n_tup_upd', 0), n):.1f}"
            for table_name, c in busiest(r.tables, count)
        ]
        rows.append([f"{r.case.peer} {_events(r.case)} {n:,}", *(cells + ["-"] * count)[:count]])
    return rows


def _ratio_figures(r: Result) -> list[float | None]:
    """The figures compared in the ratio table, in ``RATIO_HEADER``'s order."""
    n, lat = r.case.evaluations, r.latencies
    return [
        r.wall_seconds,
        calls_of(r.calls, "sagemaker") / n,
        percentile(lat, 50) if lat else None,
        percentile(lat, 99) if lat else None,
        r.xcom_bytes / n,
        r.wal_bytes / n,
        r.meter.cpu_seconds("worker") + r.meter.cpu_seconds("worker-2"),
        r.meter.cpu_seconds("triggerer") + r.meter.cpu_seconds("triggerer-2"),
        max(r.meter.peak_rss("triggerer"), r.meter.peak_rss("triggerer-2")),
        r.meter.cpu_seconds("scheduler"),
        sum(r.meter.cpu_seconds(name) for name in COMPONENTS),
    ]


def ratio_rows(results: Sequence[Result]) -> list[list[str]]:
    """ours / amazon at each N both ran to success with events off."""
    by = {(r.case.peer, r.case.events, r.case.evaluations): r for r in results if r.state == "success"}
    rows = []
    for (peer, events, n), ours in sorted(by.items(), key=lambda item: item[0][2]):
        amazon = by.get(("amazon", False, n))
        if peer == "ours" and not events and amazon is not None:
            pairs = zip(_ratio_figures(ours), _ratio_figures(amazon), strict=True)
            rows.append([f"{n:,}", *(ratio(a, b) for a, b in pairs)])
    return rows


RATIO_HEADER = [
    "N",
    "wall",
    "SM calls/eval",
    "notice p50",
    "notice p99",
    "XCom B/eval",
    "WAL/eval",
    "workers CPU",
    "triggerers CPU",
    "triggerer peak RSS",
    "scheduler CPU",
    "all CPU",
]


def call_lines(results: Sequence[Result]) -> list[str]:
    """The calls per evaluation of each run, by operation."""
    lines = []
    for r in results:
        n = r.case.evaluations
        parts = [
            f"{service}:{operation} {calls / n:.2f}"
            for service in ("sagemaker", "sqs")
            for operation, calls in sorted(r.calls.get(service, {}).items())
        ]
        lines.append(f"  {r.case.peer} {_events(r.case)} {n:,}: " + ", ".join(parts))
    return lines


def report(results: Sequence[Result], idle: Result | None, header: str) -> str:
    parts = [
        header,
        "",
        table(
            "Scale run: N deferred evaluations as mapped tasks of one DAG run",
            SUMMARY_HEADER,
            summary_rows(results),
        ),
        "",
        "Calls per evaluation, by operation:",
        *call_lines(results),
        "",
        table(
            "CPU seconds / peak RSS MB of each component's process tree over the run",
            ["run", *COMPONENTS, "CPU s", "CPU s/eval"],
            usage_rows(results, idle),
        ),
        "",
        table(
            "Busiest metadata tables: rows inserted/updated per evaluation",
            ["run", "1st", "2nd", "3rd", "4th"],
            table_rows(results),
        ),
    ]
    ratios = ratio_rows(results)
    if ratios:
        parts += ["", table("Ratios ours/amazon (events off; below 1x: ours lower)", RATIO_HEADER, ratios)]
    return "\n".join(parts)


# -- main ------------------------------------------------------------------------------------------------


def _say(message: str) -> None:
    print(f"[{datetime.now(timezone.utc):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def _csv(kind: Callable[[str], Any]) -> Callable[[str], list[Any]]:
    return lambda text: [kind(part.strip()) for part in text.split(",") if part.strip()]


def _events_mode(text: str) -> bool:
    if text not in ("off", "on"):
        raise argparse.ArgumentTypeError(f"events must be off or on, not {text!r}")
    return text == "on"


def _peer(text: str) -> str:
    if text not in ("ours", "amazon"):
        raise argparse.ArgumentTypeError(f"peer must be ours or amazon, not {text!r}")
    return text


def cases_of(
    sizes: Sequence[int], events: Sequence[bool], peers: Sequence[str], amazon_max: int
) -> list[Case]:
    """Each (N, peer, events) to run, smallest N first; amazon with events off only (it has no
    event-woken wait) and up to ``amazon_max``."""
    return [
        Case(peer, event, n)
        for n in sizes
        for peer in peers
        for event in events
        if not (peer == "amazon" and (event or n > amazon_max))
    ]


def step_seconds_for(evaluations: int, given: float | None) -> float:
    """The emulator's step time of a case: ``given``, else long enough that the N executions (about
    3 step times each) are all running before the first ends on this 2-core machine."""
    return given if given is not None else max(45.0, 0.5 * evaluations)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--sizes", type=_csv(int), default=[100, 250, 500, 1000], help="N, comma-separated")
    parser.add_argument("--events", type=_csv(_events_mode), default=[False, True], help="off,on")
    parser.add_argument("--peers", type=_csv(_peer), default=["ours", "amazon"], help="ours,amazon")
    parser.add_argument("--amazon-max", type=int, default=250, help="largest N the amazon operator runs at")
    parser.add_argument("--step-seconds", type=float, help="emulator step time (default: by N, see the code)")
    parser.add_argument("--worker-concurrency", type=int, default=8, help="task slots of each of 2 workers")
    parser.add_argument("--parallelism", type=int, default=32, help="[core] parallelism")
    parser.add_argument("--idle-seconds", type=float, default=60.0, help="idle baseline length (0: none)")
    parser.add_argument("--timeout", type=float, default=3600.0, help="longest wait for one run (s)")
    parser.add_argument("--save", type=Path, help="also write the tables to this file")
    parser.add_argument("--keep", type=Path, help="keep the stack's folder (logs, database) here")
    args = parser.parse_args(argv)
    cases = cases_of(args.sizes, args.events, args.peers, args.amazon_max)
    command = "python -m benchmarks.scale " + shlex.join(sys.argv[1:] if argv is None else list(argv))
    env = {
        # Airflow's defaults, not the fault suite's short ones: a task queued behind hundreds of
        # others, or late to heartbeat on a saturated machine, is not failed.
        "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "600",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "300",
    }
    results: list[Result] = []
    idle: Result | None = None
    started = datetime.now(timezone.utc)
    with AirflowStack(
        [SCALE_DAGS],
        executor="CeleryExecutor",
        parallelism=args.parallelism,
        worker_concurrency=args.worker_concurrency,
        poll_seconds=30,
        extra_env=env,
        folder=args.keep,
    ) as stack:
        assert stack.postgres is not None
        stack.wait_for_dags(sorted({case.dag_id for case in cases}))
        if any(case.peer == "amazon" for case in cases):
            ensure_peer_pipeline(stack)
        metadata = Metadata(stack.postgres)
        try:
            if args.idle_seconds > 0:
                idle = idle_baseline(stack, metadata, args.idle_seconds)
            for case in cases:
                step = step_seconds_for(case.evaluations, args.step_seconds)
                results.append(run_case(stack, metadata, case, step, args.timeout))
        finally:
            metadata.close()
            header = _header(command, started, args, results)
            text = report(results, idle, header)
            print(text, flush=True)
            if args.save:
                args.save.write_text(text + "\n")
    return 0 if all(r.state == "success" for r in results) else 1


def _header(command: str, started: datetime, args: argparse.Namespace, results: Sequence[Result]) -> str:
    import airflow
    import celery

    step_of = {r.case.evaluations: r.step_seconds for r in results}
    steps = ", ".join(f"N={n:,}: {seconds:g} s" for n, seconds in step_of.items()) or "-"
    uptime = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    return "\n".join(
        [
            f"$ {command}",
            f"started {started:%Y-%m-%d %H:%M} UTC, ended {datetime.now(timezone.utc):%H:%M} UTC;"
            f" nproc {os.cpu_count()}; uptime at the end: {uptime}",
            f"Airflow {airflow.__version__}, Celery {celery.__version__}; CeleryExecutor, 2 workers x"
            f" {args.worker_concurrency} slots, [core] parallelism {args.parallelism}, 2 triggerers"
            " (capacity 1,000 each), 2 API servers, a scheduler, a dag-processor;"
            " Redis broker, PostgreSQL 15",
            f"deferrable, poll/check interval 30 s, retries 0; emulator step time: {steps},"
            f" redrawn every {STEP_REDRAW_SECONDS:g} s within +-{STEP_SPREAD:.0%} (an execution lasts"
            " about 3 step times: the table's exec s)",
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
