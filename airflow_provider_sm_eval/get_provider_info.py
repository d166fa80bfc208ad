"""Provider metadata read by Airflow through the ``apache_airflow_provider`` entry point."""

from __future__ import annotations

from typing import Any

from airflow_provider_sm_eval import __version__
from airflow_provider_sm_eval.settings import provider_config

_INTEGRATION = "Amazon SageMaker Evaluation"
_PACKAGE = "airflow_provider_sm_eval"


def get_provider_info() -> dict[str, Any]:
    """Hooks, operators, sensors, triggers, extra links, the UI plugin and the ``[sm_eval]`` options.

    No ``connection-types`` entry: the hook uses the amazon provider's ``aws`` connection type,
    and registering ``aws`` here would take that type's form and hook over from the amazon provider.
    """
    return {
        "package-name": "airflow-provider-sm-eval",
        "name": "Amazon SageMaker Evaluation",
        "description": "Run and gate Amazon SageMaker model evaluation pipelines "
        "(benchmark, LLM-as-judge, custom scorer) from Airflow.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": _INTEGRATION,
                "external-doc-url": "https://docs.aws.amazon.com/sagemaker/latest/dg/model-evaluation.html",
                "tags": ["aws"],
            }
        ],
        "hooks": [{"integration-name": _INTEGRATION, "python-modules": [f"{_PACKAGE}.hooks.evaluation"]}],
        "operators": [
            {
                "integration-name": _INTEGRATION,
                "python-modules": [
                    f"{_PACKAGE}.operators.start_evaluation",
                    f"{_PACKAGE}.operators.evaluators",
                    f"{_PACKAGE}.operators.stop_evaluation",
                    f"{_PACKAGE}.operators.evaluation_results",
                    f"{_PACKAGE}.operators.evaluation_gate",
                ],
            }
        ],
        "sensors": [
            {"integration-name": _INTEGRATION, "python-modules": [f"{_PACKAGE}.sensors.evaluation_execution"]}
        ],
        "triggers": [
            {
                "integration-name": _INTEGRATION,
                "python-modules": [
                    f"{_PACKAGE}.triggers.evaluation_execution",
                    f"{_PACKAGE}.triggers.evaluation_events",
                ],
            }
        ],
        "extra-links": [
            f"{_PACKAGE}.links.evaluation.EvaluationExecutionLink",
            f"{_PACKAGE}.links.evaluation.EvaluationResultsLink",
        ],
        "plugins": [
            {
                "name": "sm_eval_ui",
                "plugin-class": f"{_PACKAGE}.plugins.evaluation_ui.SageMakerEvaluationPlugin",
            }
        ],
        "config": provider_config(),
    }
