"""Patch ``sqs_event_source``: moto invokes a queue's (or a table stream's) function synchronously inside
SendMessage (or inside the UpdateItem) and ignores partial batch responses; turned off, and
``event_source.SqsEventSource`` and ``event_source.StreamEventSource`` poll as the Lambda service does.
"""

from __future__ import annotations

from typing import Any

from moto.awslambda import models as lambda_models

from breakwater.local.compat.base import Patch

_original_create_esm = lambda_models.LambdaBackend.create_event_source_mapping


def _create_esm_without_sync_trigger(self: Any, spec: dict[str, Any]) -> Any:
    """Create the mapping, but keep moto from invoking the function inside SendMessage or a table write."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.sqs.models import sqs_backends

    esm = _original_create_esm(self, spec)
    for queue in sqs_backends[self.account_id][self.region_name].queues.values():
        queue.lambda_event_source_mappings.pop(esm.function_arn, None)
    for table in dynamodb_backends[self.account_id][self.region_name].tables.values():
        table.lambda_event_source_mappings.pop(esm.function_arn, None)
    return esm


PATCH = Patch(
    "sqs_event_source",
    "no synchronous Lambda invoke inside SendMessage or a table write (event_source pollers play the service)",
    [(lambda_models.LambdaBackend, "create_event_source_mapping", _create_esm_without_sync_trigger)],
)
