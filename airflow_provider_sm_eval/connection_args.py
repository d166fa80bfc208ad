"""The ``aws`` connection arguments of an operator, sensor, trigger, hook or UI page, as one value.

Operators and the sensor template ``aws_conn_id``, ``region_name`` and ``verify`` one by one
(Airflow renders attributes) and build this value from them once rendered; triggers carry it as
their kwargs and rebuild it from them; the hook is built from it; the triggerer runtime keys its
shared clients by it. Only the connection's id travels: the credentials stay in the connection,
so the value and its kwargs hold no secret.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: The amazon provider's default ``aws`` connection.
DEFAULT_CONN_ID = "aws_default"


@dataclass(frozen=True)
class ConnectionArgs:
    """Which ``aws`` connection, region, TLS verification and botocore settings reach AWS.

    :param aws_conn_id: Airflow ``aws`` connection (None: boto3's default chain).
    :param region_name: AWS region overriding the connection's.
    :param verify: TLS verification of the endpoints (bool or CA bundle path).
    :param botocore_config: botocore ``Config`` arguments as a JSON-safe dict.
    """

    aws_conn_id: str | None = DEFAULT_CONN_ID
    region_name: str | None = None
    verify: bool | str | None = None
    botocore_config: Mapping[str, Any] | None = field(default=None, hash=False)

    def as_kwargs(self) -> dict[str, Any]:
        """The JSON-safe kwargs of the operators and triggers (a trigger serializes them as they are)."""
        return {
            "aws_conn_id": self.aws_conn_id,
            "region_name": self.region_name,
            "verify": self.verify,
            "botocore_config": dict(self.botocore_config) if self.botocore_config is not None else None,
        }

    def hook_kwargs(self) -> dict[str, Any]:
        """The kwargs of the hook (the amazon provider's names: ``botocore_config`` is ``config``)."""
        kwargs = self.as_kwargs()
        kwargs["config"] = kwargs.pop("botocore_config")
        return kwargs

    def cache_key(self) -> tuple[Any, ...]:
        """A hashable key: clients built from equal arguments are interchangeable."""
        config = (
            json.dumps(self.botocore_config, sort_keys=True, default=str) if self.botocore_config else None
        )
        return (self.aws_conn_id, self.region_name, self.verify, config)
