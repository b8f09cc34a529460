"""The replay function's decisions (pure) and its per-record failures, with stub AWS clients."""

from __future__ import annotations

import importlib
import json
import random
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests import function_modules

NOW = 1_800_000_000_000


@pytest.fixture(scope="module")
def replay() -> Any:
    """The replay function's handler module; the names of its decisions (replay_decisions.py, beside it) are
    reachable from it too, as from one module (this test's own copy: the handler's globals stay patchable)."""
    app = function_modules.load("replay")
    decisions = importlib.import_module("replay_decisions")
    for name, value in vars(decisions).items():
        if not name.startswith("__") and not hasattr(app, name):
            setattr(app, name, value)
    return app


@pytest.fixture
def settings(replay: Any) -> Any:
    return replay.Settings(max_attempts=3, failure_threshold=5, failure_window_seconds=60, default_service="api")


def queued(replay: Any, **fields: Any) -> Any:
    values: dict[str, Any] = {
        "message_id": "m-1",
        "order": {"orderId": "ord-1"},
        "reason": "call_failed",
        "attempt": 0,
        "execution": "exec-1",
        "queued_at_ms": NOW,
    }
    values.update(fields)
    return replay.QueuedOrder(**values)


def decide(replay: Any, settings: Any, order: Any, breaker: Any = None, batch: Any = None, now_ms: int = NOW) -> Any:
    return replay.decide(
        order, "api", breaker or replay.BreakerView(), batch or replay.BatchState(), settings, now_ms, random.Random(7)
    )


# -- the retry delay -------------------------------------------------------------------


def test_a_failed_order_is_not_retried_at_once_even_while_the_breaker_is_closed(replay, settings):
    decision = decide(replay, settings, queued(replay), now_ms=NOW + 1000)

    assert decision.action is replay.Action.DEFER
    assert 14 <= decision.hide_seconds <= 30  # hidden until its first retry is due


def test_the_retry_delay_grows_per_attempt_and_is_capped(replay):
    def delay_s(attempt: int, message: str = "m-1") -> float:
        order = queued(replay, attempt=attempt, execution=f"replay-{attempt}-ord-1-abc", message_id=message)
        return (order.retry_due_ms() - NOW) / 1000

    delays = [delay_s(a) for a in range(8)]

    assert all(
        replay.RETRY_DELAY_BASE_SECONDS * 2**a / 2 <= d <= replay.RETRY_DELAY_BASE_SECONDS * 2**a
        for a, d in enumerate(delays[:5])
    )
    assert delays == sorted(delays)
    assert max(delays) <= replay.RETRY_DELAY_MAX_SECONDS
    assert len({delay_s(0, f"m-{i}") for i in range(20)}) > 10  # jittered per message


def test_a_failed_order_is_retried_once_its_delay_has_passed(replay, settings):
    order = queued(replay)

    assert decide(replay, settings, order, now_ms=order.retry_due_ms()).action is replay.Action.START


def test_an_order_queued_because_the_circuit_was_open_needs_no_delay(replay, settings):
    order = queued(replay, reason="circuit_open")

    assert decide(replay, settings, order, now_ms=NOW).action is replay.Action.START


# -- attempts --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "execution", "attempt", "spent"),
    [
        ("call_failed", "exec-1", 0, 0),  # the order's own execution: no replay yet
        ("call_failed", "replay-2-ord-1-abc123abc123", 2, 2),  # the second replay's call failed
        ("circuit_open", "replay-2-ord-1-abc123abc123", 2, 1),  # it made no call
        ("probe_busy", "replay-2-ord-1-abc123abc123", 2, 1),
        ("forced_open", "replay-1-ord-1-abc123abc123", 1, 0),
        ("call_failed", "replay-2-ord-1-probeabc123abc123", 2, 1),  # a failed probe is the breaker's business
        ("circuit_open", "exec-1", 0, 0),
    ],
)
def test_only_failed_calls_outside_probes_spend_an_attempt(replay, reason, execution, attempt, spent):
    assert queued(replay, reason=reason, execution=execution, attempt=attempt).spent == spent


def test_an_order_out_of_attempts_is_dead_lettered(replay, settings):
    order = queued(replay, attempt=3, execution="replay-3-ord-1-abc123abc123")

    decision = decide(replay, settings, order, now_ms=NOW + 10**9)

    assert (decision.action, decision.reason) == (replay.Action.DEAD_LETTER, "replay_attempts_exhausted")


