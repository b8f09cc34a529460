"""The compatibility patches that make the engine answer as AWS recorded it (issue 22), each shown to be needed.

Each expected value here is AWS's, from the recordings in ``tests/parity/recordings`` (source beside each)
or AWS's documentation; the parity suite replays the recordings themselves.
"""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from typing import Any

import pytest
from botocore.exceptions import ClientError

from breakwater.executions import run, unique_name
from breakwater.local import compat

ROLE = "arn:aws:iam::123456789012:role/breakwater-test"


def machine(embedded: Any, definition: dict[str, Any]) -> str:
    # A definition of its own each time: a parse made with a patch disabled is not shared with one made with it.
    definition = {**definition, "Comment": unique_name("c")}
    sfn = embedded.client("stepfunctions")
    return sfn.create_state_machine(name=unique_name("m"), definition=json.dumps(definition), roleArn=ROLE)[
        "stateMachineArn"
    ]


def events_of(result: Any, kind: str) -> list[dict[str, Any]]:
    return [event for event in result.events if event["type"] == kind]


# -- evaluation_failed -----------------------------------------------------------------------------------------

UNDEFINED_OUTPUT = {
    "QueryLanguage": "JSONata",
    "StartAt": "State0",
    "States": {"State0": {"Type": "Pass", "Output": {"result": "{% $doesNotExist %}"}, "End": True}},
}
# AWS's answer (recorded 2024-11-21, test_assign_reference_variables BASE_UNDEFINED_OUTPUT_FIELD).
UNDEFINED_CAUSE = (
    "An error occurred while executing the state 'State0' (entered at the event id #2). The JSONata expression "
    "'$doesNotExist' specified for the field 'Output/result' returned nothing (undefined)."
)


def test_an_output_expression_that_fails_reports_evaluation_failed_with_its_field(embedded):
    result = run(embedded.client("stepfunctions"), machine(embedded, UNDEFINED_OUTPUT), {})

    assert [e["type"] for e in result.events] == [
        "ExecutionStarted",
        "PassStateEntered",
        "EvaluationFailed",
        "ExecutionFailed",
    ]
    failed = events_of(result, "EvaluationFailed")[0]
    assert failed["evaluationFailedEventDetails"] == {
        "error": "States.QueryEvaluationError",
        "cause": UNDEFINED_CAUSE,
        "location": "Output/result",
        "state": "State0",
    }
    assert failed["previousEventId"] == 0  # AWS links it to the event before the state was entered
    assert (result.error, result.cause) == ("States.QueryEvaluationError", UNDEFINED_CAUSE)


def test_an_assign_expression_that_fails_names_its_variable(embedded):
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "State0",
        "States": {"State0": {"Type": "Pass", "Assign": {"result": "{% $doesNotExist %}"}, "End": True}},
    }

    result = run(embedded.client("stepfunctions"), machine(embedded, definition), {})

    assert events_of(result, "EvaluationFailed")[0]["evaluationFailedEventDetails"]["location"] == "Assign/result"
    assert "specified for the field 'Assign/result' returned nothing" in (result.cause or "")


def test_an_arguments_expression_that_fails_is_reported_once_with_the_state_prefix(embedded):
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "State0",
        "States": {
            "State0": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Arguments": {"FunctionName": "{% $doesNotExist %}"},
                "End": True,
            }
        },
    }

    result = run(embedded.client("stepfunctions"), machine(embedded, definition), {})

    (failed,) = events_of(result, "EvaluationFailed")
    assert failed["evaluationFailedEventDetails"]["cause"].startswith(
        "An error occurred while executing the state 'State0' (entered at the event id #2). The JSONata expression "
        "'$doesNotExist' specified for the field 'Arguments/FunctionName'"
    )


def test_a_jsonata_error_is_worded_as_aws_words_it(embedded):
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "State_0",
        "States": {"State_0": {"Type": "Pass", "Output": {"FunctionResult": "{% $randomSeeded(3) %}"}, "End": True}},
    }

    result = run(embedded.client("stepfunctions"), machine(embedded, definition), {})

    assert result.cause == (
        "An error occurred while executing the state 'State_0' (entered at the event id #2). The JSONata expression "
        "'$randomSeeded(3)' specified for the field 'Output/FunctionResult' threw an error during evaluation. "
        "T1006: Attempted to invoke a non-function"
    )


