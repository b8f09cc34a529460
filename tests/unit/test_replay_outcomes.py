"""What becomes of a replayed order: settled from its replay's end, recorded and published (stub clients)."""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from tests import function_modules
from tests.unit.test_replay_decisions import Events, Sqs, StepFunctions, Table, clients, record, throttled

replay = function_modules.load("replay")
# The function's sibling modules, as its handler imports them (its folder is on sys.path, as its task root).
outcomes = importlib.import_module("replay_outcomes")
orders = importlib.import_module("order_record")

CHARGED = {"status": "SUCCEEDED", "output": json.dumps({"status": "charged", "orderId": "o", "chargeId": "ch_9"})}


@pytest.fixture
def environment(monkeypatch):
    for name, value in {
        replay.TABLE_ENV: "breakers",
        replay.STATE_MACHINE_ENV: "arn:aws:states:us-east-1:1:stateMachine:sm",
        replay.QUEUE_ENV: "https://queue/fallback",
        replay.DEAD_LETTER_ENV: "https://queue/dead",
        replay.MAX_ATTEMPTS_ENV: "3",
        replay.THRESHOLD_ENV: "50",
        replay.WINDOW_ENV: "60",
        replay.SERVICE_ENV: "api",
        replay.ORDERS_ENV: "orders",
        replay.RECORD_DAYS_ENV: "7",
    }.items():
        monkeypatch.setenv(name, value)


@dataclass
class Context:
    remaining_ms: int

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def ended(status: str = "SUCCEEDED", output: Any = None, error: str | None = None, cause: str | None = None) -> Any:
    return outcomes.Finished(status, output, error, cause)


# -- settle: a replay's end, as the order's outcome ---------------------------------------------------


@pytest.mark.parametrize(
    ("end", "status", "detail"),
    [
        (ended(output={"status": "charged", "chargeId": "ch_1"}), "charged", ("chargeId", "ch_1")),
        (ended(output={"status": "declined", "reason": "card_declined"}), "declined", ("reason", "card_declined")),
        (
            ended("FAILED", error="InvalidOrder", cause="provider rejected the order: idempotency key reused"),
            "dead_lettered",
            ("reason", "invalid_order: provider rejected the order: idempotency key reused"),
        ),
        (
            ended("FAILED", error="FallbackUnavailable", cause="queue gone"),
            "dead_lettered",
            ("reason", "replay_failed: FallbackUnavailable: queue gone"),
        ),
        (ended("TIMED_OUT"), "dead_lettered", ("reason", "replay_timed_out")),
        (ended("ABORTED"), "dead_lettered", ("reason", "replay_aborted")),
    ],
    ids=["charged", "declined", "invalid", "failed", "timed-out", "aborted"],
)
def test_a_finished_replay_settles_its_order(end, status, detail):
    outcome = outcomes.settle(end, {"orderId": "ord-1"}, "api", 2, "m-1")

    assert (outcome.status, outcome.order_id, outcome.service_name, outcome.attempts) == (status, "ord-1", "api", 2)
    assert outcome.detail(5)[detail[0]] == detail[1]


def test_a_replay_that_queued_the_order_again_settles_nothing():
    again = ended(output={"status": "queued", "reason": "call_failed"})

    assert outcomes.settle(again, {"orderId": "o"}, "a", 1, "m") is None


# -- the runner: to the end, or to the deadline -------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now, self.slept = 0.0, []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Described:
    """DescribeExecution that answers RUNNING ``running`` times (throttled once first), then ``end``."""

    def __init__(self, running: int, end: dict[str, Any], exists: bool = False) -> None:
        self.running, self.end, self.exists, self.throttled = running, end, exists, False
        self.described: list[str] = []

    def start_execution(self, **request: Any) -> dict[str, str]:
        if self.exists:
            raise ClientError({"Error": {"Code": "ExecutionAlreadyExists", "Message": "x"}}, "StartExecution")
        return {"executionArn": "arn:fresh"}

    def describe_execution(self, executionArn: str) -> dict[str, Any]:  # noqa: N803 - the API's name
        self.described.append(executionArn)
        if not self.throttled:
            self.throttled = True
            raise throttled("DescribeExecution")
        if self.running:
            self.running -= 1
            return {"status": "RUNNING"}
        return self.end


def test_a_standard_replay_is_described_until_it_ends_with_a_growing_pause():
    clock, sfn = Clock(), Described(running=4, end=CHARGED)
    runner = outcomes.Runner(sfn, "arn:aws:states:r:1:stateMachine:sm", express=False, clock=clock, sleep=clock.sleep)

    end = runner.run("replay-1-o-abc", "{}", deadline=60)

    assert end.status == "SUCCEEDED" and end.output["chargeId"] == "ch_9"
    assert clock.slept == [0.05, 0.1, 0.2, 0.4, 0.8]  # the throttled poll counts as still running


