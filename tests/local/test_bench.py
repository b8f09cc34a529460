"""The benchmark's reference breaker on the embedded stack's DynamoDB: its flaws, shown (the pure parts of the
benchmark: tests/unit/test_bench.py; the real-time smoke runs: tests/bench)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from breakwater.bench.reference import ReferenceBreaker, Tally

# -- the reference breaker: its flaws are real ---------------------------------------------------


@pytest.fixture
def dynamodb(embedded: Any) -> Iterator[Any]:
    # The session's embedded stack: a nested mock_aws would share (and, leaving, disturb) its backends.
    client = embedded.client("dynamodb")
    client.create_table(
        TableName="ref",
        AttributeDefinitions=[{"AttributeName": "serviceName", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "serviceName", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    yield client
    client.delete_table(TableName="ref")


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def breaker(dynamodb: Any, clock: Clock, **kwargs: Any) -> ReferenceBreaker:
    return ReferenceBreaker(dynamodb, "ref", "payment-api", threshold=5, cooldown_s=2, clock=clock, **kwargs)


def test_read_modify_write_loses_failures_under_concurrency(dynamodb: Any) -> None:
    clock = Clock()
    lambdas = [breaker(dynamodb, clock) for _ in range(2)]
    # Five failures from two Lambdas, interleaved read-read-write-write for the first four.
    for _ in range(2):
        seen = [b.load(Tally()) for b in lambdas]
        for b, record in zip(lambdas, seen, strict=True):
            b.apply_failure(record, Tally())
    lambdas[0].record_failure(Tally())
    record = lambdas[0].load(Tally())
    assert record["failureCount"] == 3  # five failures happened, two were lost
    assert record["state"] == "CLOSED"  # so the threshold of 5 did not trip it


def test_half_open_admits_every_request(dynamodb: Any) -> None:
    clock = Clock()
    lambdas = [breaker(dynamodb, clock) for _ in range(10)]
    for _ in range(5):
        lambdas[0].record_failure(Tally())
    assert lambdas[0].load(Tally())["state"] == "OPEN"
    clock.now += 2.5  # the cooldown has passed
    admissions = [b.admit(Tally()) for b in lambdas]  # ten Lambdas, one after another
    assert all(a.allowed for a in admissions)
    assert {a.state for a in admissions} == {"HALF_OPEN"}
    assert len({a.episode for a in admissions}) == 1  # all ten follow the same OPEN period


class ReadsFirst:
    """A DynamoDB client whose GetItem waits until every Lambda has read: all reads happen before any write."""

    def __init__(self, client: Any, parties: int) -> None:
        self.client = client
        self.barrier = threading.Barrier(parties, timeout=10)

    def get_item(self, **kwargs: Any) -> Any:
        answer = self.client.get_item(**kwargs)
        self.barrier.wait()
        return answer

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def test_concurrent_readers_at_expiry_all_move_the_breaker_and_all_call(dynamodb: Any) -> None:
    clock = Clock()
    setup = breaker(dynamodb, clock)
    for _ in range(5):
        setup.record_failure(Tally())
    clock.now += 2.5
    transitions: list[tuple[float, str, str]] = []
    shared = ReadsFirst(dynamodb, parties=8)
    lambdas = [breaker(shared, clock, on_transition=lambda *t: transitions.append(t)) for _ in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        admissions = list(pool.map(lambda b: b.admit(Tally()), lambdas))
    assert all(a.allowed for a in admissions)  # eight calls to a provider that may still be down
    assert [t[1:] for t in transitions] == [("OPEN", "HALF_OPEN")] * 8  # each wrote the same move


def test_every_call_reads_the_item_twice(dynamodb: Any) -> None:
    clock = Clock()
    b = breaker(dynamodb, clock)
    b.record_failure(Tally())  # one failure counted: the next success must reset it
    tally = Tally()
    assert b.admit(tally).allowed
    b.record_success(tally)
    assert (tally.reads, tally.writes) == (2, 1)
    assert len(tally.latencies_ms) == 3


def test_a_success_in_half_open_closes(dynamodb: Any) -> None:
    clock = Clock()
    b = breaker(dynamodb, clock)
    for _ in range(5):
        b.record_failure(Tally())
    clock.now += 2.0
    assert b.admit(Tally()).state == "HALF_OPEN"
    b.record_success(Tally())
    assert b.load(Tally())["state"] == "CLOSED"
    assert b.open_until() is None
