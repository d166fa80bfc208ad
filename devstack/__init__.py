"""A local Airflow 3 deployment for development and end-to-end tests (``make airflow``, tests/stack).

Not part of the provider package: it starts PostgreSQL, the SageMaker evaluation emulator and
Airflow's api-server, scheduler, dag-processor and triggerer as local processes.
"""

from devstack.airflow_stack import AirflowStack
from devstack.api import AirflowApi

__all__ = ["AirflowApi", "AirflowStack"]