def test_a_redelivered_message_waits_for_the_execution_it_started_before():
    sfn = Described(running=0, end=CHARGED, exists=True)
    clock = Clock()
    runner = outcomes.Runner(sfn, "arn:aws:states:r:1:stateMachine:sm", express=False, clock=clock, sleep=clock.sleep)

    runner.run("replay-1-o-abc", "{}", deadline=60)

    assert set(sfn.described) == {"arn:aws:states:r:1:execution:sm:replay-1-o-abc"}


def test_a_replay_still_running_at_the_deadline_is_not_settled():
    clock, sfn = Clock(), Described(running=1000, end=CHARGED)
    runner = outcomes.Runner(sfn, "arn:sm", express=False, clock=clock, sleep=clock.sleep)

    assert runner.run("n", "{}", deadline=5) is None
    assert clock.now == pytest.approx(5)


class Sync:
    def __init__(self, answer: Any) -> None:
        self.answer, self.calls = answer, 0

    def start_sync_execution(self, **request: Any) -> dict[str, Any]:
        self.calls += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_an_express_replay_runs_synchronously():
    sfn = Sync({"status": "FAILED", "error": "InvalidOrder", "cause": "amount"})
    runner = outcomes.Runner(sfn, "arn:sm", express=True, sync_wait_seconds=20, clock=Clock())

    end = runner.run("n", "{}", deadline=30)

    assert (end.status, end.error, end.cause) == ("FAILED", "InvalidOrder", "amount")


def test_an_express_replay_is_not_started_without_time_to_wait_for_it():
    sfn = Sync(CHARGED)
    runner = outcomes.Runner(sfn, "arn:sm", express=True, sync_wait_seconds=20, clock=Clock())

    assert runner.run("n", "{}", deadline=19) is None
    assert sfn.calls == 0


def test_an_express_answer_not_received_in_time_is_not_settled():
    sfn = Sync(ReadTimeoutError(endpoint_url="http://x"))
    runner = outcomes.Runner(sfn, "arn:sm", express=True, sync_wait_seconds=20, clock=Clock())

    assert runner.run("n", "{}", deadline=30) is None


# -- the handler: records, events, the dead-letter queue ----------------------------------------------


def run_batch(monkeypatch, records: list[dict[str, Any]], sfn: Any, sqs: Any = None, context: Any = None) -> Any:
    table, events, sqs = Table(), Events(), sqs or Sqs()
    monkeypatch.setattr(replay, "_clients", clients(sfn, sqs, table, events))
    answer = replay.handler({"Records": records}, context)
    return answer, table, events, sqs


def test_a_replay_that_charges_records_and_publishes_the_charge(environment, monkeypatch):
    answer, table, events, _ = run_batch(monkeypatch, [record("a")], StepFunctions(set()))

    assert answer == {"batchItemFailures": []}
    (put,) = table.puts
    assert put["TableName"] == "orders" and "ConditionExpression" not in put
    assert (put["Item"]["status"], put["Item"]["chargeId"], put["Item"]["attempts"]) == (
        {"S": "charged"},
        {"S": "ch_1"},
        {"N": "1"},
    )
    assert int(put["Item"]["expiresAt"]["N"]) - int(put["Item"]["updatedAtMs"]["N"]) // 1000 == 7 * 86400
    ((kind, detail),) = events.details()
    assert kind == "OrderCharged"
    assert {k: detail[k] for k in ("orderId", "serviceName", "attempts", "chargeId", "dedupKey")} == {
        "orderId": "a",
        "serviceName": "api",
        "attempts": 1,
        "chargeId": "ch_1",
        "dedupKey": "a#charged#ch_1",
    }
    assert events.entries[0]["Source"] == "breakwater"


def test_a_replay_that_is_declined_records_and_publishes_the_decline(environment, monkeypatch):
    declined = {"status": "SUCCEEDED", "output": json.dumps({"status": "declined", "reason": "card_declined"})}
    _, table, events, _ = run_batch(monkeypatch, [record("d")], StepFunctions(set(), {"d": declined}))

    assert table.puts[0]["Item"]["status"] == {"S": "declined"}
    assert table.puts[0]["ConditionExpression"] == "attribute_not_exists(#key) OR #status <> :status"
    assert events.details()[0][0] == "OrderDeclined"
    assert events.details()[0][1]["reason"] == "card_declined"


def test_a_replay_refused_as_invalid_dead_letters_the_order_with_the_reason(environment, monkeypatch):
    refused = {"status": "FAILED", "error": "InvalidOrder", "cause": "provider rejected the order: key reused"}
    answer, table, events, sqs = run_batch(monkeypatch, [record("bad")], StepFunctions(set(), {"bad": refused}))

    assert answer == {"batchItemFailures": []}
    (moved,) = sqs.sent
    reason = moved["MessageAttributes"]["reason"]["StringValue"]
    assert reason == "invalid_order: provider rejected the order: key reused"
    assert sqs.deleted == ["rh-bad"]
    assert table.puts[0]["Item"]["status"] == {"S": "dead_lettered"}
    ((kind, detail),) = events.details()
    assert kind == "OrderDeadLettered"
    assert detail["dedupKey"] == "bad#dead_lettered#bad"  # <orderId>#dead_lettered#<fallback message id>


