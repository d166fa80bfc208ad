"""Airflow hook of SageMaker evaluation executions."""
