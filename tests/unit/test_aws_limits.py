"""AWS's limits as the local stack meters them: buckets, scaled quotas, capacity units, concurrency (no emulator)."""

from __future__ import annotations

import json

import pytest

from breakwater.local.aws_limits import Limits, Observed, UnknownQuota, parse_overrides
from breakwater.local.aws_limits.buckets import TokenBucket
from breakwater.local.aws_limits.dynamodb import (
    MIN_BURST_UNITS,
    READ,
    WRITE,
    DynamoDbThroughput,
    read_units,
    write_units,
)
from breakwater.local.aws_limits.errors import AwsLimitError, dynamodb_throttled, lambda_throttled, states_throttled
from breakwater.local.aws_limits.lambda_concurrency import LambdaConcurrency, slots
from breakwater.local.aws_limits.stepfunctions import EXPRESS, STANDARD, SYNC, StepFunctionsQuotas
from breakwater.quotas import BY_KEY, QUOTAS


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_starts_full_refills_at_its_rate_and_never_beyond_its_capacity() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=2.0, capacity=3.0, clock=clock)

    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    clock.now += 0.5  # one token back
    assert bucket.take() and not bucket.take()
    clock.now += 100
    assert bucket.tokens == 3.0


def test_a_refused_take_takes_nothing_and_a_reservation_says_how_long_to_wait() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=4.0, capacity=2.0, clock=clock)

    assert bucket.take(2.5)  # larger than the bucket: admitted from a full bucket, into debt
    assert bucket.tokens == -0.5
    assert bucket.reserve(1) == pytest.approx(1.5 / 4.0)  # 1.5 tokens of debt at 4 per second


def test_scale_divides_rates_and_capacities_and_keeps_times() -> None:
    limits = Limits(scale=100)

    assert limits.value("dynamodb.partition_read_units") == 30.0
    assert limits.value("lambda.account_concurrency") == 10.0
    assert limits.value("lambda.scaling_interval") == 10.0  # a time: never scaled
    assert limits.scaled(250) == 2.5


def test_an_override_models_a_raised_quota_and_is_scaled_too() -> None:
    limits = Limits(scale=10, overrides=parse_overrides(["stepfunctions.express_start_refill=12000"]))

    assert limits.aws("stepfunctions.express_start_refill") == 12000
    assert limits.value("stepfunctions.express_start_refill") == 1200


@pytest.mark.parametrize(
    ("item", "problem"),
    [
        ("lambda.account_concurrency", "expected KEY=VALUE"),
        ("lambda.accounts=5", "unknown"),
        ("lambda.account_concurrency=many", "is not a number"),
        ("lambda.account_concurrency=0", "positive"),
        ("lambda.account_concurrency=nan", "positive"),
    ],
)
def test_a_bad_override_is_one_clear_error(item: str, problem: str) -> None:
    with pytest.raises(UnknownQuota, match=problem):
        parse_overrides([item])


def test_every_quota_names_its_source_page_and_a_positive_default() -> None:
    assert len(BY_KEY) == len(QUOTAS)
    for quota in QUOTAS:
        assert quota.source.startswith("https://docs.aws.amazon.com/"), quota.key
        assert quota.default > 0 and quota.unit and quota.what


@pytest.mark.parametrize(
    ("size", "consistent", "units"),
    [(0, False, 0.5), (120, False, 0.5), (4096, False, 0.5), (4097, False, 1.0), (120, True, 1.0), (9000, True, 3.0)],
)
def test_reads_cost_half_a_unit_per_started_4_kb_eventually_consistent_and_a_whole_one_strongly(
    size: int, consistent: bool, units: float
) -> None:
    assert read_units(size, consistent) == units


@pytest.mark.parametrize(("size", "units"), [(0, 1.0), (200, 1.0), (1024, 1.0), (1025, 2.0), (3000, 3.0)])
def test_writes_cost_a_unit_per_started_kb_and_at_least_one(size: int, units: float) -> None:
    assert write_units(size) == units


def body(error: AwsLimitError) -> dict[str, object]:
    return dict(json.loads(error.get_body()))


def test_an_on_demand_hot_key_answers_throttling_exception_with_its_reason() -> None:
    error = dynamodb_throttled("Read", "arn:aws:dynamodb:us-east-1:123456789012:table/t", True, "KeyRange")

    assert (error.code, error.aws_code) == (400, "ThrottlingException")
    assert body(error)["throttlingReasons"] == [
        {"reason": "TableReadKeyRangeThroughputExceeded", "resource": "arn:aws:dynamodb:us-east-1:123456789012:table/t"}
    ]
    assert str(body(error)["__type"]).endswith("#ThrottlingException")


def test_a_provisioned_table_and_the_account_quota_answer_their_own_errors() -> None:
    provisioned = dynamodb_throttled("Write", "arn:t", False, "KeyRange")
    account = dynamodb_throttled("Write", "arn:t", True, "Account")

    assert provisioned.aws_code == "ProvisionedThroughputExceededException"
    assert body(provisioned)["ThrottlingReasons"] == [
        {"reason": "TableWriteKeyRangeThroughputExceeded", "resource": "arn:t"}
    ]
    assert account.aws_code == "RequestLimitExceeded"
    assert body(account)["ThrottlingReasons"] == [{"reason": "TableWriteAccountLimitExceeded", "resource": "arn:t"}]


