"""The workflow's states, one at a time, through TestState: the read, every Choice, each payment call with each
mocked outcome, each conditional write (a mocked ``ConditionalCheckFailedException`` included) and the queue.

Runs on the local stack in ``make test``; ``pytest tests/teststate --teststate-aws --aws-profile NAME`` runs the
same tests against AWS's TestState (docs/testing.md, "Testing with TestState").
"""

from __future__ import annotations

import json
from typing import Any

import pytest

ORDER = {"orderId": "ord-1", "amount": 1999, "currency": "USD", "customerId": "cus_1"}
NOW = 1_800_000_000_000  # a time in ms, the read's $millis(); the states after it read $now

# The variables the read leaves for a valid order and a CLOSED breaker with nothing counted; each test changes
# what its state reads.
READ = {
    "order": ORDER,
    "service": "payment-api",
    "problem": None,
    "now": NOW,
    "breaker": "CLOSED",
    "failures": 0,
    "windowStart": 0,
    "openUntil": 0,
    "trips": 0,
    "probes": 0,
    "leaseUntil": 0,
    "windowOver": False,
    "calls": 0,
    "mode": "ENFORCE",
    "bookkeeping": None,
    "reason": None,
    "callError": None,
    "chargeId": None,
    "declineReason": None,
    "outcome": None,
    "successes": 0,
    "tripped": False,
    "queueError": None,
    "shadow": None,
    "slow": False,
}


# What an execution that charged order ord-1 on a CLOSED breaker ends with.
CHARGED_OUTPUT = {
    "status": "charged",
    "orderId": "ord-1",
    "serviceName": "payment-api",
    "chargeId": "ch_1",
    "breaker": "CLOSED",
}


def variables(**changes: Any) -> dict[str, Any]:
    return {**READ, **changes}


# What the services answer, as a Task state sees it. The SDK's cause: service_errors in docs/local-parity.md.
CHARGED = {"ExecutedVersion": "$LATEST", "Payload": {"chargeId": "ch_1", "status": "succeeded"}, "StatusCode": 200}
CONDITION_FAILED = (
    "The conditional request failed (Service: AmazonDynamoDBv2; Status Code: 400; Error Code: "
    "ConditionalCheckFailedException; Request ID: EXAMPLE; Proxy: null)"
)
THROTTLED = (
    "The level of configured provisioned throughput for the table was exceeded. (Service: AmazonDynamoDBv2; Status "
    "Code: 400; Error Code: ProvisionedThroughputExceededException; Request ID: EXAMPLE; Proxy: null)"
)


def function_error(error_type: str, message: str) -> str:
    """A Lambda function's error, as the Task's cause carries it: the function's error payload."""
    return json.dumps({"errorMessage": message, "errorType": error_type, "requestId": "EXAMPLE", "stackTrace": []})


def attributes(**values: int | str) -> dict[str, Any]:
    """UpdateItem's ``Attributes`` (ReturnValues ALL_NEW / UPDATED_NEW) holding ``values``."""
    return {
        "Attributes": {name: {"N": str(v)} if isinstance(v, int) else {"S": v} for name, v in values.items()},
    }


# -- the read ---------------------------------------------------------------------------------------------------

READ_STATE = "Read breaker state"
ROUTE = "Is the order valid and the circuit closed?"


def test_the_read_assigns_the_breaker_it_found(test_state):
    item = {
        "serviceName": {"S": "payment-api"},
        "state": {"S": "OPEN"},
        "failureCount": {"N": "5"},
        "windowStartMs": {"N": "1000"},
        "openUntilMs": {"N": "2000"},
        "tripCount": {"N": "2"},
        "mode": {"S": "SHADOW"},
    }

    answer = test_state(READ_STATE, input=ORDER, result={"Item": item})

    assert (answer.status, answer.next_state) == ("SUCCEEDED", ROUTE)
    assert answer.inspection["afterArguments"] == {
        "TableName": "breakwater-BreakerTable-EXAMPLE",
        "Key": {"serviceName": {"S": "payment-api"}},
        "ConsistentRead": False,
    }
    assigned = answer.variables
    assert {k: assigned[k] for k in ("breaker", "failures", "windowStart", "openUntil", "trips", "mode")} == {
        "breaker": "OPEN",
        "failures": 5,
        "windowStart": 1000,
        "openUntil": 2000,
        "trips": 2,
        "mode": "SHADOW",
    }
    assert (assigned["order"], assigned["service"], assigned["problem"], assigned["reason"]) == (
        ORDER,
        "payment-api",
        None,
        None,
    )


