"""Every stack deployed to `local up` is alive (issue 23, item 3): a second stack, deployed with docs/local-stack.md's
`sam build && sam deploy --config-env local`, drains its queue after an outage, as its own stack would on AWS."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from breakwater.executions import run
from tests.e2e.conftest import LocalUp, SamCli, local_up_running
from tests.eventually import eventually

pytestmark = pytest.mark.e2e
STACK = "breakwater-second"
SERVICE = "second-api"
# A hang guard, not a pace: the drain takes about a minute here (a failed call's replay waits its retry delay, at
# most 30 s, then a poll a second), far longer on a busy machine.
DRAIN_SECONDS = 300.0


@pytest.fixture(scope="module")
def replaying() -> Iterator[LocalUp]:
    with local_up_running("--quiet") as up:  # replay on: the pollers of every stack run
        yield up


def waiting(up: LocalUp, queue_url: str) -> int:
    attributes = up.client("sqs").get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def test_a_second_stack_deployed_with_sam_drains_its_queue_after_an_outage(replaying: LocalUp, tmp_path: Path) -> None:
    up = replaying
    # given: a second stack, deployed as docs/local-stack.md says, whose breaker trips on one failure and cools
    # down in 3 s
    overrides = (
        f"PaymentApiUrl={up.provider_url} ServiceName={SERVICE} FailureThreshold=1 CooldownSeconds=3"
        " MaxCooldownSeconds=3 SuccessThreshold=1"
    )
    sam = SamCli(up, tmp_path / "build")
    sam.build()
    deployed = sam.deploy(STACK, overrides)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    outputs = up.outputs(STACK)
    # when: the provider is down for four orders (one failed call trips the breaker; the next find it open, or,
    # when a busy machine takes longer than the 3 s cooldown, one of them is its probe and fails too)
    up.provider(mode="down")
    sfn = up.client("stepfunctions")
    results = [run(sfn, outputs["StateMachineArn"], order_of(number), timeout=60).output for number in range(4)]
    assert [r["status"] for r in results] == ["queued"] * 4
    assert results[0]["reason"] == "call_failed"
    assert {r["reason"] for r in results[1:]} <= {"circuit_open", "call_failed"}
    up.provider(mode="healthy")
    # then: local up's pollers replay the second stack's queue until it is empty, and every order is charged
    eventually(
        lambda: waiting(up, outputs["FallbackQueueUrl"]),
        "local up's pollers to empty the second stack's queue",
        until=lambda messages: messages == 0,
        timeout=DRAIN_SECONDS,
        interval=1,
    )
    with urllib.request.urlopen(f"{up.provider_url}/charges", timeout=10) as answer:
        charged = json.loads(answer.read())["data"]
    assert {order_of(n)["orderId"] for n in range(4)} <= {c["idempotencyKey"] for c in charged}
    # and its breaker closed (the replay's probe), its moves read from its table's stream
    status = up.breakwater("status", "--stack-name", STACK).stdout
    line = next(row for row in status.splitlines() if row.startswith(SERVICE))
    assert line.split()[1] == "CLOSED"
    assert "HALF_OPEN" in status


def order_of(number: int) -> dict[str, object]:
    return {"orderId": f"ord-second-{number}", "amount": 1999, "currency": "USD", "customerId": "cus_123"}