def test_without_the_patch_a_failing_output_reports_no_evaluation_failed(embedded):
    with compat.disabled("evaluation_failed"):
        result = run(embedded.client("stepfunctions"), machine(embedded, UNDEFINED_OUTPUT), {})

    assert events_of(result, "EvaluationFailed") == []
    assert "specified for the field" not in (result.cause or "")


# -- assign_after_state ------------------------------------------------------------------------------------------

# AWS's recording test_state_assign_evaluation_order[BASE_EVALUATION_ORDER_PASS_STATE] (2024-11-06): 42.
EVALUATION_ORDER = {
    "StartAt": "State0",
    "States": {
        "State0": {"Type": "Pass", "Assign": {"answer": 42}, "Next": "State1"},
        "State1": {
            "Type": "Pass",
            "InputPath": "$answer",
            "ResultPath": "$.theAnswer",
            "OutputPath": "$answer",
            "Assign": {"answer": "<omitted>"},
            "End": True,
        },
    },
}


def test_a_states_own_fields_read_the_variables_from_before_its_assign(embedded):
    result = run(embedded.client("stepfunctions"), machine(embedded, EVALUATION_ORDER), {})

    assert result.output == 42
    assert result.events[-2]["stateExitedEventDetails"]["assignedVariables"] == {"answer": '"<omitted>"'}


def test_a_jsonata_output_reads_the_variables_from_before_its_assign(embedded):
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "First",
        "States": {
            "First": {"Type": "Pass", "Assign": {"count": 1}, "Next": "Second"},
            "Second": {
                "Type": "Pass",
                "Assign": {"count": "{% $count + 1 %}"},
                "Output": "{% $count %}",
                "Next": "Third",
            },
            "Third": {"Type": "Pass", "Output": "{% [$states.input, $count] %}", "End": True},
        },
    }

    result = run(embedded.client("stepfunctions"), machine(embedded, definition), {})

    assert result.output == [1, 2]


def test_without_the_patch_a_states_output_path_reads_its_own_new_value(embedded):
    with compat.disabled("assign_after_state"):
        result = run(embedded.client("stepfunctions"), machine(embedded, EVALUATION_ORDER), {})

    assert result.events[-1]["executionSucceededEventDetails"]["output"] == '"<omitted>"'


# -- assign_literals -------------------------------------------------------------------------------------------

# AWS's recording test_escape_sequence_parsing[ESCAPE_SEQUENCES_JSONATA_COMPARISON_ASSIGN] (true).
QUOTE_LITERAL = {
    "QueryLanguage": "JSONata",
    "StartAt": "Pass",
    "States": {
        "Pass": {"Type": "Pass", "Assign": {"var": '"', "path": "a\\b"}, "Next": "Check"},
        "Check": {"Type": "Pass", "Output": "{% [$var = '\"', $path] %}", "End": True},
    },
}


def test_an_assigned_string_with_a_quote_is_the_string_written(embedded):
    result = run(embedded.client("stepfunctions"), machine(embedded, QUOTE_LITERAL), {})

    assert result.output == [True, "a\\b"]
    assigned = result.events[2]["stateExitedEventDetails"]["assignedVariables"]
    assert assigned == {"var": '"\\""', "path": '"a\\\\b"'}


INTRINSICS_OF_VARIABLES = {
    "StartAt": "Assign",
    "States": {
        "Assign": {
            "Type": "Pass",
            "Assign": {"jsonString": '{"key":"value"}', "name": "John", "place": "LocalStack"},
            "Next": "Use",
        },
        "Use": {
            "Type": "Pass",
            "Parameters": {
                "parsed.$": "States.StringToJson($jsonString)",
                "formatted.$": "States.Format('Hello {}, welcome to {}!', $name, $place)",
            },
            "End": True,
        },
    },
}


