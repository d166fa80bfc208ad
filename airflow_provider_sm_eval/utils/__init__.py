"""Helpers of the Airflow layer that are not operators: reattach, outcome, lineage, validation."""
