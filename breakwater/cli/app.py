"""Run one command line: parse it, run its command, and turn every failure into one line and an exit code."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from breakwater.aws import aws_failure
from breakwater.cli import render
from breakwater.cli.options import UsageError
from breakwater.cli.parser import build_parser
from breakwater.cli.render import error
from breakwater.errors import EXIT_INTERRUPTED, BreakwaterError

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # usage errors: argparse prints them and exits 2
    try:
        code = int(args.handler(args))
        sys.stdout.flush()
        return code
    except UsageError as exc:
        error(exc)
        return EXIT_USAGE
    except BreakwaterError as exc:
        error(exc)
    except (ClientError, BotoCoreError, ResponseParserError) as exc:
        error(aws_failure(exc, getattr(args, "endpoint_url", None) or os.environ.get("AWS_ENDPOINT_URL")))
    except BrokenPipeError:
        # The reader went away (`breakwater history --json | head`): stop quietly, and keep Python
        # from complaining when it flushes standard output at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR
    except OSError as exc:
        error(exc)
    except KeyboardInterrupt:
        render.err_console.print("interrupted")
        return EXIT_INTERRUPTED
    return EXIT_ERROR
