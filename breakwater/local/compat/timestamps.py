"""Patch ``timestamps``: ``Timestamp*`` Choice rules accept only ``...:SSZ``; AWS accepts RFC 3339 with fractions
and offsets (``$$.State.EnteredTime`` has both).
"""

from __future__ import annotations

import datetime as dt

from moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations import (
    is_operator,
)

from breakwater.local.compat.base import Patch


def iso_timestamp(moment: dt.datetime) -> str:
    """Format as Step Functions does: UTC, milliseconds, ``Z``."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_rfc3339(value: str) -> dt.datetime | None:
    """Parse an RFC 3339 timestamp (``T`` and ``Z`` upper-case, optional fraction or offset).

    Returns a naive UTC datetime, so any two results compare correctly.
    """
    if not isinstance(value, str) or len(value) < 20 or value[10] != "T":
        return None
    if not (value.endswith("Z") or value[-6] in "+-"):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.astimezone(dt.UTC).replace(tzinfo=None)


PATCH = Patch(
    "timestamps",
    "RFC 3339 timestamps with fractions and offsets in Timestamp* rules",
    [(is_operator.IsTimestamp, "string_to_timestamp", staticmethod(parse_rfc3339))],
)