def test_intrinsic_functions_read_assigned_variables_in_jsonpath_parameters(embedded):
    # AWS's recording test_reference_assign[BASE_REFERENCE_IN_INTRINSIC_FUNCTION] (2024-11-06).
    result = run(embedded.client("stepfunctions"), machine(embedded, INTRINSICS_OF_VARIABLES), {})

    assert result.output == {"parsed": {"key": "value"}, "formatted": "Hello John, welcome to LocalStack!"}


def test_without_the_literals_patch_an_intrinsic_cannot_parse_an_assigned_json_string(embedded):
    with compat.disabled("assign_literals"):
        result = run(embedded.client("stepfunctions"), machine(embedded, INTRINSICS_OF_VARIABLES), {})

    assert (result.error, "JSONDecodeError" in (result.cause or "")) == ("States.Runtime", True)


def test_without_the_patch_an_assigned_quote_keeps_its_escape(embedded):
    with compat.disabled("assign_literals"):
        result = run(embedded.client("stepfunctions"), machine(embedded, QUOTE_LITERAL), {})

    assert result.output == [False, "a\\\\b"]


# -- execution_output -------------------------------------------------------------------------------------------


def described_output(embedded: Any, output: Any) -> str:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Output": output, "End": True}},
    }
    sfn = embedded.client("stepfunctions")
    arn = sfn.start_execution(stateMachineArn=machine(embedded, definition), name=unique_name("e"))["executionArn"]
    deadline = time.monotonic() + 30
    while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the execution did not end"
        time.sleep(0.01)
    return str(described.get("output"))


def test_described_output_is_the_json_text_of_the_history(embedded):
    answers = {json.dumps(value): described_output(embedded, value) for value in ("abc", None, {"a": "b"}, [1, 2])}

    assert answers == {'"abc"': '"abc"', "null": "null", '{"a": "b"}': '{"a":"b"}', "[1, 2]": "[1,2]"}


def test_without_the_patch_a_string_output_is_described_without_its_quotes(embedded):
    with compat.disabled("execution_output"):
        assert described_output(embedded, "abc") == "abc"


# -- service_errors, dynamodb_item_api, sqs_send_message, task_null_members --------------------------------------------


def table(embedded: Any) -> str:
    name = unique_name("t").replace(":", "_")
    embedded.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def one_task(resource: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        "QueryLanguage": "JSONata",
        "StartAt": "Call",
        "States": {"Call": {"Type": "Task", "Resource": resource, "Arguments": arguments, "End": True}},
    }


PUT_ITEM = one_task(
    "arn:aws:states:::dynamodb:putItem",
    {"TableName": "{% $states.input.TableName %}", "Item": "{% $states.input.Item %}"},
)
SDK_CAUSE = r" \(Service: {service}; Status Code: {status}; Error Code: {code}; Request ID: [^;]+; Proxy: null\)"


