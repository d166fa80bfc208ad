"""XCom keys the start operator pushes besides ``return_value``, read by the gate and downstream tasks.

The return value of the start operator holds the same values under the same names.
"""

from __future__ import annotations

#: The execution's ARN, pushed as soon as the execution exists (before any waiting).
XCOM_EXECUTION_ARN = "execution_arn"
#: The steps of the execution, as ``StepDetail`` dicts.
XCOM_STEPS = "steps"
#: The ``EvaluationSummary`` dict of the results, or None when results were not read.
XCOM_RESULTS = "results"
#: The pipeline definition an evaluator operator built (its rendered view shows it after a deferral).
XCOM_DEFINITION = "pipeline_definition"