def test_probe_names_are_marked_and_keep_the_attempt_number(replay):
    plain = replay.execution_name("ord-1", "exec-1", 2)
    probe = replay.execution_name("ord-1", "exec-1", 2, probe=True)

    assert plain.startswith("replay-2-ord-1-") and probe.startswith("replay-2-ord-1-probe")
    assert (replay.started_as_probe(plain), replay.started_as_probe(probe)) == (False, True)
    assert replay.started_as_probe("probe-ord") is False  # only replay executions
    assert len(replay.execution_name("o" * 128, "x", 100, probe=True)) <= 80


# -- the breaker -----------------------------------------------------------------------


def test_an_open_breaker_defers_and_one_order_probes_after_the_cooldown(replay, settings):
    cooling = replay.BreakerView(state="OPEN", open_until_ms=NOW + 5000)
    cooled = replay.BreakerView(state="OPEN", open_until_ms=NOW - 1)
    batch = replay.BatchState()

    assert decide(replay, settings, queued(replay), cooling).action is replay.Action.DEFER
    assert decide(replay, settings, queued(replay), cooled, batch).action is replay.Action.PROBE
    batch.probed.add("api")
    assert decide(replay, settings, queued(replay), cooled, batch).action is replay.Action.DEFER


def test_a_forced_open_breaker_is_never_probed(replay, settings):
    forced = replay.BreakerView(state="FORCED_OPEN", open_until_ms=0)

    assert decide(replay, settings, queued(replay, reason="forced_open"), forced).action is replay.Action.DEFER


def test_replays_never_start_the_call_that_could_trip_the_breaker(replay, settings):
    # given: threshold 5, and 4 failures in a live window
    failing = replay.BreakerView(state="CLOSED", failure_count=4, window_start_ms=NOW - 10_000)
    order = queued(replay, reason="circuit_open")

    decision = decide(replay, settings, order, failing)

    assert decision.action is replay.Action.DEFER
    assert 50 <= decision.hide_seconds <= 53  # until the window expires
    expired = replay.BreakerView(state="CLOSED", failure_count=4, window_start_ms=NOW - 61_000)
    assert decide(replay, settings, order, expired).action is replay.Action.START


def test_a_batch_starts_at_most_threshold_minus_one_minus_live_failures(replay, settings):
    breaker = replay.BreakerView(state="CLOSED", failure_count=2, window_start_ms=NOW - 1000)
    batch = replay.BatchState()
    actions = []
    for i in range(5):
        decision = decide(replay, settings, queued(replay, reason="circuit_open", message_id=f"m-{i}"), breaker, batch)
        if decision.action is replay.Action.START:
            batch.started["api"] = batch.started.get("api", 0) + 1
        actions.append(decision.action)

    assert actions.count(replay.Action.START) == 2  # 5 - 1 - 2


def test_a_threshold_of_one_still_lets_one_replay_through_a_quiet_window(replay):
    strict = replay.Settings(max_attempts=3, failure_threshold=1, failure_window_seconds=60, default_service="api")

    assert decide(replay, strict, queued(replay, reason="circuit_open")).action is replay.Action.START


def test_a_disabled_breaker_does_not_limit_replays(replay, settings):
    disabled = replay.BreakerView(state="DISABLED", failure_count=40, window_start_ms=NOW)
    batch = replay.BatchState(started={"api": 30})

    assert decide(replay, settings, queued(replay, reason="circuit_open"), disabled, batch).action is (
        replay.Action.START
    )


def test_missing_settings_are_a_clear_error(replay, monkeypatch):
    for name in (replay.MAX_ATTEMPTS_ENV, replay.THRESHOLD_ENV, replay.WINDOW_ENV, replay.SERVICE_ENV):
        monkeypatch.delenv(name, raising=False)

    with pytest.raises(replay.ReplayError, match="FAILURE_THRESHOLD"):
        replay.settings_from_environment()


@pytest.mark.parametrize(
    "body",
    [
        {"order": {"orderId": "o"}, "attempt": -1},
        {"order": {"orderId": "o"}, "attempt": True},
        {"order": {"orderId": "o"}, "queuedAtMs": "soon"},
        {"order": {"orderId": "o"}, "reason": 3},
        {"order": "o"},
    ],
)
def test_malformed_messages_are_not_orders(replay, body):
    with pytest.raises(replay.NotAnOrder):
        replay.parse({"messageId": "m", "body": json.dumps(body)})