def test_a_dynamodb_validation_error_is_the_sdks_base_exception_with_the_sdks_cause(embedded):
    # AWS (recorded 2023-05-12, test_put_item_invalid_table_name): DynamoDB.AmazonDynamoDBException.
    item = {"id": {"S": "id1"}}
    result = run(embedded.client("stepfunctions"), machine(embedded, PUT_ITEM), {"TableName": "/bad", "Item": item})

    assert result.error == "DynamoDB.AmazonDynamoDBException"
    assert re.fullmatch(
        re.escape(
            "1 validation error detected: Value '/bad' at 'tableName' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        )
        + SDK_CAUSE.format(service="AmazonDynamoDBv2", status=400, code="ValidationException"),
        result.cause or "",
    ), result.cause


def test_a_null_item_is_refused_as_dynamodb_refuses_it(embedded):
    result = run(
        embedded.client("stepfunctions"), machine(embedded, PUT_ITEM), {"TableName": table(embedded), "Item": None}
    )

    assert result.error == "DynamoDB.AmazonDynamoDBException"
    assert (result.cause or "").startswith(
        "1 validation error detected: Value null at 'item' failed to satisfy constraint: Member must not be null "
    )


def test_without_the_null_members_patch_a_null_item_fails_inside_boto3(embedded):
    with compat.disabled("task_null_members"):
        result = run(
            embedded.client("stepfunctions"), machine(embedded, PUT_ITEM), {"TableName": table(embedded), "Item": None}
        )

    assert "NoneType" in (result.cause or "")


def test_without_the_errors_patch_a_validation_error_is_named_after_its_code(embedded):
    item = {"id": {"S": "id1"}}
    with compat.disabled("service_errors"):
        result = run(embedded.client("stepfunctions"), machine(embedded, PUT_ITEM), {"TableName": "/bad", "Item": item})

    assert result.error == "DynamoDB.ValidationException"


SEND_MESSAGE = one_task(
    "arn:aws:states:::sqs:sendMessage",
    {"QueueUrl": "{% $states.input.QueueUrl %}", "MessageBody": "{% $states.input.MessageBody %}"},
)


def queue(embedded: Any) -> str:
    return str(embedded.client("sqs").create_queue(QueueName=unique_name("q").replace(":", "-"))["QueueUrl"])


def test_a_message_without_a_body_is_refused_as_sqs_refuses_it(embedded):
    # AWS (recorded 2023-06-22, test_send_message_empty_body): SQS.AmazonSQSException, MissingParameter.
    result = run(
        embedded.client("stepfunctions"),
        machine(embedded, SEND_MESSAGE),
        {"QueueUrl": queue(embedded), "MessageBody": None},
    )

    assert result.error == "SQS.AmazonSQSException"
    assert re.fullmatch(
        re.escape("The request must contain the parameter MessageBody.")
        + SDK_CAUSE.format(service="AmazonSQS", status=400, code="MissingParameter"),
        result.cause or "",
    ), result.cause


def test_an_sqs_error_the_model_declares_is_named_by_its_class(embedded):
    url = queue(embedded)
    embedded.client("sqs").delete_queue(QueueUrl=url)

    result = run(
        embedded.client("stepfunctions"), machine(embedded, SEND_MESSAGE), {"QueueUrl": url, "MessageBody": "x"}
    )

    assert result.error == "SQS.QueueDoesNotExistException"
    assert (result.cause or "").startswith("The specified queue does not exist. (Service: AmazonSQS; Status Code: 400;")


def test_without_the_send_message_patch_a_message_without_a_body_crashes_the_emulator(embedded):
    with compat.disabled("sqs_send_message"):
        result = run(
            embedded.client("stepfunctions"),
            machine(embedded, SEND_MESSAGE),
            {"QueueUrl": queue(embedded), "MessageBody": None},
        )

    assert "NoneType" in (result.cause or "")


def test_a_table_name_outside_the_pattern_is_refused_before_any_lookup(embedded):
    with pytest.raises(ClientError) as refused:
        embedded.client("dynamodb").get_item(TableName="ab", Key={"id": {"S": "a"}})

    assert refused.value.response["Error"]["Message"] == (
        "1 validation error detected: Value 'ab' at 'tableName' failed to satisfy constraint: "
        "Member must have length greater than or equal to 3"
    )
    with compat.disabled("dynamodb_item_api"), pytest.raises(ClientError) as looked_up:
        embedded.client("dynamodb").get_item(TableName="ab", Key={"id": {"S": "a"}})
    assert looked_up.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_without_the_errors_patch_every_sqs_error_is_a_client_exception(embedded):
    with compat.disabled("service_errors"):
        result = run(
            embedded.client("stepfunctions"),
            machine(embedded, SEND_MESSAGE),
            {"QueueUrl": queue(embedded), "MessageBody": None},
        )

    assert result.error == "SQS.SdkClientException"


UPDATE_ITEM = one_task(
    "arn:aws:states:::dynamodb:updateItem",
    {
        "TableName": "{% $states.input.TableName %}",
        "Key": {"id": {"S": "a"}},
        "UpdateExpression": "ADD n :one",
        "ExpressionAttributeValues": {":one": {"N": "1"}},
        "ReturnValues": "UPDATED_NEW",
    },
)


def test_update_item_answers_no_consumed_capacity_unless_asked(embedded):
    name = table(embedded)
    result = run(embedded.client("stepfunctions"), machine(embedded, UPDATE_ITEM), {"TableName": name})
    asked = embedded.client("dynamodb").update_item(
        TableName=name,
        Key={"id": {"S": "a"}},
        UpdateExpression="ADD n :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
        ReturnConsumedCapacity="TOTAL",
    )

    assert {k: v for k, v in result.output.items() if not k.startswith("Sdk")} == {"Attributes": {"n": {"N": "1"}}}
    assert asked["ConsumedCapacity"] == {"TableName": name, "CapacityUnits": 1.0}


def test_without_the_patch_update_item_answers_consumed_capacity_and_the_new_items_key(embedded):
    with compat.disabled("dynamodb_item_api"):
        result = run(embedded.client("stepfunctions"), machine(embedded, UPDATE_ITEM), {"TableName": table(embedded)})

    assert "ConsumedCapacity" in result.output
    assert result.output["Attributes"] == {"id": {"S": "a"}, "n": {"N": "1"}}


def test_no_two_patches_replace_the_same_attribute():
    # Patches are removed one at a time (compat.disabled): two on one attribute would undo each other.
    owners: dict[tuple[int, str], list[str]] = {}
    for patch in compat.PATCHES.values():
        for owner, attribute, _ in patch.targets:
            owners.setdefault((id(owner), attribute), []).append(patch.name)

    assert [names for names in owners.values() if len(names) > 1] == []


# -- redrive_count ------------------------------------------------------------------------------------------------

CONTEXT = {"StartAt": "P", "States": {"P": {"Type": "Pass", "InputPath": "$$.Execution", "End": True}}}


def test_the_context_objects_execution_has_redrive_count_zero(embedded):
    result = run(embedded.client("stepfunctions"), machine(embedded, CONTEXT), {})

    assert result.output["RedriveCount"] == 0


def test_without_the_patch_the_execution_has_no_redrive_count(embedded):
    with compat.disabled("redrive_count"):
        result = run(embedded.client("stepfunctions"), machine(embedded, CONTEXT), {})

    assert "RedriveCount" not in result.output


# -- runtime_error_causes -----------------------------------------------------------------------------------------

MISSING_OUTPUT_PATH = {
    "StartAt": "Shape",
    "States": {
        "Shape": {"Type": "Pass", "Result": {"a": 1}, "Next": "Pick"},
        "Pick": {"Type": "Pass", "OutputPath": "$.no.such.result.path", "End": True},
    },
}


def test_a_path_that_finds_nothing_is_worded_as_aws_words_it_with_the_states_entered_event(embedded):
    result = run(embedded.client("stepfunctions"), machine(embedded, MISSING_OUTPUT_PATH), {})

    assert (result.error, result.cause) == (
        "States.Runtime",
        "An error occurred while executing the state 'Pick' (entered at the event id #4). "
        "Invalid path '$.no.such.result.path' : Missing property in path $['no']",
    )


def test_a_missing_last_member_is_no_results(embedded):
    definition = {"StartAt": "Pick", "States": {"Pick": {"Type": "Pass", "InputPath": "$.a['b']", "End": True}}}

    result = run(embedded.client("stepfunctions"), machine(embedded, definition), {"a": {}})

    assert (result.cause or "").endswith("Invalid path '$.a['b']' : No results for path: $['a']['b']")


def test_without_the_patch_the_cause_names_moto_words(embedded):
    with compat.disabled("runtime_error_causes"):
        result = run(embedded.client("stepfunctions"), machine(embedded, MISSING_OUTPUT_PATH), {})

    assert (result.cause or "").endswith("No results for path: $['no.such.result.path']")


# -- sdk_http_metadata ----------------------------------------------------------------------------------------------


def test_a_dynamodb_task_result_carries_the_services_http_metadata(embedded):
    # The headers AWS recorded for putItem (tests/parity/recordings/dynamodb.json, 2025-11-06).
    definition = one_task(
        "arn:aws:states:::dynamodb:putItem", {"TableName": "{% $states.input.TableName %}", "Item": {"id": {"S": "a"}}}
    )

    result = run(embedded.client("stepfunctions"), machine(embedded, definition), {"TableName": table(embedded)})

    metadata = result.output["SdkHttpMetadata"]
    assert sorted(metadata["HttpHeaders"]) == [
        "Connection",
        "Content-Length",
        "Content-Type",
        "Date",
        "Server",
        "x-amz-crc32",
        "x-amzn-RequestId",
    ]
    assert (metadata["HttpHeaders"]["Content-Length"], metadata["HttpStatusCode"]) == ("2", 200)
    assert metadata["AllHttpHeaders"]["Content-Type"] == ["application/x-amz-json-1.0"]
    assert result.output["SdkResponseMetadata"]["RequestId"] == metadata["HttpHeaders"]["x-amzn-RequestId"]


def test_without_the_patch_a_task_result_has_no_http_metadata(embedded):
    definition = one_task(
        "arn:aws:states:::dynamodb:putItem", {"TableName": "{% $states.input.TableName %}", "Item": {"id": {"S": "a"}}}
    )
    with compat.disabled("sdk_http_metadata"):
        result = run(embedded.client("stepfunctions"), machine(embedded, definition), {"TableName": table(embedded)})

    assert result.output == {}


# -- lambda_not_found, lambda_task_cause --------------------------------------------------------------------------


def test_invoking_a_missing_function_names_the_version_looked_for(embedded):
    with pytest.raises(ClientError) as missing:
        embedded.client("lambda").invoke(FunctionName="no_such_function")

    assert missing.value.response["Error"]["Message"] == (
        "Function not found: arn:aws:lambda:us-east-1:123456789012:function:no_such_function:$LATEST"
    )


def test_without_the_patch_the_missing_function_has_no_version(embedded):
    with compat.disabled("lambda_not_found"), pytest.raises(ClientError) as missing:
        embedded.client("lambda").invoke(FunctionName="no_such_function")

    assert missing.value.response["Error"]["Message"].endswith(":function:no_such_function")


def raising_function(embedded: Any) -> str:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as package:
        package.writestr("handler.py", 'def handler(event, context):\n    raise ValueError("no")\n')
    iam = embedded.client("iam")
    trust = {
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    }
    role = iam.create_role(RoleName=unique_name("r").replace(":", "-"), AssumeRolePolicyDocument=json.dumps(trust))
    created = embedded.client("lambda").create_function(
        FunctionName=unique_name("f").replace(":", "-"),
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="handler.handler",
        Code={"ZipFile": archive.getvalue()},
    )
    return str(created["FunctionArn"])


def function_arn_task(arn: str) -> dict[str, Any]:
    return {"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": arn, "End": True}}}


