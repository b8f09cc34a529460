"""The Docker-free local stack: patched moto, an in-process Lambda runtime and a fake provider."""

from __future__ import annotations
