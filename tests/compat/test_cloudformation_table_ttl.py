"""Tests of breakwater/local/compat/cloudformation_table_ttl.py: the behaviour the patch gives the emulator, and that
the patch is needed (the behaviour breaks without it)."""

from __future__ import annotations

from typing import Any

from breakwater.local import compat


def ttl_of(embedded: Any, stack: Any) -> dict[str, Any]:
    answer = embedded.client("dynamodb").describe_time_to_live(TableName=stack.orders_table)
    return dict(answer["TimeToLiveDescription"])


def test_a_stack_table_has_the_ttl_its_template_gives(embedded):
    assert ttl_of(embedded, embedded.deploy()) == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiresAt"}


def test_without_the_table_ttl_patch_the_table_has_no_ttl(embedded):
    with compat.disabled("cloudformation_table_ttl"):
        stack = embedded.deploy()

    assert ttl_of(embedded, stack) == {"TimeToLiveStatus": "DISABLED"}