def test_a_function_arn_tasks_cause_is_the_payload_as_the_function_wrote_it(embedded):
    result = run(embedded.client("stepfunctions"), machine(embedded, function_arn_task(raising_function(embedded))), {})

    assert result.error == "ValueError"
    assert (result.cause or "").startswith('{"errorMessage": "no", "errorType": "ValueError", "requestId": "')


def test_without_the_patch_the_cause_is_re_encoded_compactly(embedded):
    arn = raising_function(embedded)
    with compat.disabled("lambda_task_cause"):
        result = run(embedded.client("stepfunctions"), machine(embedded, function_arn_task(arn)), {})

    assert (result.cause or "").startswith('{"errorMessage":"no","errorType":"ValueError"')


# -- execution_requests -------------------------------------------------------------------------------------------

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


def refused(embedded: Any, **request: Any) -> dict[str, str]:
    sfn = embedded.client("stepfunctions")
    with pytest.raises(ClientError) as error:
        sfn.start_execution(stateMachineArn=machine(embedded, PASS), **request)
    return dict(error.value.response["Error"])


@pytest.mark.parametrize("name", ["an order", "<img src=x>", "a/b", "tab\there", "x" * 81])
def test_a_name_aws_refuses_is_refused(embedded, name):
    answer = refused(embedded, name=name)

    if len(name) > 80:
        assert answer == {
            "Code": "ValidationException",
            "Message": f"1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: "
            "Member must have length less than or equal to 80",
        }
    else:
        assert answer == {"Code": "InvalidName", "Message": f"Invalid Name: '{name}'"}


