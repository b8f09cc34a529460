"""The ``breakwater`` command's entry point: Ctrl-C (SIGINT) is honoured from its first instant.

A command started in the background by a script (``breakwater local up &``) inherits SIGINT *ignored* from the
shell, and Python then installs no handler of its own: until ``local up`` set its handler, after importing the
CLI (about 1.5 s), a SIGINT was lost and the stack came up anyway. The handler is set here, before anything
heavy is imported; the command replaces it with its own once it runs.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence

from breakwater.errors import EXIT_INTERRUPTED

__all__ = ["EXIT_INTERRUPTED", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        from breakwater.cli import main as cli_main
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
