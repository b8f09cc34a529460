"""``sam local invoke`` of every function with every event of events/ that is its, in the real Lambda runtime.

Each (function, event) pair has one expectation below; an event file without one fails
``test_every_function_has_events_and_every_event_an_expectation``. No answer may be a ``Runtime.*`` error (a
handler that does not import, a missing dependency, a bad handler name): each is the function's own result or
its own error type.
"""

from __future__ import annotations

import filecmp
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from breakwater.executions import wait
from breakwater.local.build import build_function, function_sources
from breakwater.local.invoke import events_for, functions
from breakwater.template import TEMPLATE_PATH, load_template
from tests.docker.conftest import DockerStack, Invocation, StartLambda, sam_local

pytestmark = pytest.mark.docker

FUNCTIONS = sorted(functions(load_template()))
CASES = [(function, event) for function in FUNCTIONS for event in events_for(function)]


def _event(event: Path) -> Any:
    return json.loads(event.read_text())


def payment_charges_the_order(stack: DockerStack, event: Path, run: Callable[[], Invocation]) -> None:
    calls_before = stack.provider_stats()["calls"]
    answer = run().answer
    assert answer["status"] == "succeeded", answer
    assert answer["chargeId"].startswith("ch_"), answer
    # One call reached the fake provider, with the key read from the stack's secret (a wrong one is a 401).
    stats = stack.provider_stats()
    assert stats["calls"] == calls_before + 1
    assert stats["callsByStatus"].get("401", 0) == 0


def replay_restarts_the_order_and_dead_letters_the_stray_message(
    stack: DockerStack, event: Path, run: Callable[[], Invocation]
) -> None:
    records = _event(event)["Records"]
    queued = next(json.loads(r["body"]) for r in records if r["body"].startswith("{"))
    stray = next(r for r in records if not r["body"].startswith("{"))
    answer = run().answer
    assert answer == {"batchItemFailures": []}
    # The queued order is a new execution of the workflow, whose payment call went to start-lambda.
    sfn = stack.up.client("stepfunctions")
    executions = sfn.list_executions(stateMachineArn=stack.outputs["StateMachineArn"])["executions"]
    replays = [e for e in executions if e["name"].startswith(f"replay-1-{queued['order']['orderId']}-")]
    assert len(replays) == 1, executions
    result = wait(sfn, replays[0]["executionArn"], timeout=120)
    assert result.status == "SUCCEEDED", result
    assert result.output["status"] == "charged", result.output
    # The message that is not an order is on the dead-letter queue, with where it came from.
    sqs = stack.up.client("sqs")
    received = sqs.receive_message(
        QueueUrl=stack.outputs["FallbackDeadLetterQueueUrl"], MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages", [])
    moved = [m for m in received if m["Body"] == stray["body"]]
    assert len(moved) == 1, received
    assert moved[0]["MessageAttributes"]["sourceMessageId"]["StringValue"] == stray["messageId"]


def _circuit_state_maximum(stack: DockerStack, service: str, at_ms: int) -> float | None:
    start = at_ms / 1000 - 60
    points = (
        stack.up.client("cloudwatch")
        .get_metric_statistics(
            Namespace=stack.outputs.get("MetricsNamespace", "Breakwater"),
            MetricName="CircuitState",
            Dimensions=[{"Name": "ServiceName", "Value": service}],
            StartTime=start,
            EndTime=start + 120,
            Period=60,
            Statistics=["Maximum"],
        )
        .get("Datapoints", [])
    )
    return max((p["Maximum"] for p in points), default=None)


def transitions_publishes_the_open_transition(stack: DockerStack, event: Path, run: Callable[[], Invocation]) -> None:
    new_image = _event(event)["Records"][0]["dynamodb"]["NewImage"]
    service, at_ms = new_image["serviceName"]["S"], int(new_image["lastTransitionMs"]["N"])
    assert run().answer == {"published": 1}
    # The CircuitState datum is stamped with the transition's time: OPEN is 2.
    assert _circuit_state_maximum(stack, service, at_ms) == 2


def transitions_heartbeat_publishes_every_breaker(
    stack: DockerStack, event: Path, run: Callable[[], Invocation]
) -> None:
    table = stack.outputs["BreakerTableName"]
    default_service = stack.template["Parameters"]["ServiceName"]["Default"]
    answer = run().answer
    items = stack.up.client("dynamodb").scan(TableName=table)["Items"]
    breakers = {item["serviceName"]["S"] for item in items} | {default_service}
    assert answer == {"published": len(breakers)}
    now_ms = int(time.time() * 1000)
    assert _circuit_state_maximum(stack, default_service, now_ms) is not None


def checkout_looks_up_an_order_without_a_record(stack: DockerStack, event: Path, run: Callable[[], Invocation]) -> None:
    order_id = _event(event)["pathParameters"]["orderId"]
    answer = run().answer
    assert answer["statusCode"] == 404, answer
    assert json.loads(answer["body"])["status"] == "unknown", answer
    assert json.loads(answer["body"])["orderId"] == order_id, answer


Expectation = Callable[[DockerStack, Path, Callable[[], Invocation]], None]
EXPECTATIONS: dict[tuple[str, str], Expectation] = {
    ("PaymentFunction", "payment-invoke.json"): payment_charges_the_order,
    ("ReplayFunction", "replay-batch.json"): replay_restarts_the_order_and_dead_letters_the_stray_message,
    ("TransitionsFunction", "transitions-stream-open.json"): transitions_publishes_the_open_transition,
    ("TransitionsFunction", "transitions-heartbeat.json"): transitions_heartbeat_publishes_every_breaker,
    ("CheckoutFunction", "checkout-look-up-order.json"): checkout_looks_up_an_order_without_a_record,
}


def test_every_function_has_events_and_every_event_an_expectation() -> None:
    assert {function for function, _ in CASES} == set(FUNCTIONS), "a function has no event in events/"
    assert {(function, event.name) for function, event in CASES} == set(EXPECTATIONS)


@pytest.mark.parametrize(("function", "event"), CASES, ids=[f"{f}-{e.stem}" for f, e in CASES])
def test_sam_local_invoke_answers_as_the_function(
    function: str, event: Path, docker_stack: DockerStack, start_lambda: StartLambda
) -> None:
    def run() -> Invocation:
        invocation = docker_stack.invoke(function, event)
        error = invocation.error_type or ""
        assert not error.startswith("Runtime."), f"{function} did not run:\n{invocation.answer}\n{invocation.logs}"
        assert "REPORT RequestId:" in invocation.logs, invocation.logs  # the emulator ran it to its end
        return invocation

    EXPECTATIONS[(function, event.name)](docker_stack, event, run)


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


def differences(one: Path, other: Path) -> set[str]:
    """Relative paths of the files that are in one folder only, or differ byte for byte."""
    files, other_files = _files(one), _files(other)
    _, mismatch, errors = filecmp.cmpfiles(one, other, sorted(files & other_files), shallow=False)
    return (files ^ other_files) | set(mismatch) | set(errors)


def _pip_metadata(name: str, kinds: tuple[str, ...]) -> bool:
    parts = name.split("/")
    return len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] in kinds


