"""Operators that start, stop and read SageMaker evaluation executions."""