@pytest.mark.parametrize(
    ("text", "message"),
    [  # AWS's answers, recorded 2023-06-22 (test_sfn_api, test_invalid_start_execution_input)
        (
            "not some json",
            "Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or "
            "'false')",
        ),
        ("{'not': 'json'", "Unexpected character (''' (code 39)): was expecting double-quote to start field name"),
        ("", "Invalid execution input."),
    ],
)
def test_input_that_is_not_json_is_refused_as_aws_words_it(embedded, text, message):
    assert refused(embedded, input=text) == {
        "Code": "InvalidExecutionInput",
        "Message": f"Invalid State Machine Execution Input: '{message}'",
    }


def test_an_input_over_256_kib_is_refused(embedded):
    answer = refused(embedded, input=json.dumps({"pad": "x" * 262144}))

    assert answer["Code"] == "ValidationException"
    assert answer["Message"].endswith("Member must have length less than or equal to 262144")


def test_without_the_patch_a_name_with_a_space_starts_an_execution(embedded):
    sfn = embedded.client("stepfunctions")
    with compat.disabled("execution_requests"):
        started = sfn.start_execution(stateMachineArn=machine(embedded, PASS), name="an order")

    assert started["executionArn"].endswith(":an order")


# -- wait_timestamps ----------------------------------------------------------------------------------------------

