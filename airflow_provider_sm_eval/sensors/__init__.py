"""Sensors of SageMaker evaluation executions."""
