"""A small soak in every test run (`make soak` runs 500 orders at concurrency 25)."""

from __future__ import annotations

import os
import threading

from breakwater.soak import SoakReport, _check_transitions, run_soak
from tests.workflow.helpers import breaker, order, run_many


def test_small_soak_loses_nothing_and_charges_each_order_once():
    report = run_soak(orders=60, concurrency=10, seed=5)

    summary = report.as_dict()
    assert summary["lost"] == [], (summary["lostDetail"], summary["failedExecutions"])
    assert summary["doubleCharged"] == []
    assert summary["chargedWithoutOrder"] == []
    assert summary["leftOnQueue"] == 0
    final = summary["final"]
    assert (
        final.get("charged", 0) + final.get("declined", 0) + final.get("invalid", 0) + len(summary["deadLettered"])
        == 60
    )
    assert summary["trips"] >= 1
    assert summary["transitionsMatchVersion"]
    assert summary["oneOpenPerTrip"]
    assert summary["historiesMatchStream"], summary["unattributed"]
    assert report.ok


class History:
    """An execution whose history performed the given transitions."""

    def __init__(self, *moves: str) -> None:
        self.moves = [(i, *move.split("->")) for i, move in enumerate(moves)]

    def transitions(self):
        return self.moves


def test_the_stream_is_the_ground_truth_for_transitions():
    streamed = [("CLOSED", "OPEN"), ("OPEN", "HALF_OPEN"), ("HALF_OPEN", "CLOSED"), ("CLOSED", "OPEN")]
    attributed = [History("CLOSED->OPEN"), History("OPEN->HALF_OPEN", "HALF_OPEN->CLOSED"), History("CLOSED->OPEN")]

    report = SoakReport()
    _check_transitions(report, attributed, 4, streamed)
    assert (report.trips, report.transitions_match_version, report.one_open_per_trip) == (2, True, True)
    assert (report.histories_match_stream, report.unattributed) == (True, [])

    # Transitions the table saw that no execution's history shows (a probe that failed and reopened).
    reopened = [*streamed[:2], ("HALF_OPEN", "OPEN"), *streamed[1:]]
    report = SoakReport()
    _check_transitions(report, attributed, 6, reopened)
    assert (report.transitions_match_version, report.one_open_per_trip, report.histories_match_stream) == (
        True,
        True,
        False,
    )
    assert report.unattributed == ["HALF_OPEN->OPEN", "OPEN->HALF_OPEN"]
    # A second open without a close in between.
    report = SoakReport()
    _check_transitions(report, attributed, 4, [("CLOSED", "OPEN"), ("HALF_OPEN", "CLOSED"), *streamed[2:]])
    assert not report.one_open_per_trip
    assert not report.ok


class Failed:
    """An execution whose queue send failed after two retries."""

    name = "soak-x"
    error = "FallbackUnavailable"
    cause = "order soak-x could not be charged (call_failed) nor queued: SQS.InternalError"
    events = [
        {"type": "TaskStateEntered", "stateEnteredEventDetails": {"name": "Queue order for later"}},
        *[
            {"type": "TaskScheduled"},
            {
                "type": "TaskFailed",
                "taskFailedEventDetails": {"resourceType": "sqs", "error": "SQS.InternalError", "cause": "bad day"},
            },
        ]
        * 3,
    ]


def test_a_failed_execution_is_reported_with_its_failed_task_error_cause_and_retries():
    from breakwater.soak import failure_detail

    detail = failure_detail(Failed())  # type: ignore[arg-type]

    assert detail["error"] == "FallbackUnavailable"
    assert detail["cause"].endswith("SQS.InternalError")
    assert detail["failedTasks"][-1] == {
        "state": "Queue order for later",
        "resourceType": "sqs",
        "error": "SQS.InternalError",
        "cause": "bad day",
        "retries": 2,
    }


def test_the_stack_leaves_the_process_environment_alone_while_orders_run(embedded, provider, clock, monkeypatch):
    """The root cause of the soak's lost order (issue 11): FallbackUnavailable with no fault injected.

    botocore reads the proxy variables by iterating ``os.environ`` whenever it creates a client
    (``urllib.request.getproxies``), and moto's interpreter created one for every task. The in-process
    Lambda runtime of the time set each function's variables in ``os.environ`` around every invocation
    and removed them after: an SQS task whose client was being created at that moment failed with
    ``KeyError: '<a function variable>'``, moto reported ``States.Runtime``, and the order ended in
    ``Report fallback unavailable`` (a DynamoDB task hit the same way was hidden as a bookkeeping error).

    Functions now run in processes of their own, and tasks share one client per service
    (``task_clients_reused``); this test holds the stack to leaving the process environment alone
    while executions of every kind run: calls, failures, the trip, queueing. Should an error inside the
    stack happen again, it fails its execution as ``States.Runtime`` (``states_all_terminal``, as on
    AWS), which the soak reports with its cause, instead of passing for the workflow's own outcome.
    """
    stack = embedded.deploy(FailureThreshold=3, FailureWindowSeconds=60)
    written: list[tuple[str, str]] = []
    real_putenv, real_unsetenv = os.putenv, os.unsetenv

    def putenv(key, value):
        written.append((threading.current_thread().name, f"set {os.fsdecode(key)}"))
        real_putenv(key, value)

    def unsetenv(key):
        written.append((threading.current_thread().name, f"unset {os.fsdecode(key)}"))
        real_unsetenv(key)

    monkeypatch.setattr(os, "putenv", putenv)  # os.environ's writes go through these module functions
    monkeypatch.setattr(os, "unsetenv", unsetenv)
    os.environ["BREAKWATER_ENVIRON_WATCH"] = "on"  # the watch itself sees writes...
    assert written[-1][1] == "set BREAKWATER_ENVIRON_WATCH"
    del os.environ["BREAKWATER_ENVIRON_WATCH"]
    written.clear()

    healthy = run_many(embedded, stack, [order() for _ in range(8)])
    provider.configure(mode="down")
    failing = run_many(embedded, stack, [order() for _ in range(12)])

    assert {r.output["status"] for r in healthy} == {"charged"}
    assert {r.output["status"] for r in failing} == {"queued"}  # ...and the trip and the queue ran
    assert breaker(embedded, stack)["state"] == "OPEN"
    assert written == []
