"""ExecutionResult walks its history once for all the questions asked of it, and again only for new events."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from breakwater import executions
from breakwater.executions import ExecutionResult

T0 = dt.datetime(2026, 12, 7, tzinfo=dt.UTC)


def _event(kind: str, seconds: float, **details: Any) -> dict[str, Any]:
    return {"type": kind, "timestamp": T0 + dt.timedelta(seconds=seconds), **details}


def _state(name: str, seconds: float, resource: str) -> list[dict[str, Any]]:
    scheduled = {"resourceType": "dynamodb", "resource": resource, "parameters": "{}"}
    return [
        _event("TaskStateEntered", seconds, stateEnteredEventDetails={"name": name, "input": "{}"}),
        _event("TaskScheduled", seconds, taskScheduledEventDetails=scheduled),
        _event("TaskSucceeded", seconds + 0.1, taskSucceededEventDetails={"output": "{}"}),
        _event("TaskStateExited", seconds + 0.1, stateExitedEventDetails={"name": name, "output": "{}"}),
    ]


@pytest.fixture
def walks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times a history is walked for its states and for its scheduled calls."""
    counted: list[int] = []
    visits, scheduled = executions.state_visits, executions._scheduled

    def counting(walk: Any) -> Any:
        def walked(events: list[dict[str, Any]]) -> Any:
            counted.append(len(events))
            return walk(events)

        return walked

    monkeypatch.setattr(executions, "state_visits", counting(visits))
    monkeypatch.setattr(executions, "_scheduled", counting(scheduled))
    return counted


def test_asking_again_walks_nothing_again_and_gives_the_same_answers(walks: list[int]) -> None:
    result = ExecutionResult(arn="arn", name="o-1", status="SUCCEEDED", output={}, events=_state("Read", 0, "getItem"))
    first = (result.path, result.cost(), result.called_provider())
    assert first == (["Read"], result.cost(), False)
    assert first[1].dynamodb_reads == 1
    for _ in range(5):
        assert (result.path, result.cost(), result.called_provider()) == first
    assert walks == [4, 4], "one walk for the states, one for the scheduled calls"


def test_an_answer_handed_out_cannot_change_the_next_one() -> None:
    result = ExecutionResult(arn="arn", name="o-1", status="SUCCEEDED", events=_state("Read", 0, "getItem"))
    result.path.append("Not a state")
    result.visits.clear()
    result.scheduled()["dynamodb:getItem"] += 10
    assert result.path == ["Read"]
    assert result.scheduled()["dynamodb:getItem"] == 1


def test_new_events_are_walked_afresh(walks: list[int]) -> None:
    result = ExecutionResult(arn="arn", name="o-1", status="RUNNING", events=_state("Read", 0, "getItem"))
    assert result.path == ["Read"]
    result.events.extend(_state("Record", 1, "updateItem"))
    assert result.path == ["Read", "Record"]
    assert result.cost().dynamodb_writes == 1
    result.events = _state("Other", 2, "getItem")
    assert result.path == ["Other"]
    assert walks == [4, 8, 8, 4]
