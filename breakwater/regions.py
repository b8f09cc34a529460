"""The AWS regions this botocore knows (every partition): what ``--region`` and the local endpoint accept."""

from __future__ import annotations

import functools
import re

import boto3

_SHAPE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")


@functools.cache
def known_regions() -> frozenset[str]:
    """Every region of every partition in botocore's endpoint data (EC2 is offered in each)."""
    session = boto3.session.Session()
    regions: set[str] = set()
    for partition in session.get_available_partitions():
        regions |= set(session.get_available_regions("ec2", partition_name=partition))
    return frozenset(regions)


def region_problem(name: str) -> str | None:
    """Why ``name`` is not a region to use (None when it is one)."""
    if name in known_regions():
        return None
    shape = "" if _SHAPE.match(name) else " (regions look like us-east-1)"
    return f"{name!r} is not an AWS region{shape}"
