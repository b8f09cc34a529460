"""Breaker transitions at their true times, read from the breaker table's DynamoDB stream.

Every write to a breaker record is a stream record with the old and new images; a write that changed ``state``
is a transition (:func:`breakwater.breaker_record.transition_of`, as the transitions function reads it), stamped
with the record's ``lastTransitionMs``: the millisecond the workflow or the operator made the move. Reopens
(OPEN, HALF_OPEN, OPEN) are three records, so three transitions. The stream keeps 24 hours; a breaker whose
last move is older, or whose move the stream no longer holds, still ends in the state its record holds now.

The same reads work against AWS (``dynamodb:DescribeStream``, ``GetShardIterator``, ``GetRecords`` on the
table's stream) and the local stack.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from breakwater.aws import aws_failure
from breakwater.breaker_record import Breaker, Transition, transition_of

UNKNOWN = ""  # the state before a move the stream no longer holds
MAX_PAGES = 200  # GetRecords calls per read, across shards (each returns up to 1,000 records)


@dataclass(frozen=True)
class TransitionHistory:
    """The transitions found, oldest first, and why they may be incomplete (None: complete)."""

    transitions: tuple[Transition, ...] = ()
    problem: str | None = None

    def of(self, service: str) -> list[Transition]:
        return [t for t in self.transitions if t.service == service]


@dataclass
class _Reader:
    streams: Any
    pages: int = 0
    records: list[dict[str, Any]] = field(default_factory=list)

    def shard_ids(self, stream_arn: str) -> list[str]:
        ids: list[str] = []
        request: dict[str, Any] = {"StreamArn": stream_arn}
        while True:
            description = self.streams.describe_stream(**request)["StreamDescription"]
            ids += [shard["ShardId"] for shard in description.get("Shards", [])]
            last = description.get("LastEvaluatedShardId")
            if not last:
                return ids
            request["ExclusiveStartShardId"] = last

    def read_shard(self, stream_arn: str, shard_id: str) -> bool:
        """Every record of the shard (False when the page budget ran out first)."""
        iterator = self.streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
        ).get("ShardIterator")
        while iterator:
            if self.pages >= MAX_PAGES:
                return False
            self.pages += 1
            page = self.streams.get_records(ShardIterator=iterator, Limit=1000)
            found = page.get("Records", [])
            self.records += found
            if not found:  # at the end of what the shard holds now (an open shard keeps an iterator)
                return True
            iterator = page.get("NextShardIterator")
        return True


def stream_transitions(dynamodb: Any, streams: Any, table_name: str, since_ms: int = 0) -> TransitionHistory:
    """The transitions the table's stream holds (at or after ``since_ms``), oldest first."""
    try:
        stream_arn = dynamodb.describe_table(TableName=table_name)["Table"].get("LatestStreamArn")
        if not stream_arn:
            return TransitionHistory(problem=f"the table {table_name} has no stream")
        reader = _Reader(streams)
        complete = all(reader.read_shard(stream_arn, shard) for shard in reader.shard_ids(stream_arn))
    except (ClientError, BotoCoreError) as exc:
        return TransitionHistory(problem=f"cannot read the table's stream: {aws_failure(exc)}")
    found = []
    for record in reader.records:
        images = record.get("dynamodb", {})
        moved = transition_of(images.get("OldImage"), images.get("NewImage"))
        if moved is not None and moved.at_ms >= since_ms:
            found.append(moved)
    problem = None if complete else f"only the first {MAX_PAGES} pages of the stream were read"
    return TransitionHistory(tuple(sorted(found, key=_order)), problem)


def _order(transition: Transition) -> tuple[int, str, int]:
    return (transition.at_ms, transition.service, transition.version)


def ending_as_recorded(history: TransitionHistory, breakers: Iterable[Breaker]) -> TransitionHistory:
    """``history`` with, for a breaker whose record moved later than the last transition seen (the stream no longer
    holds it), that move from the record itself: each breaker's transitions end in its record's state."""
    transitions = list(history.transitions)
    for breaker in breakers:
        if not breaker.exists or breaker.last_transition_ms is None:
            continue
        own = [t for t in transitions if t.service == breaker.service]
        last = own[-1] if own else None
        if last is None or last.after != breaker.state:
            before = last.after if last is not None else UNKNOWN
            transitions.append(
                Transition(
                    breaker.service, before, breaker.state, breaker.version, breaker.last_transition_ms, breaker.mode
                )
            )
    return TransitionHistory(tuple(sorted(transitions, key=_order)), history.problem)
