"""Patch ``cloudformation_reads``: moto registers a stack before it creates its resources, and creates
each resource lazily, on first use, by whichever thread asks. A DescribeStacks that arrives during CreateStack
(a ``breakwater start`` sent as soon as ``local up``'s port answers) resolves the stack's Outputs and so creates
the resources they name a second time, in its own thread: the stack then holds one ReplayFunction and its
queue's event source mapping another (the ``LookupError`` of ``local up``'s start-up, issue 23 item 10).

AWS shows a stack being created with no Outputs until it is complete, and creates each resource once. So: a
stack whose status is ``CREATE_PENDING`` or ``CREATE_IN_PROGRESS`` answers no Outputs, and each stack's resource
map creates a resource under a lock of its own, exactly once, whichever thread reads it first.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing as cfn_parsing

from breakwater.local.compat.base import Patch

_original_getitem = cfn_parsing.ResourceMap.__getitem__
_original_outputs: Any = cfn_models.Stack.__dict__["outputs"]
_LOCKS_LOCK = threading.Lock()
_LOCK = "_breakwater_lock"
BEING_CREATED = frozenset({"CREATE_PENDING", "CREATE_IN_PROGRESS"})


def _lock_of(resource_map: Any) -> threading.RLock:
    lock = resource_map.__dict__.get(_LOCK)
    if lock is None:
        with _LOCKS_LOCK:
            lock = resource_map.__dict__.setdefault(_LOCK, threading.RLock())
    return lock  # type: ignore[no-any-return]


def _getitem(self: Any, key: str) -> Any:
    """A resource of the map, created (once) if it is not yet; the map's lock held meanwhile."""
    with _lock_of(self):
        return _original_getitem(self, key)


def _outputs(self: Any) -> Any:
    """A stack's Outputs; none while it is being created, as on AWS (resolving them would create resources)."""
    if self.status in BEING_CREATED:
        return None
    return _original_outputs.fget(self)


PATCH = Patch(
    "cloudformation_reads",
    "a stack being created shows no Outputs, and each of its resources is created once, whatever reads it",
    [
        (cfn_parsing.ResourceMap, "__getitem__", _getitem),
        (cfn_models.Stack, "outputs", property(_outputs)),
    ],
)
