"""Each compatibility patch is needed: the behaviour it provides breaks without it."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from botocore.exceptions import ClientError

from breakwater.executions import run, unique_name
from breakwater.local import compat, jsonata
from breakwater.local.compat import lambda_environments  # noqa: F401 - the module the cache test patches
from breakwater.soak import failure_detail
from tests.workflow.helpers import order

ROLE = "arn:aws:iam::123456789012:role/breakwater-test"


def machine(embedded: Any, definition: dict[str, Any]) -> str:
    sfn = embedded.client("stepfunctions")
    return sfn.create_state_machine(name=unique_name("m"), definition=json.dumps(definition), roleArn=ROLE)[
        "stateMachineArn"
    ]


def test_every_patch_is_installed(embedded):
    assert {name for name, patch in compat.PATCHES.items() if patch.active} == set(compat.PATCHES)


# -- jsonata_evaluator -------------------------------------------------------------

JSONATA = {
    "QueryLanguage": "JSONata",
    "StartAt": "Shape",
    "States": {"Shape": {"Type": "Pass", "Output": "{% {'total': $states.input.a + $states.input.b} %}", "End": True}},
}


def test_jsonata_is_evaluated(embedded):
    result = run(embedded.client("stepfunctions"), machine(embedded, JSONATA), {"a": 2, "b": 3})

    assert result.output == {"total": 5}


def test_without_the_evaluator_jsonata_fails(embedded):
    arn = machine(embedded, JSONATA)
    with compat.disabled("jsonata_evaluator"):
        result = run(embedded.client("stepfunctions"), arn, {"a": 2, "b": 3})

    assert result.status == "FAILED"


def test_jsonata_errors_use_the_aws_error_name(embedded):
    broken = {
        "QueryLanguage": "JSONata",
        "StartAt": "Shape",
        "States": {"Shape": {"Type": "Pass", "Output": "{% $number('abc') + {} %}", "End": True}},
    }

    result = run(embedded.client("stepfunctions"), machine(embedded, broken), {})

    assert result.status == "FAILED"
    assert result.error == "States.QueryEvaluationError"


# -- jsonata_evaluator: variables as bindings ---------------------------------------

QUOTED = {
    "QueryLanguage": "JSONata",
    "StartAt": "Remember",
    "States": {
        "Remember": {"Type": "Pass", "Assign": {"said": "{% $states.input.text %}"}, "Next": "Repeat"},
        "Repeat": {"Type": "Pass", "Output": "{% {'said': $said, 'length': $length($said)} %}", "End": True},
    },
}


def test_string_variables_with_quotes_and_backslashes_survive(embedded):
    text = 'she said "hi" \\ bye'

    result = run(embedded.client("stepfunctions"), machine(embedded, QUOTED), {"text": text})

    assert result.output == {"said": text, "length": len(text)}


def test_an_astral_character_in_a_variable_counts_once(embedded):
    # moto wrote variables into the expression as JSON text: an emoji became two escaped UTF-16 halves.
    text = "\U0001f600" * 100

    result = run(embedded.client("stepfunctions"), machine(embedded, QUOTED), {"text": text})

    assert result.output == {"said": text, "length": 100}


def test_a_variable_read_by_a_jsonpath_state_survives_quotes_and_astral_characters(embedded):
    definition = {
        "StartAt": "Remember",
        "States": {
            "Remember": {"Type": "Pass", "Assign": {"said.$": "$.text"}, "Next": "Repeat"},
            "Repeat": {"Type": "Pass", "Parameters": {"said.$": "$said"}, "End": True},
        },
    }
    text = 'she said "hi" \\U0001f600'

    result = run(embedded.client("stepfunctions"), machine(embedded, definition), {"text": text})

    assert result.output == {"said": text}


def test_each_expression_is_parsed_once_for_many_executions(embedded):
    arn = machine(embedded, QUOTED)
    sfn = embedded.client("stepfunctions")
    run(sfn, arn, {"text": "warm"})
    with mock.patch.object(jsonata.jsonata_lib.Jsonata, "__init__", autospec=True) as parse:
        results = [run(sfn, arn, {"text": f"text {i}"}) for i in range(3)]

    assert [r.output["said"] for r in results] == ["text 0", "text 1", "text 2"]
    assert parse.call_count == 0


@pytest.mark.parametrize("expression", ["{% $states.input.a ?? 1 %}", "{% $states.input.a ?: 1 %}", "{% $eval('1') %}"])
def test_what_aws_does_not_have_fails_with_the_aws_error_name(embedded, expression):
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Shape",
        "States": {"Shape": {"Type": "Pass", "Output": expression, "End": True}},
    }

    result = run(embedded.client("stepfunctions"), machine(embedded, definition), {"a": 2})

    assert result.status == "FAILED"
    assert result.error == "States.QueryEvaluationError"


def test_an_expression_that_returns_nothing_fails_with_the_aws_error_name(embedded):
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Shape",
        "States": {"Shape": {"Type": "Pass", "Output": "{% $states.input.missing %}", "End": True}},
    }

    result = run(embedded.client("stepfunctions"), machine(embedded, definition), {"a": 2})

    assert result.status == "FAILED"
    assert result.error == "States.QueryEvaluationError"
    assert "returned nothing" in (result.cause or "")


def test_parse_is_json_parsing_and_fails_on_text_that_is_not_json(embedded):
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Shape",
        "States": {"Shape": {"Type": "Pass", "Output": "{% $parse($states.input.text) %}", "End": True}},
    }
    arn = machine(embedded, definition)
    sfn = embedded.client("stepfunctions")

    parsed = run(sfn, arn, {"text": '{"a": [1, null]}'})
    expression = run(sfn, arn, {"text": "1 + 1"})

    assert parsed.output == {"a": [1, None]}
    assert expression.status == "FAILED"
    assert expression.error == "States.QueryEvaluationError"


# -- timestamps -----------------------------------------------------------------------

TIMESTAMP = {
    "StartAt": "Is it earlier?",
    "States": {
        "Is it earlier?": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.t", "TimestampLessThan": "2026-01-01T00:00:00Z", "Next": "Earlier"}],
            "Default": "Not earlier",
        },
        "Earlier": {"Type": "Succeed"},
        "Not earlier": {"Type": "Succeed"},
    },
}


@pytest.mark.parametrize(
    "stamp", ["2025-06-01T12:00:00.123Z", "2025-12-31T23:30:00-00:15", "2026-01-01T00:30:00+01:00"]
)
def test_timestamps_with_fractions_and_offsets_compare(embedded, stamp):
    result = run(embedded.client("stepfunctions"), machine(embedded, TIMESTAMP), {"t": stamp})

    assert result.path[-1] == "Earlier"


def test_without_the_timestamp_patch_fractional_timestamps_never_match(embedded):
    arn = machine(embedded, TIMESTAMP)
    with compat.disabled("timestamps"):
        result = run(embedded.client("stepfunctions"), arn, {"t": "2025-06-01T12:00:00.123Z"})

    assert result.path[-1] == "Not earlier"


def test_rfc3339_parser_rejects_what_aws_rejects():
    assert compat.parse_rfc3339("2025-06-01 12:00:00Z") is None
    assert compat.parse_rfc3339("2025-06-01T12:00:00") is None
    assert compat.parse_rfc3339("yesterday") is None
    assert compat.parse_rfc3339("2025-06-01T12:00:00+02:00").hour == 10


# -- start_time -----------------------------------------------------------------------

START_TIME = {
    "StartAt": "Echo",
    "States": {"Echo": {"Type": "Pass", "Parameters": {"started.$": "$$.Execution.StartTime"}, "End": True}},
}


def test_execution_start_time_is_an_iso_string(embedded):
    result = run(embedded.client("stepfunctions"), machine(embedded, START_TIME), {})

    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", result.output["started"])


def test_without_the_patch_start_time_cannot_be_described(embedded):
    arn = machine(embedded, START_TIME)
    with compat.disabled("start_time"), pytest.raises((ClientError, TypeError, ValueError)):
        run(embedded.client("stepfunctions"), arn, {}, timeout=10)


# -- dynamodb_atomic_writes --------------------------------------------------------------


def _race_conditional_adds(embedded: Any, table: str, writers: int = 8, limit: int = 3) -> tuple[int, int]:
    """Many threads ADD 1 under ``n < limit``; a pause between check and write invites a race."""
    import threading

    from moto.dynamodb import models as ddb_models

    class SlowValidator(ddb_models.UpdateExpressionValidator):  # type: ignore[misc, name-defined]
        def validate(self) -> Any:
            threading.Event().wait(0.03)
            return super().validate()

    ddb = embedded.client("dynamodb")
    ddb.put_item(TableName=table, Item={"k": {"S": "x"}, "n": {"N": "0"}})
    won: list[bool] = []

    def add() -> None:
        try:
            ddb.update_item(
                TableName=table,
                Key={"k": {"S": "x"}},
                UpdateExpression="ADD n :one",
                ConditionExpression="n < :limit",
                ExpressionAttributeValues={":one": {"N": "1"}, ":limit": {"N": str(limit)}},
            )
            won.append(True)
        except ClientError:
            won.append(False)

    with mock.patch.object(ddb_models, "UpdateExpressionValidator", SlowValidator):
        threads = [threading.Thread(target=add) for _ in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    final = int(ddb.get_item(TableName=table, Key={"k": {"S": "x"}})["Item"]["n"]["N"])
    return sum(won), final


def _table(embedded: Any) -> str:
    name = unique_name("race")
    embedded.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def test_conditional_writes_are_atomic_under_concurrency(embedded):
    assert _race_conditional_adds(embedded, _table(embedded)) == (3, 3)


def test_without_the_lock_concurrent_conditional_writes_overshoot(embedded):
    table = _table(embedded)
    with compat.disabled("dynamodb_atomic_writes"):
        won, final = _race_conditional_adds(embedded, table)

    assert won > 3
    assert final == won


# -- parse_once ------------------------------------------------------------------------


def test_each_definition_is_parsed_once_for_many_executions(embedded):
    from moto.stepfunctions.parser.asl.parse import asl_parser

    arn = machine(embedded, JSONATA)
    sfn = embedded.client("stepfunctions")
    run(sfn, arn, {"a": 1, "b": 1})
    original = asl_parser.AmazonStateLanguageParser.parse
    with mock.patch.object(asl_parser.AmazonStateLanguageParser, "parse", side_effect=original) as parse:
        results = [run(sfn, arn, {"a": i, "b": 1}) for i in range(3)]
        with compat.disabled("parse_once"):
            run(sfn, arn, {"a": 0, "b": 0})

    assert [r.output["total"] for r in results] == [1, 2, 3]
    assert parse.call_count == 1  # only the execution run without the patch


# -- lambda_environments -------------------------------------------------------------------


def test_payment_function_runs_from_its_deployed_package(embedded, provider):
    stack = embedded.deploy()

    result = embedded.run(stack, order())

    assert result.output["status"] == "charged"
    assert len(provider.calls) == 1


def test_handler_exceptions_become_error_names(embedded, provider):
    stack = embedded.deploy(FailureThreshold=2)
    provider.configure(mode="down")

    result = embedded.run(stack, order())

    failed = next(e["taskFailedEventDetails"] for e in result.events if e["type"] == "TaskFailed")
    assert failed["error"] == "PaymentServiceUnavailable"
    assert json.loads(failed["cause"])["errorType"] == "PaymentServiceUnavailable"


def test_without_the_local_runtime_nothing_is_charged(embedded, provider):
    stack = embedded.deploy()
    with compat.disabled("lambda_environments"):
        result = embedded.run(stack, order())

    assert result.output is None or result.output.get("status") != "charged"
    assert provider.calls == []


def test_a_deployment_package_is_unpacked_once(tmp_path, monkeypatch):
    monkeypatch.setattr(compat.lambda_environments, "_CODE_CACHE", tmp_path / "cache")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(e, c):\n    return 'zipped'\n")
    code = buffer.getvalue()

    first = compat.code_dir_for_zip(code)
    second = compat.code_dir_for_zip(code)

    assert first == second
    assert (first / "app.py").read_text().startswith("def handler")
    assert len(list((tmp_path / "cache").iterdir())) == 1


# -- cloudformation_sfn --------------------------------------------------------------------


def test_cloudformation_state_machine_gets_its_definition_substituted_and_executes(embedded, provider):
    stack = embedded.deploy(WorkflowType="EXPRESS")

    described = embedded.client("stepfunctions").describe_state_machine(stateMachineArn=stack.state_machine_arn)

    assert "${" not in described["definition"]
    assert stack.table_name in described["definition"]
    assert described["type"] == "EXPRESS"


def test_without_the_cloudformation_patch_the_machine_cannot_run(embedded, provider):
    with compat.disabled("cloudformation_sfn"):
        stack = embedded.deploy()
    sfn = embedded.client("stepfunctions")

    with pytest.raises(ClientError):
        described = sfn.describe_state_machine(stateMachineArn=stack.state_machine_arn)
        assert "Read breaker state" in described["definition"]
        sfn.start_execution(stateMachineArn=stack.state_machine_arn, name=unique_name(), input="{}")
        raise AssertionError("the unpatched machine should not be runnable")


def test_substitution_replaces_only_named_placeholders():
    text = compat.substitute_definition({"a": "${Table}", "b": "{% $states.input %}", "c": "${Other}"}, {"Table": "t1"})

    assert json.loads(text) == {"a": "t1", "b": "{% $states.input %}", "c": "${Other}"}


# -- cloudformation_alarms -----------------------------------------------------------------


def open_circuit_alarms(embedded: Any, stack_name: str) -> list[dict[str, Any]]:
    alarms = embedded.client("cloudwatch").describe_alarms()["MetricAlarms"]
    return [a for a in alarms if a["AlarmName"].startswith(f"{stack_name}-CircuitOpenAlarm-")]


def test_the_stack_creates_and_deletes_its_open_circuit_alarm(embedded, provider):
    stack = embedded.deploy(ServiceName="alarmed-api")

    (alarm,) = open_circuit_alarms(embedded, stack.name)
    topic = embedded.client("sns").list_topics()["Topics"]
    embedded.client("cloudformation").delete_stack(StackName=stack.name)

    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == ("Breakwater", "CircuitState", "Maximum")
    assert alarm["Dimensions"] == [{"Name": "ServiceName", "Value": "alarmed-api"}]
    assert (alarm["ComparisonOperator"], alarm["Threshold"], alarm["Period"]) == (
        "GreaterThanOrEqualToThreshold",
        2,
        60,
    )
    assert alarm["TreatMissingData"] == "ignore"
    assert alarm["AlarmActions"] == alarm["OKActions"]
    assert alarm["AlarmActions"][0] in {t["TopicArn"] for t in topic}
    assert open_circuit_alarms(embedded, stack.name) == []


def test_without_the_alarm_patch_the_stack_has_no_alarm(embedded, provider):
    with compat.disabled("cloudformation_alarms"), pytest.warns(UserWarning, match="AWS::CloudWatch::Alarm"):
        stack = embedded.deploy()

    assert open_circuit_alarms(embedded, stack.name) == []


# -- events_schedule_rules -----------------------------------------------------------------

EVENT = {"Source": "breakwater", "DetailType": "Breaker state changed", "Detail": "{}", "EventBusName": "default"}


def test_events_are_published_beside_a_scheduled_lambda_rule(embedded, provider):
    embedded.deploy()  # the transitions function's heartbeat: a schedule-only rule with a Lambda target

    response = embedded.client("events").put_events(Entries=[EVENT])

    assert response["FailedEntryCount"] == 0


def test_without_the_rule_patch_a_scheduled_lambda_rule_breaks_put_events(embedded, provider):
    embedded.deploy()

    with compat.disabled("events_schedule_rules"), pytest.raises(NotImplementedError):
        embedded.client("events").put_events(Entries=[EVENT])


# -- execution_names -----------------------------------------------------------------------


def test_unnamed_executions_get_distinct_uuid_names(embedded):
    sfn = embedded.client("stepfunctions")
    arn = machine(embedded, JSONATA)

    first = sfn.start_execution(stateMachineArn=arn, input='{"a": 1, "b": 2}')["executionArn"]
    second = sfn.start_execution(stateMachineArn=arn, input='{"a": 1, "b": 2}')["executionArn"]

    names = [a.rsplit(":", 1)[-1] for a in (first, second)]
    assert names[0] != names[1]
    assert all(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", n) for n in names)
    assert sfn.describe_execution(executionArn=first)["name"] == names[0]


def test_without_the_name_patch_an_unnamed_execution_is_called_none(embedded):
    sfn = embedded.client("stepfunctions")
    arn = machine(embedded, JSONATA)

    with compat.disabled("execution_names"):
        started = sfn.start_execution(stateMachineArn=arn, input='{"a": 1, "b": 2}')["executionArn"]

    assert started.endswith(":None")


# -- cloudformation_updates ------------------------------------------------------------------


def change_set_deploy(embedded: Any, stack_name: str, kind: str, **parameters: str) -> dict[str, Any]:
    """What `sam deploy` does: a change set of the packaged template (SAM transform left to the service)."""
    from breakwater.local.deploy import CAPABILITIES, package
    from breakwater.local.stack import seed_api_key
    from breakwater.template import load_template

    cfn = embedded.client("cloudformation")
    name = unique_name("cs")
    parameters.setdefault("PaymentApiKeySecretArn", seed_api_key(embedded.client("secretsmanager"), embedded.provider))
    cfn.create_change_set(
        StackName=stack_name,
        ChangeSetName=name,
        ChangeSetType=kind,
        TemplateBody=json.dumps(package(load_template(), embedded.client("s3"))),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=CAPABILITIES,
    )
    cfn.execute_change_set(ChangeSetName=name, StackName=stack_name)
    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}


def test_a_stack_updates_twice_in_a_row_with_new_parameters(embedded, provider):
    # given: a stack created with two parameters, as a first `sam deploy` makes it
    stack_name = unique_name("upd")
    first = change_set_deploy(embedded, stack_name, "CREATE", PaymentApiUrl=provider.url, FailureThreshold="2")

    # when: the second deploy also names a parameter the log groups use (they must be updated)
    second = change_set_deploy(
        embedded, stack_name, "UPDATE", PaymentApiUrl=provider.url, FailureThreshold="3", LogRetentionDays="30"
    )
    third = change_set_deploy(embedded, stack_name, "UPDATE", PaymentApiUrl=provider.url, FailureThreshold="4")

    # then: the same state machine, its definition carrying the newest threshold, still runs
    definition = embedded.client("stepfunctions").describe_state_machine(stateMachineArn=third["StateMachineArn"])
    assert first["StateMachineArn"] == second["StateMachineArn"] == third["StateMachineArn"]
    assert re.search(r"\$counted >= 4\b", definition["definition"])  # the newest FailureThreshold
    result = run(embedded.client("stepfunctions"), third["StateMachineArn"], order())
    assert result.output["status"] == "charged"


def test_without_the_update_patch_the_second_deploy_fails(embedded, provider):
    stack_name = unique_name("upd")
    change_set_deploy(embedded, stack_name, "CREATE", PaymentApiUrl=provider.url, FailureThreshold="2")

    with compat.disabled("cloudformation_updates"), pytest.raises(ClientError, match="StateMachineLogs"):
        change_set_deploy(
            embedded, stack_name, "UPDATE", PaymentApiUrl=provider.url, FailureThreshold="3", LogRetentionDays="30"
        )


# -- task_clients_reused ------------------------------------------------------------------------


def test_tasks_share_one_client_per_service(embedded, provider):
    import boto3
    from moto.stepfunctions.parser.asl.utils import boto_client as boto_client_module

    stack = embedded.deploy()
    embedded.run(stack, order())  # the clients of this stack's tasks exist from now on
    real = boto3.client

    def created_during(runs: int) -> int:
        with mock.patch.object(boto_client_module.boto3, "client", side_effect=real) as client:
            results = [embedded.run(stack, order()) for _ in range(runs)]
        assert {r.output["status"] for r in results} == {"charged"}
        return client.call_count

    assert created_during(3) == 0
    with compat.disabled("task_clients_reused"):
        assert created_during(3) >= 6  # a GetItem client and a Lambda client for every execution


# -- cloudformation_sam ----------------------------------------------------------------------------


def test_a_change_set_of_the_sam_template_deploys_the_application(embedded, provider):
    outputs = change_set_deploy(embedded, unique_name("sam"), "CREATE", PaymentApiUrl=provider.url)

    assert outputs["StateMachineArn"].startswith("arn:aws:states:")
    assert run(embedded.client("stepfunctions"), outputs["StateMachineArn"], order()).output["status"] == "charged"


@pytest.mark.filterwarnings("ignore:Tried to parse AWS..Serverless")  # what moto says of the untranslated template
def test_without_the_sam_patch_a_change_set_stack_has_no_application(embedded, provider):
    stack_name = unique_name("sam")
    with compat.disabled("cloudformation_sam"):
        try:
            outputs = change_set_deploy(embedded, stack_name, "CREATE", PaymentApiUrl=provider.url)
        except (ClientError, KeyError):  # the transform never ran: the Serverless resources are not there
            outputs = {}

    assert "StateMachineArn" not in outputs


# -- sqs_event_source --------------------------------------------------------------------------------


def queued_now(embedded: Any, url: str) -> int:
    attributes = embedded.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def test_a_queued_order_waits_on_the_queue_for_the_poller(embedded, provider):
    stack = embedded.deploy()
    provider.configure(mode="down")

    result = embedded.run(stack, order())

    assert result.output["status"] == "queued"
    assert queued_now(embedded, stack.queue_url) == 1  # nobody consumed it inside SendMessage


def test_without_the_event_source_patch_moto_consumes_the_order_inside_send_message(embedded, provider):
    with compat.disabled("sqs_event_source"):
        stack = embedded.deploy()
    provider.configure(mode="down")

    embedded.run(stack, order())

    assert queued_now(embedded, stack.queue_url) == 0


# -- start_sync_execution ------------------------------------------------------------------------------


def sync_client(embedded: Any) -> Any:
    import boto3
    from botocore.config import Config

    # The in-process mock answers only hosts it knows: no "sync-" host prefix (local up serves one endpoint too).
    return boto3.client("stepfunctions", region_name=embedded.region, config=Config(inject_host_prefix=False))


def test_an_express_workflow_runs_synchronously(embedded, provider):
    stack = embedded.deploy(WorkflowType="EXPRESS")

    answer = sync_client(embedded).start_sync_execution(
        stateMachineArn=stack.state_machine_arn, input=json.dumps(order())
    )

    assert answer["status"] == "SUCCEEDED"
    assert json.loads(answer["output"])["status"] == "charged"


def test_a_standard_workflow_refuses_to_run_synchronously_as_on_aws(embedded, provider):
    stack = embedded.deploy()

    with pytest.raises(ClientError, match="StateMachineTypeNotSupported"):
        sync_client(embedded).start_sync_execution(stateMachineArn=stack.state_machine_arn, input=json.dumps(order()))


def test_without_the_sync_patch_start_sync_execution_is_not_implemented(embedded, provider):
    stack = embedded.deploy(WorkflowType="EXPRESS")

    with compat.disabled("start_sync_execution"), pytest.raises((ClientError, NotImplementedError)):
        sync_client(embedded).start_sync_execution(stateMachineArn=stack.state_machine_arn, input=json.dumps(order()))


# -- execution_requests: EXPRESS names ----------------------------------------------------------------------------


def test_an_express_workflow_runs_again_under_a_name_used_before(embedded, provider):
    stack = embedded.deploy(WorkflowType="EXPRESS")
    run = {"stateMachineArn": stack.state_machine_arn, "name": unique_name("again"), "input": json.dumps(order())}

    answers = [sync_client(embedded).start_sync_execution(**run) for _ in range(2)]

    assert [answer["status"] for answer in answers] == ["SUCCEEDED", "SUCCEEDED"]


def test_without_the_execution_requests_patch_a_name_used_before_is_refused(embedded, provider):
    stack = embedded.deploy(WorkflowType="EXPRESS")
    run = {"stateMachineArn": stack.state_machine_arn, "name": unique_name("again"), "input": json.dumps(order())}
    sync_client(embedded).start_sync_execution(**run)

    with compat.disabled("execution_requests"), pytest.raises(ClientError, match="ExecutionAlreadyExists"):
        sync_client(embedded).start_sync_execution(**run)


def test_a_standard_workflow_still_refuses_a_finished_execution_s_name(embedded, provider):
    stack = embedded.deploy()
    name = unique_name("standard")
    embedded.run(stack, order(), name=name)

    with pytest.raises(ClientError, match="ExecutionAlreadyExists"):
        embedded.client("stepfunctions").start_execution(
            stateMachineArn=stack.state_machine_arn, name=name, input=json.dumps(order())
        )


# -- cloudformation_table_ttl ------------------------------------------------------------------------------


def ttl_of(embedded: Any, stack: Any) -> dict[str, Any]:
    answer = embedded.client("dynamodb").describe_time_to_live(TableName=stack.orders_table)
    return dict(answer["TimeToLiveDescription"])


def test_a_stack_table_has_the_ttl_its_template_gives(embedded):
    assert ttl_of(embedded, embedded.deploy()) == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiresAt"}


def test_without_the_table_ttl_patch_the_table_has_no_ttl(embedded):
    with compat.disabled("cloudformation_table_ttl"):
        stack = embedded.deploy()

    assert ttl_of(embedded, stack) == {"TimeToLiveStatus": "DISABLED"}


# -- cloudformation_apigatewayv2 ---------------------------------------------------------------------------


def test_a_stack_s_http_api_is_in_api_gateway_with_its_routes_and_stage(embedded, provider):
    stack = embedded.deploy(CheckoutApi="true", WorkflowType="EXPRESS")
    api = embedded.client("apigatewayv2")
    api_id = stack.outputs["CheckoutApiId"]

    routes = {r["RouteKey"]: r["AuthorizationType"] for r in api.get_routes(ApiId=api_id)["Items"]}
    (integration,) = api.get_integrations(ApiId=api_id)["Items"]
    (stage,) = api.get_stages(ApiId=api_id)["Items"]

    assert routes == {"POST /orders": "AWS_IAM", "GET /orders/{orderId}": "AWS_IAM"}
    assert (integration["IntegrationType"], integration["TimeoutInMillis"]) == ("AWS_PROXY", 29000)
    assert integration["IntegrationUri"] == stack.outputs["CheckoutFunctionArn"]
    assert stage["StageName"] == "$default" and "AccessLogSettings" in stage
    assert stack.outputs["CheckoutApiUrl"] == api.get_api(ApiId=api_id)["ApiEndpoint"]


def test_without_the_http_api_patch_the_stack_has_no_api(embedded, provider):
    before = {a["ApiId"] for a in embedded.client("apigatewayv2").get_apis()["Items"]}

    with compat.disabled("cloudformation_apigatewayv2"):
        embedded.deploy(CheckoutApi="true", WorkflowType="EXPRESS")

    assert {a["ApiId"] for a in embedded.client("apigatewayv2").get_apis()["Items"]} == before


# -- parse_once (validation) ------------------------------------------------------------------------


def test_creating_a_machine_parses_its_definition_once_for_validation_and_executions(embedded):
    from moto.stepfunctions.parser.asl.parse import asl_parser

    definition = {**JSONATA, "Comment": unique_name("once")}  # a definition no earlier test parsed
    original = asl_parser.AmazonStateLanguageParser.parse
    with mock.patch.object(asl_parser.AmazonStateLanguageParser, "parse", side_effect=original) as parse:
        arn = machine(embedded, definition)
        result = run(embedded.client("stepfunctions"), arn, {"a": 2, "b": 3})
        patched = parse.call_count
        parse.reset_mock()
        with compat.disabled("parse_once"):
            arn = machine(embedded, {**definition, "Comment": unique_name("twice")})
            run(embedded.client("stepfunctions"), arn, {"a": 2, "b": 3})

    assert result.output == {"total": 5}
    assert patched == 1
    assert parse.call_count == 2  # moto: once to validate, once more for the execution


def test_an_invalid_definition_is_refused_as_aws_names_it_with_motos_message(embedded):
    sfn = embedded.client("stepfunctions")
    bad = json.dumps({"StartAt": "Nowhere", "States": {"A": {"Type": "Bogus", "End": True}}})

    with pytest.raises(ClientError) as refused:
        sfn.create_state_machine(name=unique_name("bad"), definition=bad, roleArn=ROLE)
    with compat.disabled("parse_once"), pytest.raises(ClientError) as refused_by_moto:
        sfn.create_state_machine(name=unique_name("bad"), definition=bad, roleArn=ROLE)

    assert refused.value.response["Error"]["Code"] == "InvalidDefinition"
    assert refused_by_moto.value.response["Error"]["Code"] == ""  # moto's parser exceptions lose their code
    assert refused.value.response["Error"]["Message"] == refused_by_moto.value.response["Error"]["Message"]
    assert "Bogus" in refused.value.response["Error"]["Message"]


# -- template_json ----------------------------------------------------------------------------------


def test_a_json_template_is_read_as_json_and_gives_the_same_document():
    import yaml
    from moto.cloudformation.models import Stack as FakeStack

    body = json.dumps(
        {"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "yes", "Delay": 1.5, "N": None}}}}
    )
    with mock.patch.object(yaml, "load", side_effect=yaml.load) as yaml_load:
        read = FakeStack.parse_template(body)
        with compat.disabled("template_json"):
            read_by_moto = FakeStack.parse_template(body)

    assert read == read_by_moto == json.loads(body)
    assert yaml_load.call_count == 1  # only without the patch


def test_a_yaml_template_still_goes_to_motos_yaml_loader():
    from moto.cloudformation.models import Stack as FakeStack

    body = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: !Sub '${AWS::StackName}-q'\n"

    assert FakeStack.parse_template(body) == {
        "Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Fn::Sub": "${AWS::StackName}-q"}}}}
    }


# -- kms_keys_lazy ----------------------------------------------------------------------------------


def test_a_kms_key_makes_its_signing_key_only_when_one_is_used(embedded):
    from moto.kms import utils as kms_utils

    kms = embedded.client("kms")
    original = kms_utils.rsa.generate_private_key
    with mock.patch.object(kms_utils.rsa, "generate_private_key", side_effect=original) as generate:
        kms.create_key(KeySpec="SYMMETRIC_DEFAULT")
        lazily = generate.call_count
        signing = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
        signature = kms.sign(KeyId=signing, Message=b"m", SigningAlgorithm="RSASSA_PSS_SHA_256")["Signature"]
        verified = kms.verify(KeyId=signing, Message=b"m", Signature=signature, SigningAlgorithm="RSASSA_PSS_SHA_256")[
            "SignatureValid"
        ]
        with compat.disabled("kms_keys_lazy"):
            kms.create_key(KeySpec="SYMMETRIC_DEFAULT")

    assert lazily == 0
    assert verified is True
    assert generate.call_count == 2  # the signing key at its first use, and the symmetric key moto made eagerly


# -- states_all_terminal ---------------------------------------------------------------------------


def test_an_error_inside_the_stack_fails_the_execution_as_states_runtime_does_on_aws(embedded, provider):
    """A task that raises inside moto (not the service's answer) is States.Runtime: no States.ALL may hide it.

    This was the soak's lost order (issue 11): a KeyError in the SQS task's client creation ended, through
    the workflow's last-resort catcher, as FallbackUnavailable, which looked like the workflow's own doing.
    """
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_sqs

    stack = embedded.deploy(FailureThreshold=1)
    provider.configure(mode="down")

    def broken(**_: Any) -> Any:
        raise KeyError("FUNCTION_VARIABLE")  # what os.environ's iteration raised

    with mock.patch.object(state_task_service_sqs, "boto_client_for", side_effect=broken):
        aws = embedded.run(stack, order())
        with compat.disabled("states_all_terminal"):
            moto = embedded.run(stack, order())

    assert (aws.status, aws.error) == ("FAILED", "States.Runtime")
    assert "FUNCTION_VARIABLE" in (aws.cause or "")
    # What the soak's report says of such an order: the task, its error and cause, no retries.
    call, task = failure_detail(aws)["failedTasks"]
    assert (call["state"], call["error"]) == ("Call payment provider", "PaymentServiceUnavailable")
    assert (task["state"], task["error"], task["retries"]) == ("Queue order for later", "States.Runtime", 0)
    assert "FUNCTION_VARIABLE" in task["cause"]
    assert (moto.status, moto.error) == ("FAILED", "FallbackUnavailable")  # caught by the Catch on States.ALL


# -- operation_models ------------------------------------------------------------------------------


def test_a_service_model_hands_out_motos_operation_model_whoever_asked_first():
    """moto's operation_model first asks botocore's, which caches under the same key: a thread asking in
    between got botocore's model (no http_trait), and routing its request failed. Shown without threads:
    botocore's call, as moto's makes it, and then moto's."""
    import botocore.loaders
    from botocore.model import ServiceModel as BotocoreServiceModel
    from moto.core.model import ServiceModel

    compat.apply()
    description = botocore.loaders.Loader().load_service_model("lambda", "service-2")

    def asked_in_between() -> Any:
        model = ServiceModel(description, "lambda")
        BotocoreServiceModel.operation_model(model, "Invoke")  # moto's call is here, not yet done
        return model.operation_model("Invoke")  # the other thread's

    assert asked_in_between().http_trait.path == "/2015-03-31/functions/{FunctionName}/invocations"
    with compat.disabled("operation_models"):
        assert not hasattr(asked_in_between(), "http_trait")


def test_threads_asking_at_once_for_a_fresh_services_models_all_get_motos():
    import sys
    import threading

    import botocore.loaders
    from moto.core.model import ServiceModel

    compat.apply()
    description = botocore.loaders.Loader().load_service_model("lambda", "service-2")

    def plain_models_handed_out(trials: int = 30) -> int:
        wrong = []
        for _ in range(trials):
            model, start = ServiceModel(description, "lambda"), threading.Barrier(8)

            def route_everything(model: Any = model, start: threading.Barrier = start) -> None:
                start.wait()
                wrong.extend(n for n in model.operation_names if not hasattr(model.operation_model(n), "http_trait"))

            threads = [threading.Thread(target=route_everything) for _ in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        return len(wrong)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads switch as often as they can: the window is a few bytecodes wide
    try:
        with_patch = plain_models_handed_out()
        with compat.disabled("operation_models"):
            without = plain_models_handed_out()
    finally:
        sys.setswitchinterval(interval)
    assert (with_patch, without > 0) == (0, True), without


# -- the registry ------------------------------------------------------------------------------------------


def test_every_patch_has_a_test_that_runs_without_it():
    sources = "\n".join(path.read_text() for path in Path(__file__).parent.parent.rglob("test_*.py"))
    proven = set(re.findall(r'compat\.disabled\("([a-z0-9_]+)"\)', sources))

    assert proven == set(compat.PATCHES)
    # Each has its row in docs/local-stack.md, generated from its module's docstring (tests/unit/test_docgen.py).
    assert set(compat.PATCHES) == {name for name in compat.MODULES if name != "task_clients"} | {"task_clients_reused"}
