"""The local stack as a user meets it: the AWS CLI, boto3, the breakwater CLI and the SAM CLI."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import uuid

import pytest

from tests.e2e.conftest import LocalUp, SamCli
from tests.eventually import eventually

pytestmark = pytest.mark.e2e


def unique_order(**fields: object) -> str:
    order = {"orderId": f"e2e-{uuid.uuid4().hex[:10]}", "amount": 1999, "currency": "USD", "customerId": "cus_e2e"}
    order.update(fields)
    return json.dumps(order)


def wait_for(local_up: LocalUp, execution_arn: str) -> dict[str, object]:
    described: dict[str, object] = eventually(
        lambda: local_up.aws("stepfunctions", "describe-execution", "--execution-arn", execution_arn),
        f"{execution_arn} to end",
        until=lambda execution: execution["status"] != "RUNNING",
        interval=0.2,
    )
    return described


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

    # `breakwater status` reads the trip back from the table's stream, at the millisecond it was made.
    eventually(
        lambda: local_up.breakwater("status", service).stdout,
        "`breakwater status` to show the trip among its transitions",
        until=lambda shown: "OPEN" in shown.partition("transitions (")[2],
        interval=0.5,
    )


def test_the_heartbeat_publishes_the_default_breaker_and_the_alarm_watches_it(local_up):
    # local up fires the transitions function's once-a-minute schedule at start: the stack's own
    # ServiceName (no record yet) is published as CLOSED (0), on the metric the alarm watches.
    alarms = local_up.aws("cloudwatch", "describe-alarms")["MetricAlarms"]
    (alarm,) = [a for a in alarms if a["AlarmName"].startswith("breakwater-CircuitOpenAlarm-")]
    dimensions = alarm["Dimensions"]
    metrics = eventually(
        lambda: local_up.aws(
            "cloudwatch", "list-metrics", "--namespace", "Breakwater", "--metric-name", "CircuitState"
        )["Metrics"],
        "the heartbeat's CircuitState metric",
        interval=0.5,
    )

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
    assert f"{service}: CLOSED -> FORCED_OPEN" in local_up.breakwater("trip", service, "--create").stdout
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

    for result, code in ((bad_service, 1), (bad_stack, 1), (bad_json, 2)):
        assert result.returncode == code
        assert result.stderr.startswith("breakwater: error: ")
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "missing-stack" in bad_stack.stderr


# -- the SAM CLI ---------------------------------------------------------------------------------


def test_sam_build_and_deploy_with_the_local_config_env_twice_in_a_row(local_up, tmp_path):
    """Exactly docs/local-stack.md's `sam build && sam deploy --config-env local`, with this run's ports; the second
    deploy (an update through a change set) must work as the first, and its new parameter take effect."""
    sam = SamCli(local_up, tmp_path / "sam-build")
    sam.build()

    def sam_deploy(threshold: int) -> subprocess.CompletedProcess[str]:
        overrides = f"PaymentApiUrl={local_up.provider_url} FailureThreshold={threshold}"
        return sam.deploy("breakwater-sam-e2e", overrides)

    deploys = [sam_deploy(2), sam_deploy(3)]
    for deploy in deploys:
        assert deploy.returncode == 0, deploy.stdout + deploy.stderr
        assert "Successfully created/updated stack - breakwater-sam-e2e" in deploy.stdout

    outputs = local_up.outputs("breakwater-sam-e2e")
    definition = local_up.aws(
        "stepfunctions", "describe-state-machine", "--state-machine-arn", outputs["StateMachineArn"]
    )
    result = local_up.breakwater("start", "--stack-name", "breakwater-sam-e2e", "--input", unique_order())

    assert re.search(r"\$counted >= 3\b", definition["definition"])  # the second deploy's FailureThreshold
    assert '"status": "charged"' in result.stdout


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


# -- issue 10: what a new user met ---------------------------------------------------------------------


def test_readme_aws_cli_commands_work_as_written(local_up):
    """docs/local-stack.md's commands, unnamed executions included (AWS names them with a UUID)."""
    arn = local_up.aws(
        "cloudformation",
        "describe-stacks",
        "--stack-name",
        "breakwater",
        "--query",
        "Stacks[0].Outputs[?OutputKey=='StateMachineArn'].OutputValue",
    )[0]
    table = local_up.aws(
        "cloudformation",
        "describe-stacks",
        "--stack-name",
        "breakwater",
        "--query",
        "Stacks[0].Outputs[?OutputKey=='BreakerTableName'].OutputValue",
    )[0]
    started = [
        local_up.aws(
            "stepfunctions", "start-execution", "--state-machine-arn", arn, "--input", "file://events/order.json"
        )
        for _ in range(2)
    ]
    described = [wait_for(local_up, s["executionArn"]) for s in started]
    item = local_up.aws("dynamodb", "get-item", "--table-name", table, "--key", '{"serviceName": {"S": "payment-api"}}')
    history = local_up.breakwater("history", started[0]["executionArn"])
    graph = local_up.breakwater("graph", started[0]["executionArn"], "--format", "mermaid")

    assert started[0]["executionArn"] != started[1]["executionArn"]
    assert not started[0]["executionArn"].endswith(":None")
    assert [d["status"] for d in described] == ["SUCCEEDED", "SUCCEEDED"]
    assert item is None or "Item" not in item or item["Item"]["serviceName"] == {"S": "payment-api"}
    assert "ExecutionSucceeded" in history.stdout
    assert graph.stdout.startswith("flowchart TD")