def test_lambda_and_step_functions_throttles_have_aws_status_and_body() -> None:
    throttle = lambda_throttled("ReservedFunctionConcurrentInvocationLimitExceeded")
    states = states_throttled()

    assert throttle.code == 429
    assert body(throttle) == {
        "__type": "TooManyRequestsException",
        "Type": "User",
        "message": "Rate Exceeded.",
        "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",
    }
    assert (states.code, body(states)) == (400, {"__type": "ThrottlingException", "message": "Rate exceeded"})


def concurrency(limits: Limits, reservations: dict[str, int]) -> tuple[LambdaConcurrency, Observed]:
    observed = Observed()
    return LambdaConcurrency(limits, observed, Clock(), lambda: reservations), observed


def reason_of(error: AwsLimitError) -> object:
    return body(error)["Reason"]


def test_a_reserved_function_is_throttled_past_its_reservation_and_others_keep_their_pool() -> None:
    gate, observed = concurrency(Limits(overrides={"lambda.account_concurrency": 5}), {"pay": 2})

    gate.acquire("pay")
    gate.acquire("pay")
    with pytest.raises(AwsLimitError) as refused:
        gate.acquire("pay")
    for _ in range(3):  # 5 - 2 reserved
        gate.acquire("replay")
    with pytest.raises(AwsLimitError) as pool_full:
        gate.acquire("other")

    assert reason_of(refused.value) == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert reason_of(pool_full.value) == "ConcurrentInvocationLimitExceeded"
    assert observed.peak_concurrency == {"pay": 2, "account": 5, "replay": 3}
    assert observed.throttled("Lambda") == 2
    gate.release("pay")
    gate.acquire("pay")  # a released slot is free again


def test_a_function_scales_by_at_most_its_scaling_quota_per_interval() -> None:
    clock = Clock()
    limits = Limits(overrides={"lambda.scaling_environments": 2, "lambda.account_concurrency": 50})
    gate = LambdaConcurrency(limits, Observed(), clock, dict)

    gate.acquire("f")
    gate.acquire("f")
    with pytest.raises(AwsLimitError):
        gate.acquire("f")  # a third environment within the interval
    clock.now += 5  # half the 10 s interval: one more environment
    gate.acquire("f")
    gate.release("f")
    gate.acquire("f")  # a warm environment needs no scaling


def test_scaled_slots_round_down_but_keep_one_unless_zero() -> None:
    assert [slots(x) for x in (0, 0.4, 1, 2.5, 10)] == [0, 1, 1, 2, 10]


def test_starts_draw_from_their_own_bucket_and_transitions_of_standard_wait() -> None:
    clock, waits = Clock(), []
    limits = Limits(
        overrides={
            "stepfunctions.standard_start_bucket": 1,
            "stepfunctions.express_start_bucket": 2,
            "stepfunctions.sync_start_bucket": 1,
            "stepfunctions.standard_transition_bucket": 2,
            "stepfunctions.standard_transition_refill": 4,
        }
    )
    observed = Observed()
    quotas = StepFunctionsQuotas(limits, observed, clock, waits.append)

    quotas.start(STANDARD, STANDARD)
    with pytest.raises(AwsLimitError, match="Rate exceeded"):
        quotas.start(STANDARD, STANDARD)
    quotas.start(EXPRESS, EXPRESS)
    quotas.start(EXPRESS, EXPRESS)
    quotas.start(SYNC, EXPRESS)
    for _ in range(4):
        quotas.transition(STANDARD)
    for _ in range(10):
        quotas.transition(EXPRESS)

    assert observed.starts == {STANDARD: 1, EXPRESS: 3}
    assert waits == [pytest.approx(0.25), pytest.approx(0.5)]  # the 3rd and 4th STANDARD transitions wait
    assert observed.transitions == {STANDARD: 4, EXPRESS: 10}
    assert observed.throttles == {("Step Functions", "ThrottlingException", "STANDARD start"): 1}


class Table:
    """What the throughput meter reads of a moto table."""

    name = "breakers"
    table_arn = "arn:aws:dynamodb:us-east-1:123456789012:table/breakers"
    billing_mode = "PAY_PER_REQUEST"


def test_a_scaled_bucket_still_holds_a_breaker_events_handful_of_writes_but_refills_at_the_scaled_rate() -> None:
    clock = Clock()
    meter = DynamoDbThroughput(Limits(scale=200), Observed(), clock)  # 1,000 WCU/s on AWS: 5 per second here

    for _ in range(int(MIN_BURST_UNITS)):  # a trip's counts and the trip itself, at once
        meter.admit(Table(), "k", WRITE, 1.0)
    with pytest.raises(AwsLimitError):
        meter.admit(Table(), "k", WRITE, 1.0)
    clock.now += 1.0
    for _ in range(5):
        meter.admit(Table(), "k", WRITE, 1.0)
    with pytest.raises(AwsLimitError):
        meter.admit(Table(), "k", WRITE, 1.0)


def test_a_scaled_read_bucket_holds_one_second_of_its_rate_and_no_more() -> None:
    clock = Clock()
    meter = DynamoDbThroughput(Limits(scale=600), Observed(), clock)  # 3,000 RCU/s on AWS: 5 per second here

    for _ in range(10):  # ten eventually consistent reads: 5 units, one second's worth
        meter.admit(Table(), "k", READ, 0.5)
    with pytest.raises(AwsLimitError):
        meter.admit(Table(), "k", READ, 0.5)
