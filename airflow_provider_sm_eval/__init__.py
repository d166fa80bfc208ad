"""Apache Airflow provider for Amazon SageMaker model evaluation pipelines."""

__version__ = "0.1.0"
