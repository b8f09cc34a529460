"""argparse types of the command line: each turns a bad value into one usage line (exit code 2)."""

from __future__ import annotations

import argparse
import math
import re
from urllib.parse import urlsplit

from breakwater import orders
from breakwater.regions import region_problem

# arn:PARTITION:states:REGION:ACCOUNT:execution:MACHINE:NAME (express executions: express:MACHINE:NAME:ID)
EXECUTION_ARN = re.compile(r"arn:[\w-]+:states:[\w-]+:\d{12}:(execution|express):[^:\s]+:[^:\s]+(:[^:\s]+)?")


def port_number(text: str, lowest: int = 1) -> int:
    """A TCP port from ``lowest`` (1; 0 where "any free port" is allowed) to 65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number ({lowest} to 65535)") from None
    if not lowest <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number ({lowest} to 65535)")
    return port


def execution_arn(text: str) -> str:
    """The ARN of an execution."""
    if not EXECUTION_ARN.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an execution ARN (arn:aws:states:REGION:ACCOUNT:execution:STATE_MACHINE:NAME)"
        )
    return text


def order_id(text: str) -> str:
    """An order id, as the execution input defines it."""
    try:
        return orders.order_id(text)
    except orders.InvalidOrderId as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def endpoint_url(text: str) -> str:
    """An endpoint URL: http:// or https://, a host, an optional port, nothing after the path."""
    try:
        parts = urlsplit(text)
        port = parts.port  # raises ValueError for a port out of range or not a number
    except ValueError:
        parts, port = None, None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an endpoint URL (http://HOST:PORT, e.g. http://127.0.0.1:4566, what local up prints)"
        )
    del port
    return text


def region_name(text: str) -> str:
    """An AWS region this botocore knows."""
    problem = region_problem(text)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return text


def positive_seconds(text: str) -> float:
    """A number of seconds above 0."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds above 0")
    return seconds