WAIT_UNTIL = {
    "QueryLanguage": "JSONata",
    "StartAt": "WaitState",
    "States": {"WaitState": {"Type": "Wait", "Timestamp": "{% $states.input.TimestampValue %}", "End": True}},
}


def test_a_jsonata_timestamp_that_is_not_iso_8601_fails_its_evaluation(embedded):
    result = run(
        embedded.client("stepfunctions"), machine(embedded, WAIT_UNTIL), {"TimestampValue": "2016-12-05T21:29:29"}
    )

    # AWS's answer, recorded 2024-12-27 (test_wait_timestamp_jsonata[NO_Z])
    cause = (
        "An error occurred while executing the state 'WaitState' (entered at the event id #2). The Timestamp field "
        "cannot be parsed as an ISO-8601 extended offset date-time format string: 2016-12-05T21:29:29"
    )
    assert events_of(result, "EvaluationFailed")[0]["evaluationFailedEventDetails"] == {
        "error": "States.QueryEvaluationError",
        "cause": cause,
        "location": "Timestamp",
        "state": "WaitState",
    }
    assert (result.error, result.cause) == ("States.QueryEvaluationError", cause)


def test_without_the_patch_a_bad_timestamp_is_a_runtime_error(embedded):
    with compat.disabled("wait_timestamps"):
        result = run(
            embedded.client("stepfunctions"), machine(embedded, WAIT_UNTIL), {"TimestampValue": "2016-12-05T21:29:29"}
        )

    assert result.error == "States.Runtime"
    assert events_of(result, "EvaluationFailed") == []


# -- jsonata_evaluator: JSONata's context ``$`` --------------------------------------------------------------------


def test_jsonatas_context_dollar_is_evaluated_in_a_predicate(embedded):
    # AWS's answer, recorded (TestState test_map_state_failure_count[*-MAP_TASK_STATE]): the count of ones.
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Count",
        "States": {"Count": {"Type": "Pass", "Output": "{% $count($states.input.values[$ = 1]) %}", "End": True}},
    }

    result = run(embedded.client("stepfunctions"), machine(embedded, definition), {"values": [1, 0, 1]})

    assert (result.status, result.output) == ("SUCCEEDED", 2)


# -- timeout_path_failure -----------------------------------------------------------------------------------------

TIMEOUT_PATH = {
    "StartAt": "task",
    "States": {
        "task": {
            "Type": "Task",
            "TimeoutSecondsPath": "$.NoSuchTimeoutSecondsPath",
            "Resource": "arn:aws:states:::aws-sdk:s3:listBuckets",
            "Parameters": {},
            "End": True,
        }
    },
}