def test_a_replay_that_queued_the_order_again_tells_nothing(environment, monkeypatch):
    again = {"status": "SUCCEEDED", "output": json.dumps({"status": "queued", "reason": "call_failed"})}
    answer, table, events, sqs = run_batch(monkeypatch, [record("q")], StepFunctions(set(), {"q": again}))

    assert answer == {"batchItemFailures": []}
    assert (table.puts, events.entries, sqs.sent) == ([], [], [])


def test_a_replay_still_running_when_the_batch_ends_comes_back(environment, monkeypatch):
    running = {"status": "RUNNING"}
    context = Context(remaining_ms=int(replay.SETTLE_MARGIN_SECONDS * 1000))  # no time left to wait

    sfn = StepFunctions(set(), {"r": running})

    answer, table, events, sqs = run_batch(monkeypatch, [record("r")], sfn, context=context)

    assert answer == {"batchItemFailures": [{"itemIdentifier": "r"}]}
    assert sqs.hidden == [("rh-r", replay.UNFINISHED_HIDE_SECONDS)]
    assert (table.puts, events.entries) == ([], [])


def test_an_order_first_seen_while_it_must_wait_is_recorded_as_queued_once(environment, monkeypatch):
    breaker = {"serviceName": {"S": "api"}, "state": {"S": "OPEN"}, "openUntilMs": {"N": str(10**15)}}
    first = {**record("w"), "attributes": {"ApproximateReceiveCount": "1"}}
    later = {**record("w"), "attributes": {"ApproximateReceiveCount": "2"}}
    table, events = Table(breaker), Events()
    monkeypatch.setattr(replay, "_clients", clients(StepFunctions(set()), Sqs(), table, events))

    replay.handler({"Records": [first]}, None)
    replay.handler({"Records": [later]}, None)

    (put,) = table.puts
    assert (put["Item"]["status"], put["Item"]["reason"]) == ({"S": "queued"}, {"S": "circuit_open"})
    assert put["ConditionExpression"] == "attribute_not_exists(#key) OR #status = :status"
    assert events.entries == []


def test_an_order_out_of_attempts_is_published_as_dead_lettered(environment, monkeypatch):
    tired = record("tired", reason="call_failed", attempt=3, execution="replay-3-tired-abc123abc123")

    _, table, events, _ = run_batch(monkeypatch, [tired], StepFunctions(set()))

    ((kind, detail),) = events.details()
    assert (kind, detail["reason"], detail["attempts"]) == ("OrderDeadLettered", "replay_attempts_exhausted", 3)
    assert table.puts[0]["Item"]["status"] == {"S": "dead_lettered"}


def test_an_event_the_bus_refuses_brings_the_message_back(environment, monkeypatch):
    class Refusing(Events):
        def put_events(self, **request: Any) -> dict[str, Any]:
            return {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure"}]}

    table = Table()
    monkeypatch.setattr(replay, "_clients", clients(StepFunctions(set()), Sqs(), table, Refusing()))

    answer = replay.handler({"Records": [record("e")]}, None)

    assert answer == {"batchItemFailures": [{"itemIdentifier": "e"}]}
    assert len(table.puts) == 1  # recorded; published again with the same dedupKey when it comes back


# -- the record's rules -------------------------------------------------------------------------------


def outcome(status: str, **fields: Any) -> Any:
    return orders.Outcome(orders.OrderStatus(status), "o-1", "api", 1, **fields)


def test_a_charge_always_writes_and_queued_never_replaces_a_final_record():
    charged = orders.put_item_request("t", outcome("charged", charge_id="ch_1"), 1_000, 30)
    queued = orders.put_item_request("t", outcome("queued", reason="circuit_open"), 1_000, 30)

    assert "ConditionExpression" not in charged
    assert queued["ExpressionAttributeValues"] == {":status": {"S": "queued"}}


def test_a_lookup_answers_the_record_or_says_why_there_is_none():
    item = outcome("charged", charge_id="ch_1").item(1_767_225_600_000, 30)

    assert orders.answer("o-1", item) == {
        "orderId": "o-1",
        "status": "charged",
        "serviceName": "api",
        "chargeId": "ch_1",
        "attempts": 1,
        "updatedAt": "2026-01-01T00:00:00.000Z",
    }
    assert orders.answer("o-2", None) == {"orderId": "o-2", "status": "unknown", "message": orders.UNKNOWN_MESSAGE}
