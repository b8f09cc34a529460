"""Patch ``kms_keys_lazy``: moto generates an RSA-2048 signing key for every KMS key it creates, symmetric ones
too (about 70 ms, once per deploy of this template), though only Sign, Verify and GetPublicKey use it. The
key is generated on its first use instead; what those calls answer is unchanged.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.kms import models as kms_models

from breakwater.local.compat.base import Patch

_moto_generate_private_key = kms_models.generate_private_key


class _LazyPrivateKey:
    """Stands for moto's private key object; the key is made when an attribute is first read."""

    def __init__(self, key_spec: str) -> None:
        self._key_spec = key_spec
        self._key: Any = None
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        with self._lock:
            if self._key is None:
                self._key = _moto_generate_private_key(self._key_spec)
        return getattr(self._key, name)


def _lazy_private_key(key_spec: str) -> Any:
    return _LazyPrivateKey(key_spec)


PATCH = Patch(
    "kms_keys_lazy",
    "a KMS key's signing key is generated on first use, not at CreateKey",
    [(kms_models, "generate_private_key", _lazy_private_key)],
)