def test_no_item_reads_as_a_closed_breaker_with_nothing_counted(test_state):
    answer = test_state(READ_STATE, input={**ORDER, "serviceName": "svc.beta"}, result={})

    assert (answer.status, answer.next_state) == ("SUCCEEDED", ROUTE)
    assert answer.inspection["afterArguments"]["Key"] == {"serviceName": {"S": "svc.beta"}}
    assigned = answer.variables
    assert (assigned["breaker"], assigned["failures"], assigned["mode"], assigned["service"]) == (
        "CLOSED",
        0,
        "ENFORCE",
        "svc.beta",
    )


@pytest.mark.parametrize(
    ("order", "problem"),
    [
        ("not an order", "input: must be a JSON object with orderId, amount, currency and customerId"),
        ({**ORDER, "orderId": "x y"}, "orderId: must be a string of 1 to 128 characters from A-Z a-z 0-9 . _ : -"),
        ({k: v for k, v in ORDER.items() if k != "amount"}, "amount: is required"),
        ({**ORDER, "amount": 0}, "amount: must be a whole number of minor units from 1 to 100000000"),
        ({**ORDER, "currency": "usd"}, "currency: must be three upper-case letters, such as USD"),
        ({**ORDER, "coupon": "X"}, "input: unexpected field coupon"),
    ],
)
def test_the_read_names_what_is_wrong_with_an_order(test_state, order, problem):
    answer = test_state(READ_STATE, input=order, result={})

    assert (answer.status, answer.next_state, answer.variables["problem"]) == ("SUCCEEDED", ROUTE, problem)
    assert answer.inspection["afterArguments"]["Key"] == {"serviceName": {"S": "payment-api"}}  # the default key


@pytest.mark.parametrize(
    "error",
    [
        "DynamoDB.ProvisionedThroughputExceededException",
        "DynamoDB.ThrottlingException",
        "DynamoDB.RequestLimitExceededException",
    ],
)
def test_a_throttled_read_is_caught_at_once_as_breaker_busy(test_state, error):
    answer = test_state(READ_STATE, input=ORDER, error=error, cause=THROTTLED)

    assert (answer.status, answer.next_state, answer.error) == ("CAUGHT_ERROR", ROUTE, error)
    assert answer.output == {"Error": error, "Cause": THROTTLED}  # $states.errorOutput
    assert answer.inspection["errorDetails"] == {"catchIndex": 0}
    assigned = answer.variables
    assert (assigned["reason"], assigned["breaker"], assigned["bookkeeping"]) == ("breaker_busy", "UNKNOWN", error)


def test_a_failing_read_is_retried_then_fails_open(test_state):
    error = "DynamoDB.InternalServerErrorException"

    first = test_state(READ_STATE, input=ORDER, error=error, cause="Internal server error")
    last = test_state(READ_STATE, input=ORDER, error=error, cause="Internal server error", retry_count=2)

    assert (first.status, first.next_state, first.inspection["errorDetails"]["retryIndex"]) == ("RETRIABLE", None, 0)
    assert (last.status, last.next_state) == ("CAUGHT_ERROR", ROUTE)
    assert last.inspection["errorDetails"]["catchIndex"] == 1  # States.ALL: fail open
    assert (last.variables["breaker"], last.variables["reason"], last.variables["bookkeeping"]) == (
        "UNKNOWN",
        None,
        error,
    )


def test_an_unreadable_table_fails_open_without_a_retry(test_state):
    answer = test_state(READ_STATE, input=ORDER, error="DynamoDB.AmazonDynamoDBException", cause="Access denied")

    assert (answer.status, answer.next_state) == ("CAUGHT_ERROR", ROUTE)
    assert (answer.variables["breaker"], answer.variables["bookkeeping"]) == (
        "UNKNOWN",
        "DynamoDB.AmazonDynamoDBException",
    )


# -- every Choice -------------------------------------------------------------------------------------------------

