"""Patch ``cloudformation_table_ttl``: moto's CloudFormation creates a ``AWS::DynamoDB::Table`` without its
``TimeToLiveSpecification`` (DescribeTimeToLive answers DISABLED); on AWS the table has TTL on that attribute.
"""

from __future__ import annotations

from typing import Any

from moto.dynamodb.models import table as table_models

from breakwater.local.compat.base import Patch

_original = table_models.Table.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]


def _create_with_ttl(
    cls: Any, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
) -> Any:
    """Create the table as moto does, then turn on the TTL its template asks for, as UpdateTimeToLive does."""
    from moto.dynamodb.models import dynamodb_backends

    table = _original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
    spec = cloudformation_json["Properties"].get("TimeToLiveSpecification")
    if spec:
        enabled = spec.get("Enabled") in (True, "true", "True")
        dynamodb_backends[account_id][region_name].update_time_to_live(
            table.name, {"Enabled": enabled, "AttributeName": spec["AttributeName"]}
        )
    return table


PATCH = Patch(
    "cloudformation_table_ttl",
    "CloudFormation tables get the TimeToLiveSpecification their template gives",
    [(table_models.Table, "create_from_cloudformation_json", classmethod(_create_with_ttl))],
)
