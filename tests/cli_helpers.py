"""What the CLI's tests share (tests/unit/test_cli.py and tests/local/test_cli.py)."""

from __future__ import annotations

import contextlib
import io
import signal
from collections.abc import Iterator

import pytest
from rich.console import Console

from breakwater.cli import render


@contextlib.contextmanager
def signals_restored() -> Iterator[None]:
    """``local up`` installs its own SIGINT and SIGTERM handlers: put back the ones the test process had."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def narrow(monkeypatch: pytest.MonkeyPatch, width: int) -> io.StringIO:
    """Point the CLI's stdout console at a terminal of ``width`` columns; returns what it prints."""
    out = io.StringIO()
    # Every command prints through breakwater.cli.render.console, looked up when it prints: replace it.
    monkeypatch.setattr(
        render,
        "console",
        Console(file=out, width=width, color_system=None, highlight=False, soft_wrap=True, markup=False, emoji=False),
    )
    return out