RATE = {"FailureRateThreshold": 50}  # the failure-rate rule on (off by default)
LATER = NOW + 10_000
EARLIER = NOW - 10_000


@pytest.mark.parametrize(
    ("changes", "parameters", "next_state", "assigned"),
    [
        ({"problem": "amount: is required"}, {}, "Reject invalid order", {}),
        ({"reason": "breaker_busy", "breaker": "UNKNOWN"}, {}, "Queue order for later", {}),
        ({}, {}, "Call payment provider", {}),
        ({"failures": 2}, {}, "Call payment provider after recent failures", {}),
        ({"failures": 2}, RATE, "Call payment provider in a failure window", {}),
        ({"failures": 2, "windowOver": True}, RATE, "Call payment provider", {}),
        ({"breaker": "OPEN", "openUntil": LATER}, {}, "Queue order for later", {"reason": "circuit_open"}),
        (
            {"breaker": "OPEN", "openUntil": LATER, "mode": "SHADOW"},
            {},
            "Call provider in shadow mode",
            {"shadow": "circuit_open"},
        ),
        ({"breaker": "OPEN", "openUntil": EARLIER}, {}, "Move circuit to half-open", {}),
        ({"breaker": "HALF_OPEN", "probes": 0}, {}, "Take a probe slot", {}),
        ({"breaker": "HALF_OPEN", "probes": 1, "leaseUntil": EARLIER}, {}, "Take a probe slot", {}),
        (
            {"breaker": "HALF_OPEN", "probes": 1, "leaseUntil": LATER},
            {},
            "Queue order for later",
            {"reason": "probe_busy"},
        ),
        (
            {"breaker": "HALF_OPEN", "probes": 1, "leaseUntil": LATER, "mode": "SHADOW"},
            {},
            "Call provider in shadow mode",
            {"shadow": "probe_busy"},
        ),
        ({"breaker": "FORCED_OPEN"}, {}, "Queue order for later", {"reason": "forced_open"}),
        ({"breaker": "DISABLED"}, {}, "Call provider without recording", {}),
        (
            {"breaker": "UNKNOWN", "bookkeeping": "DynamoDB.AmazonDynamoDBException"},
            {},
            "Call provider without recording",
            {},
        ),
    ],
    ids=[
        "invalid",
        "busy",
        "closed",
        "closed-failures",
        "closed-rate-window",
        "closed-rate-window-over",
        "open",
        "open-shadow",
        "open-cooled",
        "half-open-free-slot",
        "half-open-lease-over",
        "half-open-busy",
        "half-open-busy-shadow",
        "forced-open",
        "disabled",
        "unreadable",
    ],
)
def test_the_route_choice(test_state, changes, parameters, next_state, assigned):
    answer = test_state(ROUTE, variables=variables(**changes), parameters=parameters)

    assert (answer.status, answer.next_state) == ("SUCCEEDED", next_state)
    assert {name: answer.variables.get(name) for name in assigned} == assigned


@pytest.mark.parametrize(
    ("state", "changes", "next_state", "assigned"),
    [
        (
            "Did another execution restart the window?",
            {"windowOver": True},
            "Count the failure in the current window",
            {},
        ),
        (
            "Did another execution restart the window?",
            {"windowOver": True, "bookkeeping": "DynamoDB.AmazonDynamoDBException"},
            "Queue order for later",
            {},
        ),
        ("Did another execution restart the window?", {"chargeId": "ch_1"}, "Report charge", {}),
        ("Did another execution restart the window?", {}, "Queue order for later", {}),
        ("Has the failure count reached the threshold?", {"tripped": True}, "Open the circuit", {}),
        (
            "Has the failure count reached the threshold?",
            {"tripped": True, "chargeId": "ch_1"},
            "Open the circuit after a charged call",
            {},
        ),
        ("Has the failure count reached the threshold?", {"chargeId": "ch_1"}, "Report charge", {}),
        ("Has the failure count reached the threshold?", {}, "Queue order for later", {}),
        (
            "Is the breaker in shadow mode?",
            {"mode": "SHADOW", "reason": "probe_busy"},
            "Call provider in shadow mode",
            {"shadow": "probe_busy"},
        ),
        ("Is the breaker in shadow mode?", {"reason": "probe_busy"}, "Queue order for later", {}),
        ("Have enough probes succeeded?", {"successes": 2}, "Close the circuit", {}),
        ("Have enough probes succeeded?", {"successes": 1}, "Report charge", {}),
        ("Did the provider decline the order?", {"outcome": "declined"}, "Report declined payment", {}),
        ("Did the provider decline the order?", {"outcome": "throttled"}, "Queue order for later", {}),
        ("Did the provider decline the order?", {"outcome": "invalid"}, "Reject order refused by provider", {}),
    ],
)
def test_the_choices_after_a_call(test_state, state, changes, next_state, assigned):
    answer = test_state(state, variables=variables(**changes))

    assert (answer.status, answer.next_state) == ("SUCCEEDED", next_state)
    assert {name: answer.variables.get(name) for name in assigned} == assigned


