"""Patch ``operation_models``: moto's ``ServiceModel.operation_model`` caches its own model under the key that
botocore's (which it calls first) also uses, so a concurrent first call can get botocore's model, without
moto's ``http_trait``: ``AttributeError: 'OperationModel' object has no attribute 'http_trait'``.

Both methods are wrapped by botocore's ``instance_cache``, keyed by the method's name and arguments:
``operation_model`` and ``operation_model``. moto's stores botocore's model there, then replaces it with its
own; a thread routing its first request for the service in between (the benchmark's eight concurrent
warming invokes on a fresh stack did) reads the botocore one. moto's models are now kept in a cache of
their own, filled under a lock.
"""

from __future__ import annotations

import threading
from typing import Any

from botocore.model import ServiceModel as BotocoreServiceModel
from moto.core import model as moto_model

from breakwater.local.compat.base import Patch

_LOCK = threading.Lock()
_CACHE = "_breakwater_operation_models"


def _operation_model(self: Any, operation_name: str) -> Any:
    """moto's OperationModel for ``operation_name``, one per service model, whichever thread asks first."""
    models: dict[str, Any] = self.__dict__.setdefault(_CACHE, {})
    found = models.get(operation_name)
    if found is None:
        with _LOCK:
            found = models.get(operation_name)
            if found is None:
                plain = BotocoreServiceModel.operation_model(self, operation_name)
                found = models[operation_name] = moto_model.OperationModel(
                    getattr(plain, "_operation_model", {}), self, operation_name
                )
    return found


PATCH = Patch(
    "operation_models",
    "moto's operation models in a cache of their own, so a concurrent first request never gets botocore's",
    [(moto_model.ServiceModel, "operation_model", _operation_model)],
)
