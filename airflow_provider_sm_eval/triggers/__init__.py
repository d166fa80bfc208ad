"""Deferrable triggers of SageMaker evaluation executions."""
