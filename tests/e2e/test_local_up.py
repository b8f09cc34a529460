"""The local stack as a user meets it: the AWS CLI, boto3, the breakwater CLI and the SAM CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from breakwater.template import PROJECT_ROOT
from tests.e2e.conftest import LocalUp, tool

pytestmark = pytest.mark.e2e


def unique_order(**fields: object) -> str:
    order = {"orderId": f"e2e-{uuid.uuid4().hex[:10]}", "amount": 1999, "currency": "USD", "customerId": "cus_e2e"}
    order.update(fields)
    return json.dumps(order)


def wait_for(local_up: LocalUp, execution_arn: str, timeout: float = 60) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while True:
        described = local_up.aws("stepfunctions", "describe-execution", "--execution-arn", execution_arn)
        if described["status"] != "RUNNING":
            return described  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, f"{execution_arn} still RUNNING after {timeout}s"
        time.sleep(0.2)


# -- the AWS CLI ---------------------------------------------------------------------------


def test_aws_cli_starts_an_execution_and_reads_its_history(local_up):
    arn = local_up.outputs()["StateMachineArn"]

    started = local_up.aws(
        "stepfunctions",
        "start-execution",
        "--state-machine-arn",
        arn,
        "--input",
        "file://events/order.json",
        "--name",
        f"cli-{uuid.uuid4().hex[:8]}",
    )
    described = wait_for(local_up, started["executionArn"])
    history = local_up.aws("stepfunctions", "get-execution-history", "--execution-arn", started["executionArn"])

    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["status"] == "charged"
    entered = [e["stateEnteredEventDetails"]["name"] for e in history["events"] if "stateEnteredEventDetails" in e]
    assert entered == ["Read breaker state", "Is the order valid and the circuit closed?", "Call payment provider"]


def test_aws_cli_reads_the_breaker_item_after_a_failure(local_up):
    outputs = local_up.outputs()
    local_up.provider(mode="down")
    try:
        started = local_up.aws(
            "stepfunctions",
            "start-execution",
            "--state-machine-arn",
            outputs["StateMachineArn"],
            "--input",
            unique_order(serviceName="e2e-cli-item"),
            "--name",
            f"cli-{uuid.uuid4().hex[:8]}",
        )
        described = wait_for(local_up, started["executionArn"])
    finally:
        local_up.provider(mode="healthy")
    item = local_up.aws(
        "dynamodb",
        "get-item",
        "--table-name",
        outputs["BreakerTableName"],
        "--key",
        json.dumps({"serviceName": {"S": "e2e-cli-item"}}),
    )

    assert json.loads(described["output"])["reason"] == "call_failed"
    assert item["Item"]["failureCount"] == {"N": "1"}
    assert item["Item"]["state"] == {"S": "CLOSED"}


# -- boto3 ------------------------------------------------------------------------------------


def test_boto3_drives_an_outage_to_a_trip(local_up):
    sfn = local_up.client("stepfunctions")
    arn = local_up.outputs()["StateMachineArn"]
    service = f"e2e-boto3-{uuid.uuid4().hex[:6]}"
    local_up.provider(mode="down")
    outputs = []
    try:
        for _ in range(6):
            execution = sfn.start_execution(
                stateMachineArn=arn, name=uuid.uuid4().hex, input=unique_order(serviceName=service)
            )
            described = wait_for(local_up, execution["executionArn"])
            outputs.append(json.loads(described["output"]))
    finally:
        local_up.provider(mode="healthy")

    assert [o["reason"] for o in outputs] == ["call_failed"] * 5 + ["circuit_open"]

    # The table stream reaches the transitions function (polled every second by local up),
    # which publishes the CircuitState metric that `breakwater status` reads back.
    # The heartbeat may publish the record's CLOSED first: wait for the OPEN the stream brings.
    deadline = time.monotonic() + 30
    while "OPEN" not in (shown := local_up.breakwater("status", service).stdout).partition("recent transitions")[2]:
        assert time.monotonic() < deadline, shown
        time.sleep(0.5)


def test_the_heartbeat_publishes_the_default_breaker_and_the_alarm_watches_it(local_up):
    # local up fires the transitions function's once-a-minute schedule at start: the stack's own
    # ServiceName (no record yet) is published as CLOSED (0), on the metric the alarm watches.
    alarms = local_up.aws("cloudwatch", "describe-alarms")["MetricAlarms"]
    (alarm,) = [a for a in alarms if a["AlarmName"].startswith("breakwater-CircuitOpenAlarm-")]
    dimensions = alarm["Dimensions"]
    deadline = time.monotonic() + 30
    while not (
        metrics := local_up.aws(
            "cloudwatch", "list-metrics", "--namespace", "Breakwater", "--metric-name", "CircuitState"
        )["Metrics"]
    ):
        assert time.monotonic() < deadline, "no CircuitState metric from the heartbeat"
        time.sleep(0.5)

    assert (alarm["MetricName"], alarm["Threshold"]) == ("CircuitState", 2.0)
    assert dimensions == [{"Name": "ServiceName", "Value": "payment-api"}]
    assert dimensions in [m["Dimensions"] for m in metrics]


# -- the breakwater CLI -----------------------------------------------------------------------


def test_cli_start_prints_output_and_path(local_up):
    result = local_up.breakwater("start", "--input", "events/order-declined.json")

    assert '"status": "declined"' in result.stdout
    assert "path:      Read breaker state -> Is the order valid and the circuit closed? -> Call payment provider" in (
        result.stdout
    )
    assert "4 states, 1 reads, 0 writes, 1 Lambda, 0 SQS" in result.stdout


def test_cli_start_reports_an_invalid_order_and_exits_non_zero(local_up):
    result = local_up.breakwater("start", "--input", "events/order-invalid.json", check=False)

    assert result.returncode == 1
    assert "error:     InvalidOrder: orderId:" in result.stdout


def test_cli_history_prints_the_console_table_and_path(local_up):
    arn = local_up.breakwater("start", "--no-wait", "--input", unique_order()).stdout.strip()
    wait_for(local_up, arn)

    table = local_up.breakwater("history", arn).stdout
    rows = json.loads(local_up.breakwater("history", arn, "--json").stdout)

    assert "ExecutionSucceeded" in table
    assert "dynamodb:getItem" in table
    assert "Started after" in table
    assert rows["path"] == ["Read breaker state", "Is the order valid and the circuit closed?", "Call payment provider"]
    assert [r["id"] for r in rows["events"]] == list(range(1, len(rows["events"]) + 1))
    assert rows["events"][-1]["type"] == "ExecutionSucceeded"


def test_cli_overrides_and_status(local_up):
    service = f"e2e-ops-{uuid.uuid4().hex[:6]}"

    def state() -> str:
        return json.loads(local_up.breakwater("status", service, "--json").stdout)[0]["state"]

    assert state() == "CLOSED"
    assert f"{service}: CLOSED -> FORCED_OPEN" in local_up.breakwater("trip", service).stdout
    queued = local_up.breakwater("start", "--input", unique_order(serviceName=service)).stdout
    assert '"reason": "forced_open"' in queued
    assert local_up.breakwater("disable", service).stdout.strip() == f"{service}: FORCED_OPEN -> DISABLED"
    assert state() == "DISABLED"
    assert local_up.breakwater("reset", service).stdout.strip() == f"{service}: DISABLED -> CLOSED"
    table = local_up.breakwater("status").stdout
    assert service in table
    assert "failures" in table


def test_cli_invoke_runs_the_handler_like_sam_local_invoke(local_up):
    ok = local_up.breakwater(
        "invoke",
        "PaymentFunction",
        "-e",
        "events/payment-invoke.json",
        "--parameter-overrides",
        f"PaymentApiUrl={local_up.provider_url}",
    )
    down = local_up.breakwater(
        "invoke",
        "PaymentFunction",
        "-e",
        "events/payment-invoke.json",
        "--parameter-overrides",
        "PaymentApiUrl=http://127.0.0.1:9",
        check=False,
    )

    assert json.loads(ok.stdout)["chargeId"].startswith("ch_")
    assert '"message":"payment call finished"' in ok.stderr  # the function's own JSON log
    assert down.returncode == 1
    assert json.loads(down.stdout)["errorType"] == "PaymentServiceUnavailable"


def test_cli_graph_draws_the_path_of_an_execution(local_up, tmp_path):
    arn = local_up.breakwater("start", "--no-wait", "--input", unique_order()).stdout.strip()
    wait_for(local_up, arn)
    picture = tmp_path / "graph.svg"

    drawn = local_up.breakwater("graph", arn, "-o", str(picture))
    mermaid = local_up.breakwater("graph", arn, "--format", "mermaid").stdout

    assert picture.read_text().lstrip().startswith("<?xml")
    assert "path: Read breaker state" in drawn.stdout
    assert mermaid.startswith("flowchart TD")
    assert "classDef taken" in mermaid


def test_cli_errors_are_one_clear_line(local_up):
    bad_service = local_up.breakwater("status", "no/such", check=False)
    bad_stack = local_up.breakwater("status", "--stack-name", "missing-stack", check=False)
    bad_json = local_up.breakwater("start", "--input", "{nope", check=False)

    for result in (bad_service, bad_stack, bad_json):
        assert result.returncode == 1
        assert result.stderr.startswith("breakwater: error: ")
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "missing-stack" in bad_stack.stderr


# -- the SAM CLI ---------------------------------------------------------------------------------


def python313() -> Path:
    """The folder of a python3.13 that runs (a pyenv shim may only say "command not found")."""
    candidates = sorted(Path.home().glob(".pyenv/versions/3.13*/bin/python3.13"), reverse=True)
    found = shutil.which("python3.13")
    for candidate in [*candidates, *([Path(found)] if found else [])]:
        check = subprocess.run([str(candidate), "--version"], capture_output=True, text=True, check=False)
        if check.returncode == 0:
            return candidate.parent
    pytest.fail("sam build needs python3.13 (the function runtime) on this machine, e.g. from pyenv")


def test_sam_build_and_deploy_with_the_local_config_env(local_up):
    """Exactly the README's `sam build && sam deploy --config-env local`, with this run's ports."""
    sam = tool("sam")
    env_path = f"{python313()}:{Path(sam).parent}:/usr/bin:/bin"

    env = {**os.environ, **local_up.env, "PATH": env_path, "SAM_CLI_TELEMETRY": "0"}
    build = subprocess.run(
        [str(sam), "build"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    deploy = subprocess.run(
        [
            str(sam),
            "deploy",
            "--config-env",
            "local",
            "--stack-name",
            "breakwater-sam-e2e",
            "--no-progressbar",
            "--parameter-overrides",
            f"PaymentApiUrl={local_up.provider_url} FailureThreshold=2",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr

    result = local_up.breakwater("start", "--stack-name", "breakwater-sam-e2e", "--input", unique_order())

    assert '"status": "charged"' in result.stdout
    assert "Successfully created/updated stack - breakwater-sam-e2e" in deploy.stdout


def test_cli_starts_an_express_workflow_synchronously(local_up):
    from breakwater.aws import Target
    from breakwater.local.deploy import deploy

    target = Target(endpoint_url=local_up.endpoint, region="us-east-1")
    deploy(
        target.client("cloudformation"),
        target.client("s3"),
        "breakwater-express-e2e",
        {"PaymentApiUrl": local_up.provider_url, "WorkflowType": "EXPRESS"},
    )

    result = local_up.breakwater("start", "--stack-name", "breakwater-express-e2e", "--input", unique_order())

    assert "(EXPRESS, synchronous)" in result.stdout
    assert '"status": "charged"' in result.stdout
    assert "status:    SUCCEEDED" in result.stdout