# -- per-record failures (stub clients) ------------------------------------------------


def throttled(operation: str) -> ClientError:
    return ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, operation)


class StepFunctions:
    """Starts executions and reports each one ended with ``outputs[orderId]`` (charged by default)."""

    def __init__(self, fail_for: set[str], outputs: dict[str, dict[str, Any]] | None = None) -> None:
        self.fail_for, self.started = fail_for, []
        self.outputs = outputs or {}
        self.inputs: dict[str, dict[str, Any]] = {}

    def start_execution(self, **request: Any) -> dict[str, str]:
        order = json.loads(request["input"])
        if order["orderId"] in self.fail_for:
            raise throttled("StartExecution")
        self.started.append(request["name"])
        self.inputs[f"arn:{request['name']}"] = order
        return {"executionArn": f"arn:{request['name']}"}

    def describe_execution(self, **request: Any) -> dict[str, Any]:
        order = self.inputs[request["executionArn"]]
        ended = self.outputs.get(order["orderId"]) or {
            "status": "SUCCEEDED",
            "output": json.dumps({"status": "charged", "orderId": order["orderId"], "chargeId": "ch_1"}),
        }
        return {"executionArn": request["executionArn"], **ended}


class Sqs:
    def __init__(self, fail_sends: bool = False) -> None:
        self.fail_sends = fail_sends
        self.sent: list[dict[str, Any]] = []
        self.deleted: list[str] = []
        self.hidden: list[tuple[str, int]] = []

    def send_message(self, **request: Any) -> dict[str, str]:
        if self.fail_sends:
            raise throttled("SendMessage")
        self.sent.append(request)
        return {"MessageId": f"dlq-{len(self.sent)}"}

    def delete_message(self, **request: Any) -> None:
        self.deleted.append(request["ReceiptHandle"])

    def change_message_visibility(self, **request: Any) -> None:
        self.hidden.append((request["ReceiptHandle"], request["VisibilityTimeout"]))


class Table:
    """The breaker table (one item) and the orders table (every PutItem, conditions unchecked)."""

    def __init__(self, item: dict[str, Any] | None = None) -> None:
        self.item = item or {}
        self.puts: list[dict[str, Any]] = []

    def get_item(self, **request: Any) -> dict[str, Any]:
        return {"Item": self.item} if self.item else {}

    def put_item(self, **request: Any) -> None:
        self.puts.append(request)


class Events:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def put_events(self, **request: Any) -> dict[str, Any]:
        self.entries += request["Entries"]
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "e"} for _ in request["Entries"]]}

    def details(self) -> list[tuple[str, dict[str, Any]]]:
        return [(entry["DetailType"], json.loads(entry["Detail"])) for entry in self.entries]


def clients(sfn: Any, sqs: Any, dynamodb: Any, events: Any = None) -> dict[str, Any]:
    return {"stepfunctions": sfn, "sqs": sqs, "dynamodb": dynamodb, "events": events or Events()}


def record(message_id: str, **body: Any) -> dict[str, Any]:
    content = {"order": {"orderId": message_id}, "reason": "circuit_open", "attempt": 0, "execution": "x", **body}
    return {"messageId": message_id, "receiptHandle": f"rh-{message_id}", "body": json.dumps(content)}


@pytest.fixture
def environment(monkeypatch, replay):
    for name, value in {
        replay.TABLE_ENV: "breakers",
        replay.STATE_MACHINE_ENV: "arn:sm",
        replay.QUEUE_ENV: "https://queue/fallback",
        replay.DEAD_LETTER_ENV: "https://queue/dead",
        replay.MAX_ATTEMPTS_ENV: "3",
        replay.THRESHOLD_ENV: "50",
        replay.WINDOW_ENV: "60",
        replay.SERVICE_ENV: "api",
        replay.ORDERS_ENV: "orders",
    }.items():
        monkeypatch.setenv(name, value)


def test_a_throttled_start_fails_only_its_own_record(replay, environment, monkeypatch):
    sfn, sqs = StepFunctions(fail_for={"b"}), Sqs()
    monkeypatch.setattr(replay, "_clients", clients(sfn, sqs, Table()))

    answer = replay.handler({"Records": [record("a"), record("b"), record("c")]}, None)

    assert answer == {"batchItemFailures": [{"itemIdentifier": "b"}]}
    assert [name.split("-")[2] for name in sfn.started] == ["a", "c"]


