"""The Airflow UI plugin of the provider: evaluation tabs on task instances and DAGs (``evaluation_ui``)."""
