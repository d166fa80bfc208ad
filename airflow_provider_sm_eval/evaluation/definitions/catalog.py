"""What SageMaker's evaluators can run, as data: benchmarks, judge metrics, custom scorer metrics.

The facts follow the SageMaker Python SDK 1.27 (``sagemaker.train.evaluate``): its benchmark table
(``benchmark_evaluator``), its custom scorer presets (``custom_scorer_evaluator``) and the
Amazon Bedrock built-in judge metrics that its ``LLMAsJudgeEvaluator`` passes on. Every validator
raises :class:`~..exceptions.InvalidInputError` naming the argument and listing the valid values.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from airflow_provider_sm_eval.evaluation.exceptions import InvalidInputError

#: The subtasks value that means "every subtask" (the SDK's default); no ``subtask`` hyperparameter.
ALL_SUBTASKS = "ALL"


@dataclass(frozen=True)
class Benchmark:
    """One benchmark: the ``task``/``strategy``/metric hyperparameters its jobs get.

    ``subtasks`` is None when the benchmark takes subtasks but no list of them is known (any
    name is passed on, as the SDK does); ``takes_subtasks`` False means none may be given.
    """

    name: str
    modality: str
    strategy: str
    metrics: tuple[str, ...]
    takes_subtasks: bool
    subtasks: tuple[str, ...] | None = None
    #: None: any model; True: Nova models only; False: every model but Nova.
    nova_only: bool | None = None

    @property
    def metric(self) -> str:
        """The metric the SDK sends (the first one)."""
        return self.metrics[0]


_MMLU_SUBTASKS = [
    "abstract_algebra",
    "anatomy",
    "astronomy",
    "business_ethics",
    "clinical_knowledge",
    "college_biology",
    "college_chemistry",
    "college_computer_science",
    "college_mathematics",
    "college_medicine",
    "college_physics",
    "computer_security",
    "conceptual_physics",
    "econometrics",
    "electrical_engineering",
    "elementary_mathematics",
    "formal_logic",
    "global_facts",
    "high_school_biology",
    "high_school_chemistry",
    "high_school_computer_science",
    "high_school_european_history",
    "high_school_geography",
    "high_school_government_and_politics",
    "high_school_macroeconomics",
    "high_school_mathematics",
    "high_school_microeconomics",
    "high_school_physics",
    "high_school_psychology",
    "high_school_statistics",
    "high_school_us_history",
    "high_school_world_history",
    "human_aging",
    "human_sexuality",
    "international_law",
    "jurisprudence",
    "logical_fallacies",
    "machine_learning",
    "management",
    "marketing",
    "medical_genetics",
    "miscellaneous",
    "moral_disputes",
    "moral_scenarios",
    "nutrition",
    "philosophy",
    "prehistory",
    "professional_accounting",
    "professional_law",
    "professional_medicine",
    "professional_psychology",
    "public_relations",
    "security_studies",
    "sociology",
    "us_foreign_policy",
    "virology",
    "world_religions",
]
_BBH_SUBTASKS = [
    "boolean_expressions",
    "causal_judgement",
    "date_understanding",
    "disambiguation_qa",
    "dyck_languages",
    "formal_fallacies",
    "geometric_shapes",
    "hyperbaton",
    "logical_deduction_five_objects",
    "logical_deduction_seven_objects",
    "logical_deduction_three_objects",
    "movie_recommendation",
    "multistep_arithmetic_two",
    "navigate",
    "object_counting",
    "penguins_in_a_table",
    "reasoning_about_colored_objects",
    "ruin_names",
    "salient_translation_error_detection",
    "snarks",
    "sports_understanding",
    "temporal_sequences",
    "tracking_shuffled_objects_five_objects",
    "tracking_shuffled_objects_seven_objects",
    "tracking_shuffled_objects_three_objects",
    "web_of_lies",
    "word_sorting",
]
_MATH_SUBTASKS = [
    "algebra",
    "counting_and_probability",
    "geometry",
    "intermediate_algebra",
    "number_theory",
    "prealgebra",
    "precalculus",
]
_MMMU_SUBTASKS = [
    "Accounting",
    "Agriculture",
    "Architecture_and_Engineering",
    "Art",
    "Art_Theory",
    "Basic_Medical_Science",
    "Biology",
    "Chemistry",
    "Clinical_Medicine",
    "Computer_Science",
    "Design",
    "Diagnostics_and_Laboratory_Medicine",
    "Economics",
    "Electronics",
    "Energy_and_Power",
    "Finance",
    "Geography",
    "History",
    "Literature",
    "Manage",
    "Marketing",
    "Materials",
    "Math",
    "Mechanical_Engineering",
    "Music",
    "Pharmacy",
    "Physics",
    "Psychology",
    "Public_Health",
    "Sociology",
]

BENCHMARKS: dict[str, Benchmark] = {
    b.name: b
    for b in (
        Benchmark("mmlu", "Text", "zs_cot", ("accuracy",), True, tuple(_MMLU_SUBTASKS)),
        Benchmark("mmlu_pro", "Text", "zs_cot", ("accuracy",), False),
        Benchmark("bbh", "Text", "fs_cot", ("accuracy",), True, tuple(_BBH_SUBTASKS)),
        Benchmark("gpqa", "Text", "zs_cot", ("accuracy",), False),
        Benchmark("math", "Text", "zs_cot", ("exact_match",), True, tuple(_MATH_SUBTASKS)),
        Benchmark("strong_reject", "Text", "zs", ("deflection",), True, None),
        Benchmark("ifeval", "Text", "zs", ("accuracy",), False),
        Benchmark(
            "mmmu", "Multi-Modal", "zs_cot", ("accuracy",), True, tuple(_MMMU_SUBTASKS), nova_only=True
        ),
        Benchmark("llm_judge", "Text", "judge", ("all",), False, nova_only=False),
    )
}

#: Amazon Bedrock's built-in judge metrics, without their ``Builtin.`` prefix.
JUDGE_BUILTIN_METRICS: tuple[str, ...] = (
    "Correctness",
    "Completeness",
    "Faithfulness",
    "Helpfulness",
    "Coherence",
    "Relevance",
    "FollowingInstructions",
    "ProfessionalStyleAndTone",
    "Harmfulness",
    "Stereotyping",
    "Refusal",
)
#: The prefix Bedrock's documentation puts before built-in metric names (optional here, as in the SDK).
BUILTIN_PREFIX = "Builtin."

#: The custom scorer's preset reward functions (the SDK's ``get_builtin_metrics()``).
CUSTOM_SCORER_BUILTIN_METRICS: tuple[str, ...] = ("prime_math", "prime_code")

#: Hyperparameters of the custom scorer's jobs (fixed by the SDK).
CUSTOM_SCORER_TASK = "gen_qa"
CUSTOM_SCORER_STRATEGY = "gen_qa"
CUSTOM_SCORER_METRIC = "all"


def is_nova_model(model_name: str) -> bool:
    """True for an Amazon Nova model (the SDK's test: ``nova`` in the name)."""
    return "nova" in model_name.lower()


def _listing(values: Iterable[str]) -> str:
    return ", ".join(values)


def find_benchmark(name: object, *, field: str = "benchmark") -> Benchmark:
    """The catalog entry of ``name`` (case and surrounding blanks ignored)."""
    key = name.strip().lower() if isinstance(name, str) else None
    entry = BENCHMARKS.get(key) if key else None
    if entry is None:
        raise InvalidInputError(
            field, f"{field} {name!r} is not a SageMaker benchmark; valid: {_listing(BENCHMARKS)}"
        )
    return entry


def check_subtasks(entry: Benchmark, value: object, *, field: str = "subtasks") -> str | list[str] | None:
    """``value`` checked against ``entry``: ``"ALL"``, one subtask or a non-empty list of them.

    None becomes ``"ALL"`` for a benchmark with subtasks (the SDK's default). Beyond the SDK:
    a list may not repeat a name, hold ``ALL`` or a name with a comma (the SDK joins the list
    with commas).
    """
    if not entry.takes_subtasks:
        if value is None:
            return None
        raise InvalidInputError(
            field, f"{field}: benchmark {entry.name!r} takes no subtasks; leave {field} unset"
        )
    if value is None:
        return ALL_SUBTASKS
    if isinstance(value, str):
        if value.strip().upper() == ALL_SUBTASKS:
            return ALL_SUBTASKS
        _check_subtask(entry, value, field)
        return value
    if not isinstance(value, (list, tuple)):
        raise InvalidInputError(
            field, f"{field} must be 'ALL', a subtask name or a list of them, got {type(value).__name__}"
        )
    if not value:
        raise InvalidInputError(
            field, f"{field} is an empty list; give at least one subtask of {entry.name!r} or 'ALL'"
        )
    names: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise InvalidInputError(field, f"{field} must hold strings, got {type(item).__name__} {item!r}")
        _check_subtask(entry, item, field)
        if item in names:
            raise InvalidInputError(field, f"{field} names {item!r} twice")
        names.append(item)
    return names


def _check_subtask(entry: Benchmark, name: str, field: str) -> None:
    if entry.subtasks is not None and name not in entry.subtasks:
        raise InvalidInputError(
            field,
            f"{field}: {name!r} is not a subtask of benchmark {entry.name!r}; valid: "
            f"{ALL_SUBTASKS}, {_listing(entry.subtasks)}",
        )
    if entry.subtasks is None and (not name.strip() or "," in name or name.upper() == ALL_SUBTASKS):
        raise InvalidInputError(
            field, f"{field}: {name!r} is not a subtask name (non-empty, no comma, not {ALL_SUBTASKS})"
        )


def find_judge_metric(name: object, *, field: str = "builtin_metrics") -> str:
    """A built-in judge metric without its optional ``Builtin.`` prefix (matched case-insensitively,
    returned in Bedrock's spelling)."""
    if isinstance(name, str):
        bare = name.strip()
        if bare.lower().startswith(BUILTIN_PREFIX.lower()):
            bare = bare[len(BUILTIN_PREFIX) :]
        for metric in JUDGE_BUILTIN_METRICS:
            if metric.lower() == bare.lower():
                return metric
    raise InvalidInputError(
        field,
        f"{field}: {name!r} is not a built-in judge metric; valid (the {BUILTIN_PREFIX} prefix is "
        f"optional): {_listing(JUDGE_BUILTIN_METRICS)}",
    )


def find_custom_scorer_metric(name: object, *, field: str = "evaluator") -> str:
    """A custom scorer preset metric name (case and surrounding blanks ignored)."""
    key = name.strip().lower() if isinstance(name, str) else None
    if key not in CUSTOM_SCORER_BUILTIN_METRICS:
        raise InvalidInputError(
            field,
            f"{field} {name!r} is neither a built-in metric ({_listing(CUSTOM_SCORER_BUILTIN_METRICS)}) "
            "nor an evaluator hub-content ARN",
        )
    return str(key)


def check_benchmark_for_model(entry: Benchmark, model_name: str, *, field: str = "benchmark") -> None:
    """Refuse a benchmark the model's family cannot run (``mmmu`` needs Nova, ``llm_judge`` refuses it)."""
    nova = is_nova_model(model_name)
    if entry.nova_only is True and not nova:
        raise InvalidInputError(
            field, f"{field} {entry.name!r} runs on Amazon Nova models only; model {model_name!r} is not one"
        )
    if entry.nova_only is False and nova:
        raise InvalidInputError(
            field, f"{field} {entry.name!r} does not run on Amazon Nova models; model {model_name!r} is one"
        )