# -- the payment calls ----------------------------------------------------------------------------------------

CALL = "Call payment provider"


def test_a_charge_ends_the_execution_with_its_answer(test_state):
    answer = test_state(CALL, variables=variables(), result=CHARGED)

    assert (answer.status, answer.next_state) == ("SUCCEEDED", None)
    assert answer.output == CHARGED_OUTPUT
    assert answer.inspection["afterArguments"] == {
        "FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:breakwater-PaymentFunction-EXAMPLE",
        "Payload": {**ORDER, "serviceName": "payment-api"},
    }


def test_a_charge_reports_a_bookkeeping_error_beside_it(test_state):
    answer = test_state(CALL, variables=variables(bookkeeping="DynamoDB.AmazonDynamoDBException"), result=CHARGED)

    assert answer.output["bookkeepingError"] == "DynamoDB.AmazonDynamoDBException"


def test_the_call_asks_for_a_slow_call_limit_when_one_is_set(test_state):
    answer = test_state(CALL, variables=variables(), result=CHARGED, parameters={"SlowCallSeconds": 2.5})

    assert answer.inspection["afterArguments"]["Payload"] == {**ORDER, "serviceName": "payment-api", "slowCallMs": 2500}


@pytest.mark.parametrize(
    ("error", "cause", "next_state", "assigned"),
    [
        (
            "PaymentDeclined",
            function_error("PaymentDeclined", "card_declined"),
            "Report declined payment",
            {"declineReason": "card_declined"},
        ),
        (
            "InvalidOrder",
            function_error("InvalidOrder", "amount: must be a positive whole number of minor units"),
            "Reject order refused by provider",
            {"problem": "provider rejected the order: amount: must be a positive whole number of minor units"},
        ),
        (
            "SlowCall",
            function_error("SlowCall", "ch_slow"),
            "Count the failure",
            {"chargeId": "ch_slow", "slow": True, "reason": None},
        ),
        (
            "PaymentServiceUnavailable",
            function_error("PaymentServiceUnavailable", "provider answered HTTP 503"),
            "Count the failure",
            {"reason": "call_failed", "callError": "PaymentServiceUnavailable"},
        ),
        (
            "States.Timeout",
            "",
            "Count the failure",
            {"reason": "call_failed", "callError": "States.Timeout"},
        ),
        (
            "Lambda.Unknown",
            "The cause could not be determined because Lambda did not return an error type.",
            "Count the failure",
            {"reason": "call_failed", "callError": "Lambda.Unknown"},
        ),
        (
            "Lambda.TooManyRequestsException",
            "Rate Exceeded. (Service: AWSLambda; Status Code: 429; Error Code: TooManyRequestsException; Request ID: "
            "EXAMPLE; Proxy: null)",
            "Queue order for later",
            {"reason": "concurrency_limit", "callError": None},
        ),
    ],
    ids=["declined", "invalid", "slow", "unavailable", "timeout", "crashed", "throttled"],
)
def test_each_outcome_of_the_payment_call(test_state, error, cause, next_state, assigned):
    answer = test_state(CALL, variables=variables(), error=error, cause=cause)

    assert (answer.status, answer.next_state, answer.error) == ("CAUGHT_ERROR", next_state, error)
    assert answer.output == {"Error": error, "Cause": cause}
    assert {name: answer.variables.get(name) for name in assigned} == assigned


