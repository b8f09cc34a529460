"""The reversible patch every compatibility module declares beside its code."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_SENTINEL = object()


@dataclass
class Patch:
    """A set of attribute replacements that can be installed and removed."""

    name: str
    description: str
    targets: list[tuple[Any, str, Any]]
    _originals: list[tuple[Any, str, Any]] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return bool(self._originals)

    def install(self) -> None:
        if self.active:
            return
        for owner, attribute, replacement in self.targets:
            self._originals.append((owner, attribute, owner.__dict__.get(attribute, _SENTINEL)))
            setattr(owner, attribute, replacement)

    def remove(self) -> None:
        for owner, attribute, original in reversed(self._originals):
            if original is _SENTINEL:
                delattr(owner, attribute)
            else:
                setattr(owner, attribute, original)
        self._originals.clear()