def test_a_failed_move_to_the_dead_letter_queue_fails_only_its_own_record(replay, environment, monkeypatch):
    sfn, sqs = StepFunctions(fail_for=set()), Sqs(fail_sends=True)
    monkeypatch.setattr(replay, "_clients", clients(sfn, sqs, Table()))
    tired = record("tired", reason="call_failed", attempt=3, execution="replay-3-tired-abc123abc123")

    answer = replay.handler({"Records": [record("a"), tired, record("c")]}, None)

    assert answer == {"batchItemFailures": [{"itemIdentifier": "tired"}]}
    assert len(sfn.started) == 2
    assert sqs.deleted == []  # not moved: it stays on the fallback queue


def test_a_moved_message_is_deleted_from_the_fallback_queue_and_keyed_by_its_id(replay, environment, monkeypatch):
    sfn, sqs = StepFunctions(fail_for=set()), Sqs()
    monkeypatch.setattr(replay, "_clients", clients(sfn, sqs, Table()))
    tired = record("tired", reason="call_failed", attempt=3, execution="replay-3-tired-abc123abc123")

    answer = replay.handler({"Records": [tired]}, None)

    assert answer == {"batchItemFailures": []}
    (moved,) = sqs.sent
    assert moved["QueueUrl"] == "https://queue/dead"
    assert moved["MessageAttributes"]["sourceMessageId"]["StringValue"] == "tired"
    assert moved["MessageAttributes"]["reason"]["StringValue"] == "replay_attempts_exhausted"
    assert sqs.deleted == ["rh-tired"]


def test_an_unreadable_breaker_fails_its_records_not_the_batch(replay, environment, monkeypatch):
    class Unreadable:
        def get_item(self, **request: Any) -> dict[str, Any]:
            raise throttled("GetItem")

    sfn, sqs = StepFunctions(fail_for=set()), Sqs()
    monkeypatch.setattr(replay, "_clients", clients(sfn, sqs, Unreadable()))
    not_an_order = {"messageId": "junk", "receiptHandle": "rh-junk", "body": "{not json"}

    answer = replay.handler({"Records": [record("a"), not_an_order]}, None)

    assert answer == {"batchItemFailures": [{"itemIdentifier": "a"}]}
    assert [m["MessageBody"] for m in sqs.sent] == ["{not json"]


# -- shadow mode and the rate rule -------------------------------------------------------------


def test_a_shadow_breaker_that_is_open_replays_as_if_closed(replay, settings):
    open_in_shadow = replay.BreakerView(state="OPEN", open_until_ms=NOW + 5000, mode="SHADOW")
    circuit_open = queued(replay, reason="circuit_open")

    assert decide(replay, settings, circuit_open, open_in_shadow).action is replay.Action.START


def test_the_template_mode_applies_to_a_breaker_without_its_own(replay):
    shadow = replay.Settings(
        max_attempts=3, failure_threshold=5, failure_window_seconds=60, default_service="api", default_mode="SHADOW"
    )
    open_breaker = replay.BreakerView(state="OPEN", open_until_ms=NOW + 5000)
    enforced = replay.BreakerView(state="OPEN", open_until_ms=NOW + 5000, mode="ENFORCE")

    assert decide(replay, shadow, queued(replay, reason="circuit_open"), open_breaker).action is replay.Action.START
    assert decide(replay, shadow, queued(replay, reason="circuit_open"), enforced).action is replay.Action.DEFER


def test_a_forced_open_shadow_breaker_still_holds_every_order(replay, settings):
    forced = replay.BreakerView(state="FORCED_OPEN", mode="SHADOW")

    assert decide(replay, settings, queued(replay, reason="forced_open"), forced).action is replay.Action.DEFER


def test_with_the_count_rule_off_replays_keep_below_the_minimum_calls(replay):
    rate_only = replay.Settings(
        max_attempts=3, failure_threshold=0, failure_window_seconds=0, default_service="api", minimum_calls=20
    )
    failing = replay.BreakerView(state="CLOSED", failure_count=3, window_start_ms=NOW - 1000)

    assert failing.replay_budget(rate_only, NOW) == 16  # 20 - 1 - 3, never 0 for ever