def test_a_lambda_service_error_is_retried_and_then_counted_as_a_failure(test_state):
    cause = "Service error (Service: AWSLambda; Status Code: 500; Error Code: ServiceException; Request ID: EXAMPLE)"

    retried = [
        test_state(CALL, variables=variables(), error="Lambda.ServiceException", cause=cause, retry_count=count)
        for count in range(4)
    ]

    assert [a.status for a in retried] == ["RETRIABLE", "RETRIABLE", "RETRIABLE", "CAUGHT_ERROR"]
    assert [a.inspection["errorDetails"].get("retryIndex") for a in retried[:3]] == [0, 0, 0]
    assert all(0 <= a.inspection["errorDetails"]["retryBackoffIntervalSeconds"] <= 8 for a in retried[:3])
    assert (retried[3].next_state, retried[3].variables["callError"]) == (
        "Count the failure",
        "Lambda.ServiceException",
    )


@pytest.mark.parametrize(
    ("state", "changes", "after_charge", "after_failure"),
    [
        (
            "Call payment provider after recent failures",
            {"failures": 2},
            "Clear the failure count",
            "Count the failure",
        ),
        (
            "Call payment provider in a failure window",
            {"failures": 2},
            "Count the successful call",
            "Count the failure",
        ),
        ("Call provider as probe", {"breaker": "HALF_OPEN"}, "Record probe success", "Reopen the circuit"),
        ("Call provider without recording", {"breaker": "UNKNOWN"}, None, "Queue order for later"),
        ("Call provider in shadow mode", {"breaker": "OPEN", "shadow": "circuit_open"}, None, "Queue order for later"),
    ],
)
def test_the_other_calls_after_a_charge_and_a_failure(test_state, state, changes, after_charge, after_failure):
    charged = test_state(state, variables=variables(**changes), result=CHARGED)
    failed = test_state(
        state,
        variables=variables(**changes),
        error="PaymentServiceUnavailable",
        cause=function_error("PaymentServiceUnavailable", "provider unreachable"),
    )

    assert (charged.status, charged.next_state) == ("SUCCEEDED", after_charge)
    if after_charge is not None:
        assert charged.variables["chargeId"] == "ch_1"
    else:  # the call ends the execution: it answers the charge
        assert charged.output["chargeId"] == "ch_1"
    assert (failed.status, failed.next_state) == ("CAUGHT_ERROR", after_failure)
    assert (failed.variables["reason"], failed.variables["callError"]) == ("call_failed", "PaymentServiceUnavailable")


def test_a_shadow_call_says_what_enforcing_would_have_done(test_state):
    answer = test_state(
        "Call provider in shadow mode", variables=variables(breaker="OPEN", shadow="circuit_open"), result=CHARGED
    )

    assert answer.output["shadow"] == {"wouldQueue": True, "reason": "circuit_open"}


@pytest.mark.parametrize(
    ("error", "outcome"),
    [("PaymentDeclined", "declined"), ("InvalidOrder", "invalid"), ("Lambda.TooManyRequestsException", "throttled")],
)
def test_a_probe_that_is_not_a_failure_gives_its_slot_back(test_state, error, outcome):
    answer = test_state(
        "Call provider as probe",
        variables=variables(breaker="HALF_OPEN"),
        error=error,
        cause=function_error(error, "no"),
    )

    assert (answer.status, answer.next_state, answer.variables["outcome"]) == (
        "CAUGHT_ERROR",
        "Release probe slot",
        outcome,
    )


# -- the conditional writes ----------------------------------------------------------------------------------------

