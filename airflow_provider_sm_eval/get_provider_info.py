"""Provider metadata read by Airflow through the ``apache_airflow_provider`` entry point."""

from __future__ import annotations

from typing import Any

from airflow_provider_sm_eval import __version__


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-sm-eval",
        "name": "Amazon SageMaker Evaluation",
        "description": "Run and gate Amazon SageMaker model evaluation pipelines "
        "(benchmark, LLM-as-judge, custom scorer) from Airflow.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "Amazon SageMaker Evaluation",
                "external-doc-url": "https://docs.aws.amazon.com/sagemaker/latest/dg/model-evaluation.html",
                "tags": ["aws"],
            }
        ],
    }
