"""What a local stack owns that moto's patched classes must reach: its Lambda runtime, its JSONata evaluator and
the endpoint its functions' own AWS calls go to.

A stack (``EmbeddedStack``, ``LocalServer``) makes its :class:`LocalServices` and passes them to what it calls
itself. moto's backends and the classes ``compat`` patches are process-global by nature: moto calls them, not
the stack, so they find the services through this registry, :func:`current`: the stack opened last that is still
open. A stack opened inside another (the soak or the demo run from a test) is current until it closes, and then
the outer one is again, with nothing to save or restore. Outside any stack (moto used bare, as the parity tools
do) :func:`current` answers with services of their own, made on first use.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from breakwater.local.jsonata import Evaluator
from breakwater.local.runtime import Runtime


@dataclass
class LocalServices:
    runtime: Runtime = field(default_factory=Runtime)
    jsonata: Evaluator = field(default_factory=Evaluator)
    function_endpoint: str | None = None  # None: moto's own server (http://127.0.0.1:$MOTO_PORT)


_open: list[LocalServices] = []
_outside: list[LocalServices] = []  # the services of moto used without a stack, made on first use
_lock = threading.Lock()


def current() -> LocalServices:
    """The services of the stack opened last (and still open), or those of moto used without a stack."""
    with _lock:
        if _open:
            return _open[-1]
        if not _outside:
            _outside.append(LocalServices())
        return _outside[0]


def enter(services: LocalServices) -> None:
    """Make ``services`` current (a stack that opens)."""
    with _lock:
        _open.append(services)


def leave(services: LocalServices) -> None:
    """``services`` are no longer current (their stack closed); the stack opened before them is again."""
    with _lock:
        if services in _open:
            _open.remove(services)