def test_the_local_build_differs_from_the_real_builds_only_in_compiled_extensions(
    built_template: Path, tmp_path: Path
) -> None:
    """``sam build`` of the arm64 template and of its local copy: the same code and dependencies, byte for byte."""
    # given: the real template, built as it deploys
    assert load_template()["Globals"]["Function"]["Architectures"] == ["arm64"]
    real = sam_local.sam_build(TEMPLATE_PATH, tmp_path / "build")
    for function in FUNCTIONS:
        # when: its build is compared with the local one
        differing = differences(built_template.parent / function, real.parent / function)
        # then: only the architecture-tagged files of wheels with compiled code, and those wheels' metadata
        compiled = {name for name in differing if "x86_64" in name or "aarch64" in name}
        assert all(_pip_metadata(n, ("WHEEL", "RECORD")) for n in differing - compiled), sorted(differing)


def test_the_local_stack_runs_what_sam_build_produces(built_template: Path, tmp_path: Path) -> None:
    """breakwater.local.build (what the local stack runs) against ``sam build`` for the same architecture."""
    for function, source in function_sources(load_template()).items():
        artifact = build_function(function, source, tmp_path)
        differing = differences(artifact.code_dir, built_template.parent / function)
        # pip's own bookkeeping differs (and sam build keeps a wheel's scripts under .data/); no module does.
        bookkeeping = {
            n for n in differing if _pip_metadata(n, ("INSTALLER", "REQUESTED", "RECORD", "direct_url.json"))
        }
        scripts = {n for n in differing if n.split("/")[0].endswith(".data") and "/scripts/" in n}
        assert differing - bookkeeping - scripts == set(), (function, sorted(differing))


def test_local_template_changes_only_the_architecture_and_declares_the_endpoint() -> None:
    template = load_template()
    local = sam_local.local_template(template, "x86_64")
    function_globals = local["Globals"]["Function"]
    assert function_globals["Architectures"] == ["x86_64"]
    assert function_globals["Environment"]["Variables"] == {sam_local.ENDPOINT_VARIABLE: ""}
    del function_globals["Environment"]
    function_globals["Architectures"] = template["Globals"]["Function"]["Architectures"]
    assert local == template
