"""TestState on the embedded stack, as the API reference defines it: each class of request, its answer's shape, and
the requests AWS refuses. AWS's own answers to some 200 requests are replayed in tests/parity; these tests cover
each input class directly. (The workflow's states: tests/teststate; over HTTP, ``local up``: tests/e2e.)
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from breakwater.local import compat

ROLE = "arn:aws:iam::123456789012:role/breakwater-test"
LAMBDA_TASK = {
    "Type": "Task",
    "Resource": "arn:aws:states:::lambda:invoke",
    "Parameters": {"FunctionName": "a-function", "Payload.$": "$"},
    "Retry": [{"ErrorEquals": ["Lambda.ServiceException"], "MaxAttempts": 2, "IntervalSeconds": 3}],
    "Catch": [{"ErrorEquals": ["Boom"], "Next": "Handled"}],
    "End": True,
}


@pytest.fixture
def sfn(embedded: Any) -> Any:
    return embedded.client("stepfunctions")


def test_state(sfn: Any, state: dict[str, Any], **request: Any) -> dict[str, Any]:
    answer = dict(sfn.test_state(definition=json.dumps(state), **request))
    answer.pop("ResponseMetadata")
    return answer


test_state.__test__ = False  # type: ignore[attr-defined]


def refusal(sfn: Any, **request: Any) -> dict[str, str]:
    with pytest.raises(ClientError) as refused:
        sfn.test_state(**request)
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return dict(refused.value.response["Error"])


# -- the states AWS tests without a mock -------------------------------------------------------------------------


def test_a_pass_state_answers_its_output_and_next_state(sfn):
    state = {"Type": "Pass", "Parameters": {"sum.$": "States.MathAdd($.a, 1)"}, "ResultPath": "$.r", "Next": "After"}

    assert test_state(sfn, state, input='{"a": 1}') == {
        "output": '{"a":1,"r":{"sum":2}}',
        "nextState": "After",
        "status": "SUCCEEDED",
    }


def test_a_choice_answers_the_next_state_it_chose(sfn):
    state = {
        "Type": "Choice",
        "Choices": [{"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"}],
        "Default": "Small",
    }

    assert test_state(sfn, state, input='{"n": 11}')["nextState"] == "Big"
    assert test_state(sfn, state, input='{"n": 1}')["nextState"] == "Small"


def test_a_fail_state_answers_failed_with_its_error_and_cause(sfn):
    answer = test_state(sfn, {"Type": "Fail", "Error": "Nope", "Cause": "because"})

    assert answer == {"error": "Nope", "cause": "because", "status": "FAILED"}


@pytest.mark.parametrize("state", [{"Type": "Succeed"}, {"Type": "Wait", "Seconds": 0, "End": True}])
def test_succeed_and_wait_states_succeed(sfn, state):
    assert test_state(sfn, state, input='{"x": 1}') == {"output": '{"x": 1}', "status": "SUCCEEDED"}


# -- stateName, variables, context ---------------------------------------------------------------------------------

MACHINE = {
    "QueryLanguage": "JSONata",
    "StartAt": "First",
    "States": {
        "First": {"Type": "Pass", "Next": "Second"},
        "Second": {
            "Type": "Pass",
            "Assign": {"total": "{% $total + $states.input.n %}"},
            "Output": {"who": "{% $states.context.Execution.Name %}", "total": "{% $total + $states.input.n %}"},
            "Next": "Third",
        },
        "Third": {"Type": "Succeed"},
    },
}


def test_a_state_named_in_a_whole_definition_runs_with_the_variables_and_context_given(sfn):
    answer = test_state(
        sfn,
        MACHINE,
        stateName="Second",
        input='{"n": 2}',
        variables='{"total": 40}',
        context='{"Execution": {"Name": "my-execution"}}',
        inspectionLevel="DEBUG",
    )

    assert json.loads(answer["output"]) == {"who": "my-execution", "total": 42}
    assert answer["nextState"] == "Third"
    assert json.loads(answer["inspectionData"]["variables"]) == {"total": 42}


def test_a_state_inside_a_map_is_found_by_its_name(sfn):
    machine = {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemProcessor": {
                    "StartAt": "Double",
                    "States": {
                        "Double": {"Type": "Pass", "Parameters": {"v.$": "States.MathAdd($.v, $.v)"}, "End": True}
                    },
                },
                "End": True,
            }
        },
    }

    answer = test_state(sfn, machine, stateName="Double", input='{"v": 2}')

    assert (answer["status"], answer["output"]) == ("SUCCEEDED", '{"v":4}')


def test_a_state_name_the_definition_does_not_have_is_refused(sfn):
    assert refusal(sfn, definition=json.dumps(MACHINE), stateName="Fourth") == {
        "Code": "ValidationException",
        "Message": "State not found in definition",
    }


# -- inspection levels ---------------------------------------------------------------------------------------------


def test_info_answers_no_inspection_data_and_debug_answers_each_step(sfn):
    state = {
        "Type": "Pass",
        "InputPath": "$.in",
        "Parameters": {"v.$": "$.v"},
        "ResultSelector": {"w.$": "$.v"},
        "ResultPath": "$.out",
        "OutputPath": "$.out",
        "End": True,
    }
    request = {"input": '{"in": {"v": 1}}'}

    info = test_state(sfn, state, **request, inspectionLevel="INFO")
    debug = test_state(sfn, state, **request, inspectionLevel="DEBUG")

    assert "inspectionData" not in info
    assert {k: json.loads(v) for k, v in debug["inspectionData"].items()} == {
        "input": {"in": {"v": 1}},
        "afterInputPath": {"v": 1},
        "afterParameters": {"v": 1},
        "afterResultSelector": {"v": 1},
        "afterResultPath": {"in": {"v": 1}, "out": {"v": 1}},  # ResultPath writes into the state's input
    }
    assert debug["output"] == info["output"] == '{"v":1}'


# -- mocks and their three validation modes ---------------------------------------------------------------------------


def test_a_mocked_result_is_the_tasks_result_without_a_role(sfn):
    answer = test_state(
        sfn, LAMBDA_TASK, input='{"a": 1}', mock={"result": '{"Payload": {"ok": true}, "StatusCode": 200}'}
    )

    assert answer == {"output": '{"Payload": {"ok": true}, "StatusCode": 200}', "status": "SUCCEEDED"}


@pytest.mark.parametrize(
    ("mode", "result", "message"),
    [
        ("STRICT", '{"StatusCode": "200"}', "Mock result schema validation error: Field 'StatusCode' must be a number"),
        (
            "PRESENT",
            '{"StatusCode": "200"}',
            "Mock result schema validation error: Field 'StatusCode' must be a number",
        ),
        ("NONE", '{"StatusCode": "200"}', None),
    ],
)
def test_a_mocked_result_is_checked_against_the_apis_shape_as_its_mode_says(sfn, mode, result, message):
    mock = {"result": result, "fieldValidationMode": mode}
    if message is None:
        assert test_state(sfn, LAMBDA_TASK, mock=mock)["status"] == "SUCCEEDED"
    else:
        assert refusal(sfn, definition=json.dumps(LAMBDA_TASK), mock=mock) == {
            "Code": "ValidationException",
            "Message": message,
        }


def test_strict_needs_the_required_fields_and_present_does_not(sfn):
    task = {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sfn:startExecution", "End": True}

    strict = refusal(sfn, definition=json.dumps(task), mock={"result": "{}"})
    present = test_state(sfn, task, mock={"result": "{}", "fieldValidationMode": "PRESENT"})

    assert strict["Message"] == "Mock result schema validation error: Required field 'ExecutionArn' is missing"
    assert present["status"] == "SUCCEEDED"


def test_a_mocked_error_is_caught_as_the_catch_says(sfn):
    answer = test_state(
        sfn,
        LAMBDA_TASK,
        input='{"a": 1}',
        mock={"errorOutput": {"error": "Boom", "cause": "it broke"}},
        inspectionLevel="DEBUG",
    )

    assert (answer["status"], answer["nextState"], answer["error"], answer["cause"]) == (
        "CAUGHT_ERROR",
        "Handled",
        "Boom",
        "it broke",
    )
    assert json.loads(answer["output"]) == {"Error": "Boom", "Cause": "it broke"}
    assert answer["inspectionData"]["errorDetails"] == {"catchIndex": 0}


def test_a_mocked_error_the_retrier_retries_is_retriable_until_the_retries_are_spent(sfn):
    mock = {"errorOutput": {"error": "Lambda.ServiceException", "cause": "down"}}

    answers = [
        test_state(
            sfn, LAMBDA_TASK, mock=mock, inspectionLevel="DEBUG", stateConfiguration={"retrierRetryCount": count}
        )
        for count in range(3)
    ]

    assert [a["status"] for a in answers] == ["RETRIABLE", "RETRIABLE", "FAILED"]
    assert [a["inspectionData"]["errorDetails"].get("retryBackoffIntervalSeconds") for a in answers[:2]] == [3, 6]
    assert "nextState" not in answers[0]


# -- requests AWS refuses ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_", "code", "message"),
    [
        (
            {"definition": "{not json"},
            "InvalidDefinition",
            "Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION'",
        ),
        (
            {"definition": json.dumps({"Type": "Pass", "End": True}), "input": "{bad"},
            "InvalidExecutionInput",
            "Invalid State Machine Execution Input: 'Invalid execution input.'",
        ),
        (
            {"definition": json.dumps({"Type": "Pass", "End": True}), "inspectionLevel": "LOUD"},
            "ValidationException",
            "1 validation error detected: Value 'LOUD' at 'inspectionLevel' failed to satisfy constraint: Member must "
            "satisfy enum value set: [INFO, DEBUG, TRACE]",
        ),
        (
            {"definition": json.dumps(LAMBDA_TASK)},
            "ValidationException",
            "RoleArn must be specified when testing a Task state",
        ),
        (
            {
                "definition": json.dumps(LAMBDA_TASK),
                "mock": {"result": "{}", "errorOutput": {"error": "E", "cause": "C"}},
            },
            "ValidationException",
            "A test mock should have only one of the following fields: [result, errorOutput].",
        ),
        (
            {"definition": json.dumps({"Type": "Pass", "End": True}), "mock": {"result": "{}"}},
            "ValidationException",
            "State type 'Pass' is not supported when a mock is specified",
        ),
        (
            {"definition": json.dumps({"Type": "Pass", "End": True}), "variables": "[1]"},
            "ValidationException",
            "Variables must be a JSON object",
        ),
    ],
    ids=["definition", "input", "inspection-level", "task-without-role", "two-mocks", "mocked-pass", "variables"],
)
def test_a_bad_request_is_refused_with_aws_error(sfn, request_, code, message):
    assert refusal(sfn, **request_) == {"Code": code, "Message": message}


def test_a_map_without_a_mock_is_refused_as_an_invalid_definition(sfn):
    state = {
        "Type": "Map",
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
        "End": True,
    }

    assert refusal(sfn, definition=json.dumps(state))["Code"] == "InvalidDefinition"


def test_a_task_without_a_mock_calls_its_service_with_the_role(sfn, embedded):
    table = "test-state-table"
    embedded.client("dynamodb").create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    embedded.client("dynamodb").put_item(TableName=table, Item={"k": {"S": "a"}, "v": {"N": "1"}})
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::dynamodb:getItem",
        "Parameters": {"TableName": table, "Key": {"k": {"S": "a"}}},
        "ResultSelector": {"v.$": "$.Item.v.N"},
        "End": True,
    }

    answer = test_state(sfn, task, roleArn=ROLE)

    assert (answer["status"], json.loads(answer["output"])) == ("SUCCEEDED", {"v": "1"})


# -- without the patches ---------------------------------------------------------------------------------------


def test_without_the_patch_test_state_is_not_implemented(sfn):
    with compat.disabled("test_state_api"), pytest.raises(NotImplementedError):
        sfn.test_state(definition=json.dumps({"Type": "Pass", "End": True}))
