"""Patch ``task_clients_reused``: moto creates a boto3 client for every task it runs (more CPU than the call
itself); tasks share one client per service, region and endpoint.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.core.models import botocore_stubber
from moto.settings import moto_server_port
from moto.stepfunctions.parser.asl.utils import boto_client as boto_client_module

from breakwater.local.compat.base import Patch

_TASK_CLIENTS: dict[tuple[Any, ...], Any] = {}
_TASK_CLIENTS_LOCK = threading.Lock()
_original_boto_client_for = boto_client_module.boto_client_for


def _reused_boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
    """One client per service, region and endpoint, shared by every task (boto3 clients are thread-safe).

    moto builds a new boto3 client for every task it runs; creating one costs more than the call it makes.
    """
    key = (region, service, botocore_stubber.enabled, moto_server_port())
    with _TASK_CLIENTS_LOCK:
        client = _TASK_CLIENTS.get(key)
        if client is None:
            client = _TASK_CLIENTS[key] = _original_boto_client_for(region, service, state_credentials)
    return client


def _task_client_targets() -> list[tuple[Any, str, Any]]:
    """Every module of moto's interpreter that imported ``boto_client_for`` by name."""
    import importlib
    import pkgutil

    from moto.stepfunctions.parser.asl.component.state.exec import state_task

    targets: list[tuple[Any, str, Any]] = [(boto_client_module, "boto_client_for", _reused_boto_client_for)]
    for info in pkgutil.walk_packages(state_task.__path__, state_task.__name__ + "."):
        module = importlib.import_module(info.name)
        if getattr(module, "boto_client_for", None) is _original_boto_client_for:
            targets.append((module, "boto_client_for", _reused_boto_client_for))
    return targets


PATCH = Patch(
    "task_clients_reused",
    "one boto3 client per service for moto's tasks, not one per task",
    _task_client_targets(),
)
