"""A local SageMaker evaluation emulator: SageMaker pipelines on top of moto, over real HTTP.

``python -m airflow_provider_sm_eval.emulator --port N`` runs it as a process;
``EvaluationEmulator`` runs it in-process; the ``sm_eval_emulator`` pytest fixture (plugin
``airflow_provider_sm_eval.emulator.pytest_plugin``) gives each test a clean one.
"""

from __future__ import annotations

from airflow_provider_sm_eval.emulator.faults import FaultController
from airflow_provider_sm_eval.emulator.results import ResultSettings
from airflow_provider_sm_eval.emulator.server import EvaluationEmulator

__all__ = ["EvaluationEmulator", "FaultController", "ResultSettings"]
