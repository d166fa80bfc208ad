"""Synthetic, deterministic evaluation results, shaped like the real result files.

Values are deterministic: the base model's scores depend on the metric only, the custom
model's uplift and the standard errors on execution id, step name and metric, so the same
execution always produces the same numbers. The custom model scores somewhat better than the
base model by default (in every execution: a gate against a baseline execution is stable too);
``ResultSettings`` can turn that around or pin metrics of a step, so that quality gates can be
tested both ways.
"""

from __future__ import annotations

import hashlib
import statistics
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Benchmark metrics written under ``results.all`` (each with a ``*_stderr`` sibling).
BENCHMARK_METRICS = ("acc", "acc_norm", "exact_match")
#: Custom scorer metrics, under a task key instead of ``all``.
CUSTOM_SCORER_METRICS = ("bleu", "rouge1", "rougeL", "exact_match")
CUSTOM_SCORER_TASK_KEY = "custom|gen_qa_gen_qa|0"
#: LLM-as-judge metrics.
LLMAJ_METRICS = ("Builtin.Correctness", "Builtin.Completeness", "Builtin.Helpfulness")
JUDGE_MODEL_ID = "anthropic.claude-3-5-sonnet-20240620-v1:0"


@dataclass(frozen=True)
class _Override:
    step_name: str
    metrics: Mapping[str, float]
    pipeline_name: str | None


class ResultSettings:
    """Thread-safe switches that shape the synthetic metrics."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._custom_worse = False
        self._overrides: list[_Override] = []

    @property
    def custom_worse_than_base(self) -> bool:
        with self._lock:
            return self._custom_worse

    @custom_worse_than_base.setter
    def custom_worse_than_base(self, value: bool) -> None:
        with self._lock:
            self._custom_worse = bool(value)

    def override(
        self, step_name: str, metrics: Mapping[str, float], pipeline_name: str | None = None
    ) -> None:
        """Pin metric values (name -> number) in the results of ``step_name``."""
        if not isinstance(step_name, str) or not step_name:
            raise ValueError("override: step_name must be a non-empty string")
        if not isinstance(metrics, Mapping) or not all(
            isinstance(k, str) and isinstance(v, int | float) and not isinstance(v, bool)
            for k, v in metrics.items()
        ):
            raise ValueError("override: metrics must map metric names to numbers")
        with self._lock:
            self._overrides.append(_Override(step_name, dict(metrics), pipeline_name))

    def overrides_for(self, pipeline_name: str, step_name: str) -> dict[str, float]:
        with self._lock:
            merged: dict[str, float] = {}
            for item in self._overrides:
                if item.step_name == step_name and (
                    item.pipeline_name is None or item.pipeline_name.lower() == pipeline_name.lower()
                ):
                    merged.update(item.metrics)
            return merged

    def clear(self) -> None:
        with self._lock:
            self._custom_worse = False
            self._overrides.clear()

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {
                "custom_worse_than_base": self._custom_worse,
                "overrides": [
                    {"step_name": o.step_name, "metrics": dict(o.metrics), "pipeline_name": o.pipeline_name}
                    for o in self._overrides
                ],
            }


@dataclass(frozen=True)
class MetricSeed:
    """What the numbers of one step run depend on."""

    execution_id: str
    step_name: str
    is_custom: bool
    custom_worse_than_base: bool
    overrides: Mapping[str, float]

    def unit(self, *parts: object) -> float:
        """A deterministic number in [0, 1) for this execution and ``parts``."""
        return _unit(self.execution_id, *parts)

    def score(self, metric: str, index: int | None = None) -> float:
        """A score in [0, 1]: the base model's level, shifted by an uplift for the custom model.

        The base level depends on the metric (and example) only: the same base model on the same
        benchmark scores the same in every execution. The uplift is drawn per execution, and
        added (or, with ``custom_worse_than_base``, subtracted), so that the custom model is
        better (worse) than the base model, in its own execution and in any other.
        """
        base = 0.45 + 0.25 * _unit("base-level", metric, index)
        if not self.is_custom:
            return round(base, 4)
        uplift = 0.05 + 0.1 * self.unit("uplift", metric, index)
        return round(min(1.0, max(0.0, base - uplift if self.custom_worse_than_base else base + uplift)), 4)


def _unit(*parts: object) -> float:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def benchmark_results(seed: MetricSeed, names: tuple[str, ...], key: str) -> dict[str, Any]:
    """Content of a benchmark or custom scorer ``results_*.json`` file: ``names`` under ``results[key]``."""
    metrics: dict[str, float] = {}
    for name in names:
        metrics[name] = seed.overrides.get(name, seed.score(name))
        metrics[f"{name}_stderr"] = seed.overrides.get(
            f"{name}_stderr", round(0.005 + 0.02 * seed.unit("stderr", seed.step_name, name), 4)
        )
    for name, value in seed.overrides.items():
        metrics.setdefault(name, value)
    return {
        "results": {key: metrics},
        "config_general": {"model_name": "custom" if seed.is_custom else "base", "seed": seed.execution_id},
    }


def llmaj_example_records(
    seed: MetricSeed, examples: int, judge_job_name: str, metrics: tuple[str, ...] = LLMAJ_METRICS
) -> list[dict[str, Any]]:
    """Per-example judge records (one ``*_output.jsonl`` line each), scoring ``metrics``."""
    records = []
    for index in range(examples):
        scores = []
        for metric in metrics:
            result = seed.overrides.get(metric, seed.score(metric, index))
            scores.append(
                {
                    "metricName": metric,
                    "result": result,
                    "evaluatorDetails": [
                        {
                            "modelIdentifier": JUDGE_MODEL_ID,
                            "explanation": f"The response to question {index + 1} rates {result:.2f} "
                            f"on {metric.removeprefix('Builtin.').lower()}.",
                        }
                    ],
                }
            )
        records.append(
            {
                "inputRecord": {
                    "prompt": str(
                        [{"role": "user", "content": f"Question {index + 1}: what is {index} + 1?"}]
                    ),
                    "referenceResponse": str(index + 1),
                },
                "modelResponses": [
                    {
                        "response": str([f"The answer to question {index + 1} is {index + 1}."]),
                        "modelIdentifier": "custom" if seed.is_custom else "base",
                    }
                ],
                "automatedEvaluationResult": {"scores": scores},
                "judgeJobName": judge_job_name,
            }
        )
    return records


def llmaj_aggregate(
    records: list[dict[str, Any]], judge_job_name: str, metrics: tuple[str, ...] = LLMAJ_METRICS
) -> dict[str, Any]:
    """Content of ``bedrock_llm_judge_results.json`` computed from the per-example records."""
    by_metric: dict[str, list[float]] = {metric: [] for metric in metrics}
    for record in records:
        for score in record["automatedEvaluationResult"]["scores"]:
            by_metric.setdefault(score["metricName"], []).append(score["result"])
    results = {
        metric: {
            "score": round(statistics.fmean(values), 4) if values else 0.0,
            "std_deviation": round(statistics.pstdev(values), 4) if values else 0.0,
            "total_evaluations": len(values),
        }
        for metric, values in by_metric.items()
    }
    return {"job_name": judge_job_name, "results": results, "passed": len(records), "failed": 0}
