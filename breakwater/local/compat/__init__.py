"""The compatibility layer: what moto 5.2.5 lacks to run Breakwater faithfully.

One module per patch, each declaring its :class:`~breakwater.local.compat.base.Patch` as ``PATCH``
beside the code it installs; this package collects them in ``MODULES`` order.

Each patch is a named, reversible :class:`Patch`; :func:`apply` installs them
all and :func:`disabled` removes one for the length of a ``with`` block, which
is how the tests show that every patch is needed. Nothing here fakes the
project's own behaviour: the workflow, the handlers and the table are the real
ones; these patches only fill gaps in the emulator.

What each patch fixes is the first paragraph of its module's docstring (``Patch ``NAME``: ...``); the table
of docs/local-stack.md is generated from those paragraphs (``make docs``).
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from collections.abc import Iterator

from breakwater.local.compat.base import Patch
from breakwater.local.compat.cloudformation_sfn import substitute_definition
from breakwater.local.compat.lambda_environments import code_dir_for_zip, function_endpoint
from breakwater.local.compat.timestamps import iso_timestamp, parse_rfc3339

__all__ = [
    "PATCHES",
    "Patch",
    "apply",
    "code_dir_for_zip",
    "disabled",
    "function_endpoint",
    "iso_timestamp",
    "parse_rfc3339",
    "substitute_definition",
]

MODULES = (
    "jsonata_evaluator",
    "timestamps",
    "start_time",
    "parse_once",
    "task_clients",
    "dynamodb_atomic_writes",
    "sqs_event_source",
    "lambda_environments",
    "cloudformation_sfn",
    "cloudformation_updates",
    "execution_names",
    "cloudformation_sam",
    "start_sync_execution",
    "cloudformation_alarms",
    "events_schedule_rules",
    "template_json",
    "kms_keys_lazy",
    "states_all_terminal",
    "operation_models",
    "execution_type",
    "stop_execution",
    "redrive_execution",
    "execution_logs",
    "streams_endpoint",
    "cloudformation_reads",
    "cloudformation_table_ttl",
    "cloudformation_apigatewayv2",
    "evaluation_failed",
    "assign_after_state",
    "assign_literals",
    "execution_output",
    "service_errors",
    "dynamodb_item_api",
    "sqs_send_message",
    "task_null_members",
    "runtime_error_causes",
    "redrive_count",
    "sdk_http_metadata",
    "lambda_not_found",
    "lambda_task_cause",
    "execution_requests",
    "test_state_api",
    "sync_host",
    "wait_timestamps",
    "timeout_path_failure",
    "map_items_cause",
    "branch_error_names",
)


def _collect() -> dict[str, Patch]:
    patches: dict[str, Patch] = {}
    for name in MODULES:
        patch = importlib.import_module(f"{__name__}.{name}").PATCH
        patches[patch.name] = patch
    return patches


PATCHES: dict[str, Patch] = _collect()
_APPLY_LOCK = threading.Lock()


WARM_SERVICES = (
    "lambda",
    "s3",
    "cloudformation",
    "dynamodb",
    "sqs",
    "stepfunctions",
    "iam",
    "logs",
    "secretsmanager",
    "events",
    "cloudwatch",
)


def warm_up() -> None:
    """Load moto's request routers now, not inside the first concurrent executions.

    moto builds a service's router lazily by listing botocore's ~600 data folders;
    done for the first time by dozens of busy threads at once, that listing takes
    seconds and pushes the first Lambda calls past their TimeoutSeconds.
    """
    from moto.core.routing import get_service_router

    for service in WARM_SERVICES:
        get_service_router(service)


def apply() -> None:
    """Install every patch (idempotent) and warm moto's routers."""
    with _APPLY_LOCK:
        for patch in PATCHES.values():
            patch.install()
    warm_up()


@contextlib.contextmanager
def disabled(name: str) -> Iterator[None]:
    """Remove one patch inside the block (tests use this to prove it is needed)."""
    patch = PATCHES[name]
    was_active = patch.active
    patch.remove()
    try:
        yield
    finally:
        if was_active:
            patch.install()
