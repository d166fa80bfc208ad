"""Quality gate on an evaluation's results: fail the task or skip downstream tasks when it does not pass.

``EvaluationGateOperator`` checks an ``EvaluationSummary`` (given, pulled from XCom, or read
from a finished execution) against rules that can be combined:

- ``thresholds``: absolute bounds on one model's metrics;
- ``min_delta_vs_base``: bounds on the custom-minus-base differences;
- ``min_win_rate``: the custom model's LLM-as-judge win rate over the base model;
- ``baseline_summary`` / ``baseline_execution_arn`` with ``max_regression``: how much worse than
  an earlier evaluation each metric may get.

The rules themselves live in :mod:`airflow_provider_sm_eval.evaluation.gate`; this module keeps
the Airflow concerns: arguments, XCom, reading results by ARN, failing or skipping. The gate
report (each check with its value, bound and outcome) goes to XCom under ``gate_report`` and,
when the gate passes, as the return value. Which arguments are given is checked when the
operator is built; the values of the templated ones, once rendered, first thing in ``execute``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from airflow_provider_sm_eval.evaluation.arns import parse_execution_arn
from airflow_provider_sm_eval.evaluation.gate import (
    GateRules,
    ModelRole,
    gate_report,
    parse_summary,
)
from airflow_provider_sm_eval.evaluation.results.summary import EvaluationSummary
from airflow_provider_sm_eval.evaluation.steps_table import format_table
from airflow_provider_sm_eval.operators.base import EvaluationBaseOperator
from airflow_provider_sm_eval.utils.mixins import aws_template_fields
from airflow_provider_sm_eval.utils.validation import failing_the_task, require_bool
from airflow_provider_sm_eval.utils.xcom import XCOM_RESULTS
from airflow_provider_sm_eval.version_compat import AirflowException, AirflowFailException, SkipMixin

if TYPE_CHECKING:
    from airflow_provider_sm_eval.version_compat import Context

#: XCom key of the gate report (pushed whatever the outcome).
GATE_REPORT_XCOM_KEY = "gate_report"

OnFailure = Literal["fail", "skip"]
_NO_RULE = (
    "the gate has no rule: give thresholds, min_delta_vs_base, min_win_rate "
    "or a baseline (baseline_summary / baseline_execution_arn)"
)


class EvaluationGateOperator(EvaluationBaseOperator, SkipMixin):
    """Pass, fail or short-circuit on an evaluation's metrics.

    :param summary: the ``EvaluationSummary`` to check: a dict or its JSON, typically an
        XComArg of ``EvaluationResultsOperator`` or of ``StartEvaluationOperator`` (whose return
        value holds the summary under ``results``). Templated. Give this or ``execution_arn``.
    :param execution_arn: a finished execution whose results are read through
        ``SageMakerEvaluationHook``. Templated.
    :param thresholds: ``{metric: bound}`` on the ``model``'s metrics, where a bound is
        ``{"min": x}``, ``{"max": y}`` (lower is better), both, or a bare number (a minimum;
        a maximum for metrics in ``lower_is_better``). Every number of a rule must be a finite
        float: a boolean or a string (``"0.5"``) is refused; a rendered argument may be JSON
        text as a whole. Templated.
    :param min_delta_vs_base: least custom-minus-base improvement: a number for every metric
        both models have, or ``{metric: bound}`` with bounds on the raw difference. For
        metrics in ``lower_is_better`` a bare number ``x`` means ``custom - base <= -x``.
        Templated.
    :param min_win_rate: least LLM-as-judge win rate of the custom model over the base model,
        in [0, 1]. Templated.
    :param baseline_summary: summary of an earlier evaluation to compare against (same forms
        as ``summary``). Templated.
    :param baseline_execution_arn: an earlier execution whose results are the baseline. Templated.
    :param max_regression: how far each metric of ``model`` may fall below the baseline (rise
        above it for ``lower_is_better`` metrics): a number for every metric both summaries
        have, or ``{metric: tolerance}`` for named ones. Defaults to 0 when a baseline is
        given. A baseline that renders empty while this is set fails the task: with no
        baseline yet, let this render to None too. Templated.
    :param lower_is_better: names of metrics where a smaller value is better (e.g. a loss).
    :param model: whose metrics ``thresholds`` and ``max_regression`` apply to: ``"custom"``
        (default) or ``"base"``.
    :param on_failure: ``"fail"`` (default) fails the task with every violated rule in the
        message; ``"skip"`` succeeds but skips the downstream tasks, like ShortCircuitOperator.
    :param ignore_downstream_trigger_rules: with ``on_failure="skip"``, skip every downstream
        task (True, default) or only the direct ones and let trigger rules decide the rest.
    :param kwargs: the connection arguments of :class:`EvaluationBaseOperator` (for reading
        results by ARN) and ``BaseOperator``'s.
    """

    template_fields: Sequence[str] = aws_template_fields(
        "summary",
        "execution_arn",
        "thresholds",
        "min_delta_vs_base",
        "min_win_rate",
        "baseline_summary",
        "baseline_execution_arn",
        "max_regression",
    )
    ui_color = "#f4d6a0"
    inherits_from_skipmixin = True

    def __init__(
        self,
        *,
        summary: Any = None,
        execution_arn: str | None = None,
        thresholds: Mapping[str, Any] | None = None,
        min_delta_vs_base: float | Mapping[str, Any] | None = None,
        min_win_rate: float | None = None,
        baseline_summary: Any = None,
        baseline_execution_arn: str | None = None,
        max_regression: float | Mapping[str, float] | None = None,
        lower_is_better: Collection[str] = (),
        model: ModelRole = "custom",
        on_failure: OnFailure = "fail",
        ignore_downstream_trigger_rules: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.summary = summary
        self.execution_arn = execution_arn
        self.thresholds = thresholds
        self.min_delta_vs_base = min_delta_vs_base
        self.min_win_rate = min_win_rate
        self.baseline_summary = baseline_summary
        self.baseline_execution_arn = baseline_execution_arn
        self.max_regression = max_regression
        self.lower_is_better = lower_is_better
        self.model = model
        self.on_failure = on_failure
        self.ignore_downstream_trigger_rules = require_bool(
            ignore_downstream_trigger_rules, "ignore_downstream_trigger_rules"
        )
        if on_failure not in ("fail", "skip"):
            raise ValueError(f"on_failure must be 'fail' or 'skip', got {on_failure!r}")
        GateRules.parse_model(model)
        GateRules.parse_lower_is_better(lower_is_better)
        self._check_given_arguments()
        #: The baseline argument given (templated ones are replaced by their rendered value).
        self._baseline_argument = next(
            (
                name
                for name in ("baseline_summary", "baseline_execution_arn")
                if getattr(self, name) is not None
            ),
            None,
        )

    def _check_given_arguments(self) -> None:
        """Which arguments are given is known at DAG parse time, even for templated ones."""
        self._check_summary_sources()
        if self.max_regression is not None and not self._has_baseline:
            raise ValueError("max_regression needs a baseline_summary or baseline_execution_arn")
        rule_arguments = (self.thresholds, self.min_delta_vs_base, self.min_win_rate, self.max_regression)
        if all(value is None for value in rule_arguments) and not self._has_baseline:
            raise ValueError(_NO_RULE)

    @property
    def _has_baseline(self) -> bool:
        return self.baseline_summary is not None or self.baseline_execution_arn is not None

    def _rendered_rules(self) -> GateRules:
        """The rules from the rendered arguments; a ValueError names the argument that is wrong.

        A baseline that rendered empty while ``max_regression`` is set is an error: the rule
        would otherwise be dropped unseen. With no baseline yet (a first run), let
        ``max_regression`` render to None as well.
        """
        name = self._baseline_argument
        if name is not None and _rendered_empty(getattr(self, name)):
            if self.max_regression is not None:
                raise ValueError(
                    f"{name} rendered to {getattr(self, name)!r} while max_regression is "
                    f"{self.max_regression!r}: there is no baseline to compare with. When "
                    "there is no baseline yet, let max_regression render to None too"
                )
            self.log.warning("%s rendered empty: no regression rule is applied.", name)
            setattr(self, name, None)
        self._check_summary_sources()
        rules = GateRules.parse(
            thresholds=self.thresholds,
            min_delta_vs_base=self.min_delta_vs_base,
            min_win_rate=self.min_win_rate,
            max_regression=0.0 if self._has_baseline and self.max_regression is None else self.max_regression,
            lower_is_better=self.lower_is_better,
            model=self.model,
        )
        if rules.is_empty:
            raise ValueError(_NO_RULE)
        return rules

    def _check_summary_sources(self) -> None:
        """One summary or execution ARN, and at most one baseline (checked again once rendered)."""
        _exactly_one(self.summary, self.execution_arn, "summary", "execution_arn", required=True)
        _exactly_one(
            self.baseline_summary,
            self.baseline_execution_arn,
            "baseline_summary",
            "baseline_execution_arn",
            required=False,
        )

    def execute(self, context: Context) -> dict[str, Any]:
        """Check the rendered inputs, read the summaries, apply the rules, then pass, fail or skip.

        Bad input (including a rule naming a metric the summary lacks) fails the task without
        retries: trying again would not change the answer. Every input is checked before any
        results are read.
        """
        with failing_the_task():
            rules = self._rendered_rules()
            given = {
                name: summary_from(value, name=name)
                for name, value in (("summary", self.summary), ("baseline_summary", self.baseline_summary))
                if value is not None
            }
            for name, value in (
                ("execution_arn", self.execution_arn),
                ("baseline_execution_arn", self.baseline_execution_arn),
            ):
                if value is not None:
                    parse_execution_arn(value, name=name)
        summary = given.get("summary") or self._read(self.execution_arn)
        baseline = given.get("baseline_summary") or (
            self._read(self.baseline_execution_arn) if self.baseline_execution_arn else None
        )
        with failing_the_task():
            checks = rules.evaluate(summary, baseline)
        report = gate_report(summary, baseline, checks)
        self.log.info(
            "Quality gate on %s:\n%s",
            summary.execution_arn,
            format_table(
                ("Rule", "Subject", "Value", "Bound", "Baseline", "Result"),
                [
                    (
                        c.rule,
                        c.subject,
                        f"{c.value:g}",
                        c.bound.describe(),
                        "" if c.reference is None else f"{c.reference:g}",
                        "ok" if c.passed else "VIOLATED",
                    )
                    for c in checks
                ],
            ),
        )
        ti = context["ti"]
        ti.xcom_push(key=GATE_REPORT_XCOM_KEY, value=report)
        if report["passed"]:
            self.log.info("Quality gate passed (%d checks).", len(checks))
            return report
        violations = "\n".join(f"  - {text}" for text in report["violations"])
        message = f"Quality gate failed for {summary.execution_arn}:\n{violations}"
        if self.on_failure == "fail":
            raise AirflowFailException(message)
        self.log.warning("%s\nSkipping downstream tasks.", message)
        downstream = (
            self.get_flat_relatives(upstream=False)
            if self.ignore_downstream_trigger_rules
            else self.get_direct_relatives(upstream=False)
        )
        self.skip(ti=ti, tasks=[task for task in downstream if not task.is_teardown])
        return report

    def _read(self, execution_arn: str | None) -> EvaluationSummary:
        """The summary of a finished execution's results, read through the hook."""
        assert execution_arn is not None  # _check_summary_sources requires a summary or an ARN
        from airflow_provider_sm_eval.evaluation.exceptions import ResultsNotAvailableError

        hook = self.hook
        try:
            return hook.get_summary(hook.get_execution(execution_arn))
        except ResultsNotAvailableError as error:
            raise AirflowException(str(error)) from error


def summary_from(value: Any, *, name: str = "summary") -> EvaluationSummary:
    """An ``EvaluationSummary`` from itself, a dict, its JSON, or StartEvaluationOperator's return value."""
    if isinstance(value, Mapping) and "metrics" not in value and XCOM_RESULTS in value:
        # StartEvaluationOperator's return value: the summary is under its "results" key.
        if value[XCOM_RESULTS] is None:
            raise ValueError(
                f"{name}[{XCOM_RESULTS!r}] is empty: the evaluation has no results "
                f"(status {value.get('status', 'unknown')}, or results were not read)"
            )
        return summary_from(value[XCOM_RESULTS], name=f"{name}[{XCOM_RESULTS!r}]")
    return parse_summary(value, name=name)


def _rendered_empty(value: Any) -> bool:
    """Whether a rendered baseline argument holds nothing: None, or text that is blank, None or null."""
    return value is None or (isinstance(value, str) and value.strip() in ("", "None", "null"))


def _exactly_one(first: Any, second: Any, first_name: str, second_name: str, *, required: bool) -> None:
    if first is not None and second is not None:
        raise ValueError(f"give {first_name} or {second_name}, not both")
    if required and first is None and second is None:
        raise ValueError(f"give {first_name} or {second_name}")