def test_aws_cli_runs_an_express_workflow_with_the_exported_environment(local_up):
    """StartSyncExecution has a "sync-" host prefix; the exports turn host prefixes off."""
    from breakwater.aws import Target
    from breakwater.local.deploy import deploy

    assert local_up.env["AWS_DISABLE_HOST_PREFIX_INJECTION"] == "true"
    target = Target(endpoint_url=local_up.endpoint, region="us-east-1")
    stack = deploy(
        target.client("cloudformation"),
        target.client("s3"),
        "breakwater-express-cli-e2e",
        {"PaymentApiUrl": local_up.provider_url, "WorkflowType": "EXPRESS"},
    )

    result = local_up.aws(
        "stepfunctions",
        "start-sync-execution",
        "--state-machine-arn",
        stack.state_machine_arn,
        "--input",
        unique_order(),
    )

    assert result["status"] == "SUCCEEDED"
    assert json.loads(result["output"])["status"] == "charged"


def test_aws_cli_sqs_works_with_the_endpoint_flag(local_up):
    queue_url = local_up.outputs()["FallbackQueueUrl"]

    attributes = local_up.aws(
        "sqs",
        "get-queue-attributes",
        "--queue-url",
        queue_url,
        "--attribute-names",
        "QueueArn",
        "--endpoint-url",
        local_up.endpoint,
    )

    assert attributes["Attributes"]["QueueArn"].endswith(queue_url.rsplit("/", 1)[-1])


def test_local_up_prints_a_line_per_execution(local_up):
    arn = local_up.breakwater("start", "--no-wait", "--input", unique_order()).stdout.strip()
    name = arn.rsplit(":", 1)[-1]

    line = local_up.wait_for_line(lambda text: text.startswith(f"execution {name}:"))

    assert re.fullmatch(rf"execution {name}: charged \(breaker CLOSED\), \d+ ms", line)


def test_history_json_into_head_prints_no_broken_pipe(local_up):
    arn = local_up.breakwater("start", "--no-wait", "--input", unique_order()).stdout.strip()
    wait_for(local_up, arn)
    history = f"{shlex.quote(sys.executable)} -m breakwater.cli history --json {shlex.quote(arn)}"

    # `true` exits before the history is written: every write meets a closed pipe.
    closed = local_up.run("bash", "-c", f"{history} | true", check=False)
    head = local_up.run("bash", "-c", f"{history} | head -c 20", check=False)

    assert closed.stderr == ""
    assert head.stdout == '{"status": "SUCCEEDE'
    assert head.stderr == ""


# -- TestState -----------------------------------------------------------------------------------


def test_boto3_test_state_answers_over_http_with_the_exported_environment(local_up, monkeypatch):
    """TestState has a "sync-" host prefix, like StartSyncExecution: the exports let a plain client reach it."""
    import boto3

    for name, value in local_up.env.items():
        monkeypatch.setenv(name, value)
    sfn = boto3.session.Session().client("stepfunctions")
    machine = {
        "QueryLanguage": "JSONata",
        "StartAt": "Charge",
        "States": {
            "Charge": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Arguments": {"FunctionName": "pay", "Payload": "{% $states.input %}"},
                "Catch": [{"ErrorEquals": ["PaymentDeclined"], "Next": "Declined"}],
                "End": True,
            },
            "Declined": {"Type": "Fail", "Error": "Declined", "Cause": "{% $reason %}"},
        },
    }

    charged = sfn.test_state(
        definition=json.dumps(machine),
        stateName="Charge",
        input='{"orderId": "o-1"}',
        mock={"result": '{"Payload": {"chargeId": "ch_1"}, "StatusCode": 200}'},
    )
    declined = sfn.test_state(
        definition=json.dumps(machine),
        stateName="Charge",
        mock={"errorOutput": {"error": "PaymentDeclined", "cause": "card_declined"}},
        inspectionLevel="DEBUG",
    )
    failed = sfn.test_state(definition=json.dumps(machine), stateName="Declined", variables='{"reason": "no funds"}')
    with pytest.raises(sfn.exceptions.InvalidDefinition):
        sfn.test_state(definition="{not json")

    assert (charged["status"], json.loads(charged["output"])["Payload"]) == ("SUCCEEDED", {"chargeId": "ch_1"})
    assert (declined["status"], declined["nextState"]) == ("CAUGHT_ERROR", "Declined")
    assert declined["inspectionData"]["errorDetails"] == {"catchIndex": 0}
    assert (failed["status"], failed["error"], failed["cause"]) == ("FAILED", "Declined", "no funds")


def test_aws_cli_test_state_against_local_up(local_up):
    answer = local_up.aws(
        "stepfunctions",
        "test-state",
        "--definition",
        json.dumps({"Type": "Pass", "Result": {"ok": True}, "Next": "After"}),
        "--inspection-level",
        "DEBUG",
    )

    assert (answer["status"], answer["nextState"], json.loads(answer["output"])) == ("SUCCEEDED", "After", {"ok": True})
    assert "input" in answer["inspectionData"]