# Each write's state, the variables it reads, and where a ConditionalCheckFailedException takes it (with what it
# assigns): another execution changed the breaker first.
WRITES = [
    ("Clear the failure count", {"chargeId": "ch_1", "failures": 2}, "Report charge", {}),
    ("Count the successful call", {"chargeId": "ch_1", "windowStart": 1000}, "Report charge", {}),
    ("Count the failure", {"reason": "call_failed"}, "Did another execution restart the window?", {}),
    (
        "Count the failure in the current window",
        {"reason": "call_failed", "windowOver": True},
        "Has the failure count reached the threshold?",
        {"tripped": False},
    ),
    ("Open the circuit", {"tripped": True, "windowStart": 1000}, "Queue order for later", {}),
    ("Open the circuit after a charged call", {"tripped": True, "chargeId": "ch_1"}, "Report charge", {}),
    ("Move circuit to half-open", {"breaker": "OPEN"}, "Take a probe slot", {}),
    ("Take a probe slot", {"breaker": "HALF_OPEN"}, "Is the breaker in shadow mode?", {"reason": "probe_busy"}),
    ("Record probe success", {"breaker": "HALF_OPEN", "chargeId": "ch_1"}, "Report charge", {}),
    ("Close the circuit", {"breaker": "HALF_OPEN", "chargeId": "ch_1"}, "Report charge", {}),
    ("Reopen the circuit", {"breaker": "HALF_OPEN", "reason": "call_failed"}, "Queue order for later", {}),
    ("Release probe slot", {"breaker": "HALF_OPEN", "outcome": "declined"}, "Did the provider decline the order?", {}),
]


# Where any other error takes a write, when not where a lost race does: a half-open move that failed leaves the
# breaker as it was, so the order is treated as a busy probe.
AFTER_OTHER_ERRORS = {"Move circuit to half-open": "Is the breaker in shadow mode?"}


@pytest.mark.parametrize(("state", "changes", "next_state", "assigned"), WRITES, ids=[w[0] for w in WRITES])
def test_a_write_another_execution_beat_is_caught_and_not_retried(test_state, state, changes, next_state, assigned):
    answer = test_state(
        state, variables=variables(**changes), error="DynamoDB.ConditionalCheckFailedException", cause=CONDITION_FAILED
    )

    assert (answer.status, answer.next_state) == ("CAUGHT_ERROR", next_state)
    assert answer.inspection["errorDetails"] == {"catchIndex": 0}
    assert answer.output == {"Error": "DynamoDB.ConditionalCheckFailedException", "Cause": CONDITION_FAILED}
    assert {name: answer.variables.get(name) for name in assigned} == assigned
    assert answer.variables.get("bookkeeping") is None  # losing a race is not a bookkeeping error


@pytest.mark.parametrize(("state", "changes", "next_state", "assigned"), WRITES, ids=[w[0] for w in WRITES])
def test_a_throttled_write_is_retried_then_reported_as_bookkeeping(test_state, state, changes, next_state, assigned):
    error = "DynamoDB.ProvisionedThroughputExceededException"

    first = test_state(state, variables=variables(**changes), error=error, cause=THROTTLED)
    last = test_state(state, variables=variables(**changes), error=error, cause=THROTTLED, retry_count=2)

    assert first.status == "RETRIABLE"
    next_state = AFTER_OTHER_ERRORS.get(state, next_state)
    assert (last.status, last.next_state, last.variables["bookkeeping"]) == ("CAUGHT_ERROR", next_state, error)


def test_clearing_the_count_ends_with_the_charge(test_state):
    answer = test_state("Clear the failure count", variables=variables(chargeId="ch_1", failures=2), result={})

    assert (answer.status, answer.next_state) == ("SUCCEEDED", None)
    assert answer.output == CHARGED_OUTPUT
    arguments = answer.inspection["afterArguments"]
    assert arguments["ConditionExpression"] == (
        "(attribute_not_exists(#state) OR #state = :closed) AND failureCount > :zero"
    )


@pytest.mark.parametrize(("counted", "tripped"), [(4, False), (5, True)])
def test_counting_a_failure_trips_at_the_threshold(test_state, counted, tripped):
    answer = test_state(
        "Count the failure",
        variables=variables(reason="call_failed"),
        result=attributes(serviceName="payment-api", state="CLOSED", failureCount=counted, windowStartMs=1000),
    )

    assert (answer.status, answer.next_state) == ("SUCCEEDED", "Has the failure count reached the threshold?")
    assert (answer.variables["tripped"], answer.variables["windowStart"]) == (tripped, 1000)
    arguments = answer.inspection["afterArguments"]
    assert arguments["UpdateExpression"] == (
        "ADD failureCount :one SET windowStartMs = if_not_exists(windowStartMs, :now), "
        "#state = if_not_exists(#state, :closed)"
    )
    assert arguments["ConditionExpression"] == "(attribute_not_exists(#state) OR #state = :closed)"


