"""The README's bad-input table names every StartRequest field and every operator argument, and no other."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from airflow_provider_sm_eval.evaluation.request import StartRequest
from airflow_provider_sm_eval.operators.base import EvaluationBaseOperator
from airflow_provider_sm_eval.operators.evaluation_gate import EvaluationGateOperator
from airflow_provider_sm_eval.operators.evaluation_results import EvaluationResultsOperator
from airflow_provider_sm_eval.operators.evaluators import (
    BenchmarkEvaluationOperator,
    CustomScorerEvaluationOperator,
    LLMAsJudgeEvaluationOperator,
)
from airflow_provider_sm_eval.operators.start_evaluation import StartEvaluationOperator
from airflow_provider_sm_eval.operators.stop_evaluation import StopEvaluationOperator
from airflow_provider_sm_eval.sensors.evaluation_execution import EvaluationExecutionSensor

README = Path(__file__).parents[2] / "README.md"
OPERATORS = (
    EvaluationBaseOperator,
    StartEvaluationOperator,
    StopEvaluationOperator,
    EvaluationResultsOperator,
    EvaluationExecutionSensor,
    EvaluationGateOperator,
    BenchmarkEvaluationOperator,
    LLMAsJudgeEvaluationOperator,
    CustomScorerEvaluationOperator,
)
#: Inputs of Airflow's base classes that this provider checks.
BASE_CLASS_INPUTS = {"poke_interval"}


def table_inputs() -> set[str]:
    """The backticked names in the first column of the README's bad-input table."""
    section = README.read_text().split("### Bad input", 1)[1]
    section = re.split(r"\n##", section, maxsplit=1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    assert rows, "the README has no bad-input table"
    return {name for row in rows for name in re.findall(r"`([a-z0-9_]+)`", row.split("|")[1])}


def operator_arguments() -> set[str]:
    """The constructor arguments of every operator and of the provider's classes it derives from."""
    return {
        name
        for operator in OPERATORS
        for cls in operator.__mro__
        if cls.__module__.startswith("airflow_provider_sm_eval.") and "__init__" in vars(cls)
        for name, parameter in inspect.signature(vars(cls)["__init__"]).parameters.items()
        if name != "self" and parameter.kind is not inspect.Parameter.VAR_KEYWORD
    }


def test_every_start_request_field_is_in_the_table() -> None:
    assert set(StartRequest.model_fields) - table_inputs() == set()


def test_every_operator_argument_is_in_the_table() -> None:
    assert operator_arguments() - table_inputs() == set()


def test_the_table_names_only_real_inputs() -> None:
    known = set(StartRequest.model_fields) | operator_arguments() | BASE_CLASS_INPUTS
    assert table_inputs() - known == set()
