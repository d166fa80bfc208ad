"""Request parameters and list pagination, checked and shaped as the SageMaker API does."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sagemaker_eval_emulator.errors import ValidationException
from sagemaker_eval_emulator.service import check_role_arn

DEFAULT_MAX_RESULTS = 10
MAX_TAGS = 50
PIPELINE_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$")
EXECUTION_DISPLAY_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,81}$")

_T = TypeVar("_T")


def required_param(params: dict[str, Any], key: str) -> Any:
    """``params[key]``; ValidationException in AWS's wording when it is missing."""
    value = params.get(key)
    if value is None or value == "":
        raise ValidationException(
            f"1 validation error detected: Value null at '{key}' failed to satisfy constraint: "
            "Member must not be null"
        )
    return value


def checked_pipeline_name(params: dict[str, Any]) -> str:
    """The ``PipelineName`` of a create request, checked against the API's pattern."""
    name = required_param(params, "PipelineName")
    if not isinstance(name, str) or not PIPELINE_NAME.match(name):
        raise ValidationException(f"PipelineName {name!r} must match {PIPELINE_NAME.pattern}")
    return name


def checked_role_arn(value: Any) -> str:
    """An IAM role ARN, else ValidationException."""
    try:
        return check_role_arn(value, name="RoleArn")
    except ValueError as exc:
        raise ValidationException(str(exc)) from None


def parsed_tags(raw: Iterable[Any]) -> dict[str, str]:
    """``Tags`` entries as a dict (later keys win), at most ``MAX_TAGS``."""
    tags: dict[str, str] = {}
    for tag in raw:
        if (
            not isinstance(tag, dict)
            or not isinstance(tag.get("Key"), str)
            or not isinstance(tag.get("Value"), str)
        ):
            raise ValidationException("Tags entries need a string Key and Value")
        tags[tag["Key"]] = tag["Value"]
    if len(tags) > MAX_TAGS:
        raise ValidationException(f"A resource can have at most {MAX_TAGS} tags")
    return tags


def created_in_window(created: float, after: Any, before: Any) -> bool:
    """The ``CreatedAfter`` / ``CreatedBefore`` filter of list calls."""
    return (after is None or created > epoch_seconds(after)) and (
        before is None or created < epoch_seconds(before)
    )


def epoch_seconds(value: Any) -> float:
    """A request timestamp (epoch number or ISO 8601 string) as epoch seconds."""
    if isinstance(value, int | float):
        return float(value)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise ValidationException(f"Invalid timestamp {value!r}") from None


def paginate(
    items: Sequence[_T],
    params: dict[str, Any],
    *,
    default: int = DEFAULT_MAX_RESULTS,
    bounds: tuple[int, int] = (1, 100),
) -> tuple[list[_T], str | None]:
    """One page of ``items`` from the request's NextToken and MaxResults."""
    limit = params.get("MaxResults", default)
    if not isinstance(limit, int) or not bounds[0] <= limit <= bounds[1]:
        raise ValidationException(f"MaxResults must be between {bounds[0]} and {bounds[1]}, got {limit!r}")
    start = 0
    if params.get("NextToken"):
        try:
            start = int(json.loads(base64.urlsafe_b64decode(params["NextToken"]))["offset"])
        except (ValueError, KeyError, TypeError):
            raise ValidationException("Invalid NextToken") from None
        if start < 0:
            raise ValidationException("Invalid NextToken")
    end = start + limit
    token = (
        base64.urlsafe_b64encode(json.dumps({"offset": end}).encode()).decode() if end < len(items) else None
    )
    return list(items[start:end]), token


def with_next_token(response: dict[str, Any], token: str | None) -> dict[str, Any]:
    """``response`` with ``NextToken`` when there is a next page."""
    if token is not None:
        response["NextToken"] = token
    return response


def with_optional(response: dict[str, Any], **optional: Any) -> dict[str, Any]:
    """``response`` with the ``optional`` members that are set (AWS leaves unset members out)."""
    response.update({key: value for key, value in optional.items() if value is not None})
    return response


def max_parallel_steps(config: Any) -> int | None:
    """``ParallelismConfiguration.MaxParallelExecutionSteps``, checked; None without a config."""
    if config is None:
        return None
    value = config.get("MaxParallelExecutionSteps") if isinstance(config, dict) else None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationException(
            f"ParallelismConfiguration.MaxParallelExecutionSteps must be a positive integer, got {value!r}"
        )
    return value
