"""Provisioning tools: what a deployment sets up once in AWS, apart from the runtime (no Airflow)."""
