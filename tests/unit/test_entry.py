"""Ctrl-C from the first instant (issue 23, item 7): a ``breakwater`` started in the background by a script
inherits SIGINT ignored, and must still stop on it while it is importing the CLI."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

from breakwater.entry import EXIT_INTERRUPTED
from breakwater.template import PROJECT_ROOT

# Interrupts itself at the moment the CLI module starts to import (the ~1.5 s window a script's SIGINT fell in).
INTERRUPT_DURING_IMPORT = textwrap.dedent(
    """
    import importlib.abc, os, signal, sys

    class InterruptAtCli(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name == "breakwater.cli":
                os.kill(os.getpid(), signal.SIGINT)
            return None

    sys.meta_path.insert(0, InterruptAtCli())
    from breakwater.entry import main
    sys.exit(main(["status", "--endpoint-url", "http://127.0.0.1:1"]))
    """
)


def ignoring_sigint() -> None:
    """What a non-interactive shell does to a command it starts in the background (`cmd &`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def test_a_sigint_while_the_cli_imports_stops_a_background_command() -> None:
    finished = subprocess.run(
        [sys.executable, "-c", INTERRUPT_DURING_IMPORT],
        cwd=PROJECT_ROOT,
        preexec_fn=ignoring_sigint,  # the point of the test: the signal disposition a script gives its job
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode == EXIT_INTERRUPTED, finished.stderr
    assert finished.stderr.strip() == "interrupted"
