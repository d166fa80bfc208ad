"""Extra links and console URLs of SageMaker evaluation executions."""