def test_a_timeout_path_that_finds_nothing_fails_the_execution_once(embedded):
    result = run(embedded.client("stepfunctions"), machine(embedded, TIMEOUT_PATH), {"int-literal": 0})

    # AWS's answer, recorded 2025-01-02 (test_invalid_jsonpath[ST.INVALID_JSONPATH_IN_TIMEOUTSECONDSPATH])
    assert [e["type"] for e in result.events] == ["ExecutionStarted", "TaskStateEntered", "ExecutionFailed"]
    assert (result.error, result.cause) == (
        "States.Runtime",
        "An error occurred while executing the state 'task' (entered at the event id #2). Invalid path "
        "'$.NoSuchTimeoutSecondsPath' : No results for path: $['NoSuchTimeoutSecondsPath']",
    )


def test_without_the_patch_the_execution_fails_twice(embedded):
    with compat.disabled("timeout_path_failure"):
        result = run(embedded.client("stepfunctions"), machine(embedded, TIMEOUT_PATH), {"int-literal": 0})

    assert len(events_of(result, "ExecutionFailed")) == 2


# -- map_items_cause ----------------------------------------------------------------------------------------------

MAP_OF_INPUT = {
    "QueryLanguage": "JSONata",
    "StartAt": "Start",
    "States": {
        "Start": {"Type": "Pass", "Output": "{% $states.input.items %}", "Next": "MapIterateState"},
        "MapIterateState": {
            "Type": "Map",
            "MaxConcurrency": 1,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "Pass",
                "States": {"Pass": {"Type": "Pass", "End": True}},
            },
            "End": True,
        },
    },
}


@pytest.mark.parametrize(("items", "written"), [(True, "true"), (None, "null"), ({"foo": "bar"}, '{"foo":"bar"}')])
def test_a_map_of_something_else_than_an_array_names_the_value(embedded, items, written):
    result = run(embedded.client("stepfunctions"), machine(embedded, MAP_OF_INPUT), {"items": items})

    # AWS's answer, recorded 2024-11-19 (test_map_state_items_input_types)
    assert (result.error, result.cause) == (
        "States.QueryEvaluationError",
        "An error occurred while executing the state 'MapIterateState' (entered at the event id #4). Map state "
        f"input must be an array but was: {written}",
    )


def test_without_the_patch_the_cause_names_a_python_class(embedded):
    with compat.disabled("map_items_cause"):
        result = run(embedded.client("stepfunctions"), machine(embedded, MAP_OF_INPUT), {"items": True})

    assert (result.cause or "").endswith("<class 'bool'>")


# -- branch_error_names -------------------------------------------------------------------------------------------

MAP_FAILING_INSIDE = {
    "QueryLanguage": "JSONata",
    "StartAt": "ProcessItems",
    "States": {
        "ProcessItems": {
            "Type": "Map",
            "Items": "{% $states.input.items %}",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "Fallback",
                "States": {"Fallback": {"Type": "Pass", "Output": {"error": "{% $stateError %}"}, "End": True}},
            },
            "End": True,
        }
    },
}


def test_an_iteration_failing_with_a_states_error_fails_the_map_with_it(embedded):
    result = run(embedded.client("stepfunctions"), machine(embedded, MAP_FAILING_INSIDE), {"items": [1]})

    # As AWS recorded it, 2024-11-12 (test_map_catch_error[MAP_CATCH_ERROR_OUTPUT_WITH_RETRY]): the iteration's
    # error, and its cause with the iteration state's prefix alone.
    assert result.error == "States.QueryEvaluationError"
    assert re.fullmatch(
        r"An error occurred while executing the state 'Fallback' \(entered at the event id #\d+\)\. The JSONata "
        r"expression '\$stateError' specified for the field 'Output/error' returned nothing \(undefined\)\.",
        result.cause or "",
    )


def test_without_the_patch_a_states_error_in_an_iteration_is_a_custom_name_refused(embedded):
    with compat.disabled("branch_error_names"):
        result = run(embedded.client("stepfunctions"), machine(embedded, MAP_FAILING_INSIDE), {"items": [1]})

    assert result.error == "States.Runtime"
    assert "Custom Error Names MUST NOT begin with the prefix 'States.'" in (result.cause or "")
