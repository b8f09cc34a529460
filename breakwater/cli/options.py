"""What the commands share: reading their arguments (JSON, KEY=VALUE pairs, the AWS target) and the usage error."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from breakwater.aws import Target
from breakwater.errors import BreakwaterError


class UsageError(BreakwaterError):
    """The command line asks for something that cannot be done (exit code 2, as argparse's own errors)."""


# -- helpers -------------------------------------------------------------------------


def target_from(args: argparse.Namespace) -> Target:
    return Target(endpoint_url=args.endpoint_url, region=args.region, profile=args.profile)


def load_json_argument(value: str, what: str) -> Any:
    """A JSON document given inline or as a path to a file (``-`` reads standard input)."""
    if value == "-":
        text = sys.stdin.read()
    elif value.lstrip()[:1] in ("{", "[", '"') or value.strip() in ("null", "true", "false"):
        text = value
    else:
        path = Path(value)
        if not path.is_file():
            raise UsageError(f"{what}: {value} is neither JSON nor a readable file")
        text = path.read_text()
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{what}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None


def key_values(pairs: Sequence[str] | None, what: str) -> dict[str, str]:
    result = {}
    for pair in pairs or ():
        for item in pair.split():
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise UsageError(f"{what}: expected KEY=VALUE, got {item!r}")
            result[key] = value.strip('"')
    return result