def test_a_failure_after_the_window_restarts_it_on_the_window_seen(test_state):
    answer = test_state(
        "Count the failure",
        variables=variables(reason="call_failed", windowOver=True, windowStart=1000, failures=3),
        result=attributes(failureCount=1, windowStartMs=NOW),
    )

    arguments = answer.inspection["afterArguments"]
    assert arguments["UpdateExpression"] == "SET failureCount = :one, windowStartMs = :now"
    assert arguments["ConditionExpression"] == "#state = :closed AND windowStartMs = :seenStart"
    assert arguments["ExpressionAttributeValues"][":seenStart"] == {"N": "1000"}
    assert answer.variables["tripped"] is False


def test_the_failure_rate_trips_on_enough_calls(test_state):
    answer = test_state(
        "Count the successful call",
        variables=variables(chargeId="ch_1", windowStart=1000, failures=10),
        result=attributes(failureCount=10, callCount=20, windowStartMs=1000),
        parameters={**RATE, "FailureThreshold": 0},
    )

    assert (answer.next_state, answer.variables["tripped"]) == ("Has the failure count reached the threshold?", True)
    assert answer.inspection["afterArguments"]["ExpressionAttributeValues"][":seenStart"] == {"N": "1000"}


def test_opening_the_circuit_holds_it_open_for_the_cooldown(test_state):
    answer = test_state("Open the circuit", variables=variables(tripped=True, windowStart=1000), result={})

    assert (answer.status, answer.next_state) == ("SUCCEEDED", "Queue order for later")
    values = answer.inspection["afterArguments"]["ExpressionAttributeValues"]
    # CooldownSeconds (each expression reads the clock for itself: a few ms apart)
    assert abs(int(values[":until"]["N"]) - int(values[":now"]["N"]) - 30_000) < 1_000
    assert values[":window"] == {"N": "1000"}


def test_a_probe_success_counts_toward_closing(test_state):
    answer = test_state(
        "Record probe success",
        variables=variables(breaker="HALF_OPEN", chargeId="ch_1"),
        result=attributes(halfOpenSuccesses=2, probesInFlight=0),
    )

    assert (answer.next_state, answer.variables["successes"]) == ("Have enough probes succeeded?", 2)


@pytest.mark.parametrize(
    ("state", "changes", "next_state"),
    [
        ("Move circuit to half-open", {"breaker": "OPEN"}, "Call provider as probe"),
        ("Take a probe slot", {"breaker": "HALF_OPEN"}, "Call provider as probe"),
        ("Reopen the circuit", {"breaker": "HALF_OPEN", "trips": 1}, "Queue order for later"),
        ("Release probe slot", {"breaker": "HALF_OPEN", "outcome": "declined"}, "Did the provider decline the order?"),
    ],
)
def test_the_probe_writes_that_won(test_state, state, changes, next_state):
    answer = test_state(state, variables=variables(**changes), result={})

    assert (answer.status, answer.next_state) == ("SUCCEEDED", next_state)


def test_closing_the_circuit_ends_with_the_charge(test_state):
    answer = test_state("Close the circuit", variables=variables(breaker="HALF_OPEN", chargeId="ch_1"), result={})

    assert (answer.status, answer.next_state) == ("SUCCEEDED", None)
    assert answer.output["breaker"] == "HALF_OPEN"  # the breaker this execution read and probed
    assert answer.inspection["afterArguments"]["ExpressionAttributeValues"][":needed"] == {"N": "2"}


# -- the queue ------------------------------------------------------------------------------------------------------

QUEUE = "Queue order for later"
SENT = {"MessageId": "5fea7756-0ea4-451a-a703-a558b933e274", "MD5OfMessageBody": "fafb00f5732ab283681e124bf8747ed1"}


