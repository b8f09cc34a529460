"""`breakwater status` and the console read transitions at their true times from the table's stream."""

from __future__ import annotations

import io
from typing import Any

import pytest
from rich.console import Console

from breakwater.aws import Stack
from breakwater.breaker import read, read_all
from breakwater.status_view import COLUMNS, KEY_COLUMNS, print_status
from breakwater.transition_history import TransitionHistory, ending_as_recorded, stream_transitions
from tests.workflow.helpers import order, put_breaker

T0 = 1_796_000_000_123  # ms


@pytest.fixture(scope="module")
def stack(embedded: Any) -> Stack:
    return embedded.deploy()


# A breaker that opens, half-opens, reopens and closes, with counted failures between (not moves).
REOPENING = [
    {"state": "CLOSED", "failureCount": 2, "version": 0},
    {"state": "OPEN", "lastTransitionMs": T0, "version": 1},
    {"state": "HALF_OPEN", "lastTransitionMs": T0 + 30_001, "version": 2},
    {"state": "OPEN", "lastTransitionMs": T0 + 30_250, "version": 3},
    {"state": "OPEN", "lastTransitionMs": T0 + 30_250, "version": 3, "tripCount": 2},
    {"state": "HALF_OPEN", "lastTransitionMs": T0 + 90_007, "version": 4},
    {"state": "CLOSED", "lastTransitionMs": T0 + 90_500, "version": 5},
]


def history(embedded: Any, stack: Stack) -> TransitionHistory:
    return stream_transitions(embedded.client("dynamodb"), embedded.client("dynamodbstreams"), stack.table_name)


def test_each_move_is_read_at_its_millisecond_reopens_included(embedded: Any, stack: Stack) -> None:
    # given
    for attributes in REOPENING:
        put_breaker(embedded, stack, service="reopening", **attributes)
    # when
    found = history(embedded, stack).of("reopening")
    # then
    assert [(t.before, t.after, t.at_ms - T0, t.version) for t in found] == [
        ("CLOSED", "OPEN", 0, 1),
        ("OPEN", "HALF_OPEN", 30_001, 2),
        ("HALF_OPEN", "OPEN", 30_250, 3),
        ("OPEN", "HALF_OPEN", 90_007, 4),
        ("HALF_OPEN", "CLOSED", 90_500, 5),
    ]


def test_a_trip_by_the_workflow_is_read_at_the_time_its_write_made_it(embedded: Any, provider: Any, clock: Any) -> None:
    stack = embedded.deploy(FailureThreshold="1")
    provider.configure(mode="down")
    result = embedded.run(stack, order())
    tripped = read(embedded.client("dynamodb"), stack.table_name, "payment-api")
    found = history(embedded, stack).of("payment-api")
    assert [(t.before, t.after) for t in found] == [("CLOSED", "OPEN")]
    assert found[0].at_ms == tripped.last_transition_ms
    (at, before, after) = result.transitions()[0]
    assert (before, after) == ("CLOSED", "OPEN")
    assert abs(at * 1000 - found[0].at_ms) < 1000  # the Open write's task, within its own second


def test_without_a_readable_stream_the_problem_is_said_and_the_rest_shown(embedded: Any, stack: Stack) -> None:
    class Refusing:
        def describe_stream(self, **_: Any) -> Any:
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "DescribeStream")

    found = stream_transitions(embedded.client("dynamodb"), Refusing(), stack.table_name)
    assert found.transitions == ()
    assert found.problem == "cannot read the table's stream: AccessDeniedException: no"


@pytest.mark.parametrize("width", [60, 80, 100])
def test_status_keeps_its_key_columns_whole_at_60_80_and_100_columns(embedded: Any, width: int) -> None:
    # given: a breaker that reopened, a long-named one, and one open now (a stack of its own: no test order assumed)
    stack = embedded.deploy()
    for attributes in REOPENING:
        put_breaker(embedded, stack, service="reopening", **attributes)
    put_breaker(embedded, stack, service="payment-api-eu-west-1", state="FORCED_OPEN", version=1, tripCount=3)
    put_breaker(
        embedded,
        stack,
        service="payment-api",
        state="OPEN",
        openUntilMs=T0 + 30_000,
        tripCount=2,
        version=4,
        lastTransitionMs=T0,
        failureCount=5,
    )
    breakers = read_all(embedded.client("dynamodb"), stack.table_name)
    found = ending_as_recorded(history(embedded, stack), breakers)
    out = io.StringIO()
    console = Console(file=out, width=width, color_system=None, highlight=False, soft_wrap=True, markup=False)
    # when
    print_status(console, breakers, found.transitions, found.problem, now_ms=T0 + 10_000)
    text = out.getvalue()
    # then: nothing is wider than the terminal, and each key value is whole on its breaker's line
    assert max(len(line) for line in text.splitlines()) <= width
    line = next(line for line in text.splitlines() if line.startswith("payment-api ") and "OPEN" in line)
    for value in ("payment-api", "OPEN", "5", "+20s", "2"):
        assert value in line.split(), (value, line)
    headers = next(line for line in text.splitlines() if line.startswith("service"))
    assert all(column.header in headers for column in COLUMNS[:KEY_COLUMNS])
    assert f"not shown at {width} columns:" in text
    # the transitions, at the millisecond
    assert "HALF_OPEN" in text
    assert ".123" in text
