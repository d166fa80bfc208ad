"""SageMaker's pipeline status-change events, and the SQS queues they reach: the words and shapes.

What the event consumer of the triggerer reads (:mod:`..triggerer.events`), what the tasks and
``[sm_eval] event_queue_url`` name (a queue URL, checked by :func:`validate_queue_url`), and what
the provisioning tool (:mod:`..provisioning.event_setup`) routes to that queue, defined once.
"""

from __future__ import annotations

import re

#: The ``source`` of SageMaker's events on EventBridge.
SOURCE = "aws.sagemaker"
#: The ``detail-type`` of a pipeline execution's status change.
EXECUTION_STATUS_CHANGE = "SageMaker Model Building Pipeline Execution Status Change"
#: The name prefix every evaluation pipeline shares (EvalType's prefixes), lower-case as in ARNs.
PIPELINE_ARN_NAME_PREFIX = "sagemakerevaluation-"
#: SQS standard queue names: 1-80 letters, digits, hyphens, underscores (botocore's model sets no
#: limit; SQS's documentation does). A FIFO queue's name adds ``.fifo`` within the 80.
STANDARD_QUEUE_NAME = r"[A-Za-z0-9_-]{1,80}"
#: Queue URLs as SQS returns them: ``https://sqs.REGION.amazonaws.com/ACCOUNT/NAME``.
_QUEUE_URL = re.compile(rf"^https?://[^\s/]+(?::\d+)?/\d{{12}}/{STANDARD_QUEUE_NAME}(?:\.fifo)?$")


def validate_queue_url(value: str | None, *, name: str = "event_queue_url") -> str | None:
    """``value`` when None or an SQS queue URL, else ValueError naming ``name``."""
    if value is None:
        return None
    if not isinstance(value, str) or not _QUEUE_URL.match(value):
        raise ValueError(
            f"{name} {value!r} is not an SQS queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)"
        )
    return value