def test_queueing_sends_the_order_and_why_and_answers_queued(test_state):
    answer = test_state(
        QUEUE,
        variables=variables(reason="call_failed", callError="States.Timeout"),
        result=SENT,
        context={"Execution": {"Name": "0b0e4d1c-5d0a-4b7e-9b52-4a1d0c0e9f10"}},
    )

    assert (answer.status, answer.next_state) == ("SUCCEEDED", None)
    assert answer.output == {
        "status": "queued",
        "orderId": "ord-1",
        "serviceName": "payment-api",
        "reason": "call_failed",
        "messageId": SENT["MessageId"],
    }
    arguments = answer.inspection["afterArguments"]
    assert arguments["QueueUrl"] == "https://sqs.us-east-1.amazonaws.com/123456789012/breakwater-FallbackQueue-EXAMPLE"
    assert arguments["MessageAttributes"] == {"reason": {"DataType": "String", "StringValue": "call_failed"}}
    body = json.loads(arguments["MessageBody"])
    assert {k: v for k, v in body.items() if k != "queuedAtMs"} == {
        "order": {**ORDER, "serviceName": "payment-api"},
        "reason": "call_failed",
        "lastError": "States.Timeout",
        "execution": "0b0e4d1c-5d0a-4b7e-9b52-4a1d0c0e9f10",
        "attempt": 0,
    }


def test_a_replayed_order_is_queued_with_its_attempt(test_state):
    answer = test_state(
        QUEUE,
        variables=variables(reason="circuit_open", breaker="OPEN"),
        result=SENT,
        context={"Execution": {"Name": "replay-3-ord-1-abcdef"}},
    )

    assert json.loads(answer.inspection["afterArguments"]["MessageBody"])["attempt"] == 3


def test_a_queued_shadow_and_bookkeeping_error_are_reported(test_state):
    answer = test_state(
        QUEUE,
        variables=variables(reason="call_failed", shadow="circuit_open", bookkeeping="DynamoDB.ThrottlingException"),
        result=SENT,
        context={"Execution": {"Name": "x"}},
    )

    assert answer.output["shadow"] == {"wouldQueue": True, "reason": "circuit_open"}
    assert answer.output["bookkeepingError"] == "DynamoDB.ThrottlingException"


@pytest.mark.parametrize("error", ["SQS.AmazonSQSException", "SQS.SdkClientException", "States.Timeout"])
def test_a_failing_queue_is_retried_then_fails_the_execution_as_fallback_unavailable(test_state, error):
    context = {"Execution": {"Name": "x"}}
    first = test_state(QUEUE, variables=variables(reason="call_failed"), error=error, cause="", context=context)
    last = test_state(
        QUEUE, variables=variables(reason="call_failed"), error=error, cause="", context=context, retry_count=3
    )

    assert first.status == "RETRIABLE"
    assert (last.status, last.next_state, last.variables["queueError"]) == (
        "CAUGHT_ERROR",
        "Report fallback unavailable",
        error,
    )


def test_a_missing_queue_is_not_retried(test_state):
    answer = test_state(
        QUEUE,
        variables=variables(reason="call_failed"),
        error="SQS.QueueDoesNotExistException",
        cause="The specified queue does not exist.",
        context={"Execution": {"Name": "x"}},
    )

    assert (answer.status, answer.next_state) == ("CAUGHT_ERROR", "Report fallback unavailable")


# -- the ends -------------------------------------------------------------------------------------------------------


def test_an_invalid_order_fails_with_its_problem(test_state):
    answer = test_state("Reject invalid order", variables=variables(problem="amount: is required"))

    assert (answer.status, answer.error, answer.cause) == ("FAILED", "InvalidOrder", "amount: is required")


def test_an_order_neither_charged_nor_queued_fails_and_says_why(test_state):
    answer = test_state(
        "Report fallback unavailable", variables=variables(reason="call_failed", queueError="SQS.AmazonSQSException")
    )

    assert (answer.status, answer.error) == ("FAILED", "FallbackUnavailable")
    assert answer.cause == "order ord-1 could not be charged (call_failed) nor queued: SQS.AmazonSQSException"


def test_the_reports(test_state):
    charge = test_state("Report charge", variables=variables(chargeId="ch_1", slow=True))
    declined = test_state("Report declined payment", variables=variables(declineReason="card_declined"))

    assert (charge.status, charge.output) == (
        "SUCCEEDED",
        {
            "status": "charged",
            "orderId": "ord-1",
            "serviceName": "payment-api",
            "chargeId": "ch_1",
            "breaker": "CLOSED",
            "slow": True,
        },
    )
    assert declined.output == {
        "status": "declined",
        "orderId": "ord-1",
        "serviceName": "payment-api",
        "reason": "card_declined",
    }
