"""The scale run's arithmetic and tables (benchmarks/scale_report.py, benchmarks/scale.py): no stack."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

import pytest

from benchmarks.scale import Case, Result, cases_of, ratio_rows, report, step_seconds_for, summary_rows
from benchmarks.scale_report import (
    Usage,
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


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([1, 2, 3, 4], 50, 2.5),
        ([4, 1, 3, 2], 50, 2.5),  # unsorted input
        ([5], 99, 5),
        (list(range(1, 101)), 99, 99.01),
        (list(range(1, 101)), 0, 1),
        (list(range(1, 101)), 100, 100),
    ],
)
def test_percentile_interpolates_between_the_closest_ranks(
    values: list[float], q: float, expected: float
) -> None:
    assert percentile(values, q) == pytest.approx(expected)


@pytest.mark.parametrize(("values", "q"), [([], 50), ([1.0], -1), ([1.0], 101)])
def test_percentile_refuses_no_values_and_a_q_outside_0_to_100(values: list[float], q: float) -> None:
    with pytest.raises(ValueError, match="percentile"):
        percentile(values, q)


def test_peak_overlap_counts_intervals_open_at_once_and_not_those_that_only_touch() -> None:
    assert peak_overlap([]) == 0
    assert peak_overlap([(0, 10), (2, 5), (4, 8), (9, 12)]) == 3
    assert peak_overlap([(0, 5), (5, 10), (10, 15)]) == 1  # one ends where the next starts
    assert peak_overlap([(0, 10)] * 4) == 4


def test_usage_is_the_cpu_between_first_and_last_sample_and_the_largest_rss() -> None:
    usage = Usage()
    assert usage.cpu_seconds == 0.0
    for cpu, rss in [(10.0, 100), (12.5, 300), (15.0, 200)]:
        usage.add(cpu, rss)
    assert usage.cpu_seconds == pytest.approx(5.0)
    assert usage.peak_rss == 300
    assert usage.samples == 3


def test_usage_of_a_tree_restarted_from_scratch_is_never_negative() -> None:
    usage = Usage()
    usage.add(50.0, 10)
    usage.add(3.0, 10)
    assert usage.cpu_seconds == 0.0


def test_usage_meter_keeps_each_component_apart_and_knows_nothing_of_unsampled_ones() -> None:
    meter = UsageMeter()
    meter.add("worker", 1.0, 10)
    meter.add("scheduler", 100.0, 50)
    meter.add("worker", 4.0, 30)
    assert meter.cpu_seconds("worker") == pytest.approx(3.0)
    assert meter.cpu_seconds("scheduler") == 0.0
    assert meter.peak_rss("worker") == 30
    assert (meter.cpu_seconds("redis"), meter.peak_rss("redis")) == (0.0, 0)


def test_counter_deltas_and_the_busiest_tables() -> None:
    before = {
        "xcom": {"n_tup_ins": 10, "n_tup_upd": 0, "n_tup_del": 0},
        "job": {"n_tup_ins": 1, "n_tup_upd": 5},
    }
    after = {
        "xcom": {"n_tup_ins": 30, "n_tup_upd": 0, "n_tup_del": 4},
        "job": {"n_tup_ins": 1, "n_tup_upd": 50},
        "trigger": {"n_tup_ins": 3, "n_tup_upd": 2, "n_tup_del": 3},  # new since before
        "log": {"n_tup_ins": 0, "n_tup_upd": 0},
    }
    deltas = counter_deltas(before, after)
    assert deltas["xcom"] == {"n_tup_ins": 20, "n_tup_upd": 0, "n_tup_del": 4}
    assert deltas["job"] == {"n_tup_ins": 0, "n_tup_upd": 45}
    assert deltas["trigger"] == {"n_tup_ins": 3, "n_tup_upd": 2, "n_tup_del": 3}
    assert [name for name, _ in busiest(deltas, 2)] == ["job", "xcom"]
    assert [name for name, _ in busiest(deltas, 10)] == ["job", "xcom", "trigger"]  # log wrote nothing


def test_calls_per_service_and_per_evaluation() -> None:
    counts = {
        "sagemaker": {"ListPipelineExecutions": 6, "StartPipelineExecution": 4},
        "sqs": {"ReceiveMessage": 2},
    }
    assert calls_of(counts, "sagemaker") == 10
    assert calls_of(counts, "s3") == 0
    assert per(10, 4) == 2.5
    with pytest.raises(ValueError, match="evaluations"):
        per(1, 0)


def test_ratio_and_number_show_missing_figures_as_a_dash() -> None:
    assert ratio(1.0, 4.0) == "0.25x"
    assert ratio(None, 4.0) == ratio(1.0, None) == ratio(1.0, 0) == "-"
    assert number(1234.567) == "1,234.6"
    assert number(0.5, 2) == "0.50"
    assert number(None) == "-"


def test_table_aligns_columns_under_the_header_and_refuses_a_short_row() -> None:
    text = table("T", ["a", "long header"], [["wide cell", "1"], ["x", "22"]])
    assert text.splitlines() == [
        "T",
        "a          long header",
        "---------  -----------",
        "wide cell  1",
        "x          22",
    ]
    with pytest.raises(ValueError, match="cells"):
        table("T", ["a", "b"], [["only one"]])


def test_cases_run_smallest_first_and_amazon_only_without_events_up_to_its_cap() -> None:
    cases = cases_of([100, 1000], [False, True], ["ours", "amazon"], amazon_max=250)
    assert cases == [
        Case("ours", False, 100),
        Case("ours", True, 100),
        Case("amazon", False, 100),
        Case("ours", False, 1000),
        Case("ours", True, 1000),
    ]
    assert [case.dag_id for case in cases[:3]] == ["scale_ours", "scale_ours_events", "scale_amazon"]


def test_step_time_grows_with_n_unless_given() -> None:
    assert step_seconds_for(10, None) == step_seconds_for(50, None)  # the floor
    assert step_seconds_for(1000, None) > step_seconds_for(100, None)
    assert step_seconds_for(1000, 7.0) == 7.0


def _result(peer: str, n: int, wall: float, sagemaker_calls: int, latencies: list[float]) -> Result:
    result = Result(Case(peer, False, n), 10.0, "success", Counter({"success": n}))
    result.wall_seconds = wall
    result.calls = {"sagemaker": {"DescribePipelineExecution": sagemaker_calls}}
    result.latencies = latencies
    result.xcom_rows, result.xcom_bytes, result.wal_bytes = 2 * n, 100 * n, 4096 * n
    result.tables = {"trigger": {"n_tup_ins": n}}
    start = datetime(2026, 1, 1, tzinfo=timezone.utc).timestamp()
    for name, cpu in (("worker", 10.0), ("triggerer", 2.0)):
        result.meter.add(name, start, 2**20)
        result.meter.add(name, start + cpu, 2**21)
    return result


def test_the_report_has_a_row_per_run_and_ratios_where_both_peers_ran() -> None:
    ours = _result("ours", 100, 300.0, 150, [10.0, 20.0, 30.0])
    amazon = _result("amazon", 100, 600.0, 600, [20.0, 40.0])
    lonely = _result("ours", 250, 900.0, 300, [])
    rows = summary_rows([ours, amazon, lonely])
    assert rows[0][:5] == ["ours", "off", "100", "100/100", "300"]
    assert rows[0][7] == "1.50" and rows[1][7] == "6.00"  # SageMaker calls per evaluation
    assert rows[0][9] == "20.0" and rows[2][9] == "-"  # notice p50; none measured
    assert rows[0][-1] == "4.0"  # WAL KB per evaluation
    ratios = ratio_rows([ours, amazon, lonely])
    assert [row[:3] for row in ratios] == [["100", "0.50x", "0.25x"]]  # no amazon run at 250
    text = report([ours, amazon, lonely], None, "header line")
    assert text.startswith("header line\n") and "Ratios ours/amazon" in text


def test_a_run_that_timed_out_says_so_and_gets_no_ratio() -> None:
    ours = _result("ours", 100, 300.0, 150, [10.0])
    ours.state, ours.task_states = "timeout", Counter({"success": 60, "deferred": 40})
    amazon = _result("amazon", 100, 600.0, 600, [20.0])
    assert summary_rows([ours])[0][3] == "60/100 (timeout)"
    assert ratio_rows([ours, amazon]) == []
