"""Fixtures for the static checks of ``template.yaml`` and the state machine definition.

Everything is read from the source files on each session; nothing here copies
their content.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from breakwater.template import ASL_PATH, load_definition, load_template, resolve_parameters, translate

REGION = "us-east-1"
# The one parameter without a default; any URL matching its AllowedPattern will do.
PAYMENT_API_URL = "https://payments.example.test"
STATE_MACHINE = "CircuitBreakerStateMachine"
PAYMENT_FUNCTION = "PaymentFunction"
DUMMY_CODE_URI = "s3://breakwater-test-artifacts/PaymentFunction/code.zip"


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    return load_template()


@pytest.fixture(scope="session")
def definition() -> dict[str, Any]:
    return load_definition()


@pytest.fixture(scope="session")
def asl_text() -> str:
    return ASL_PATH.read_text()


@pytest.fixture(scope="session")
def state_machine_properties(template: dict[str, Any]) -> dict[str, Any]:
    resource = template["Resources"].get(STATE_MACHINE)
    assert resource is not None, f"template.yaml has no {STATE_MACHINE} resource"
    assert resource["Type"] == "AWS::Serverless::StateMachine"
    return resource["Properties"]  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def substitutions(state_machine_properties: dict[str, Any]) -> dict[str, Any]:
    value = state_machine_properties.get("DefinitionSubstitutions")
    assert isinstance(value, dict) and value, f"{STATE_MACHINE} has no DefinitionSubstitutions"
    return value


def packaged(template: dict[str, Any]) -> dict[str, Any]:
    """What ``sam package`` would hand to CloudFormation, without touching S3.

    The definition file is inlined (as ``breakwater.local.deploy.package`` does)
    and the function code points at a dummy S3 object.
    """
    result = copy.deepcopy(template)
    for logical_id, resource in result["Resources"].items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::StateMachine" and "DefinitionUri" in properties:
            assert logical_id == STATE_MACHINE, f"unexpected state machine {logical_id}"
            properties["Definition"] = load_definition()
            del properties["DefinitionUri"]
        elif resource["Type"] == "AWS::Serverless::Function" and "CodeUri" in properties:
            properties["CodeUri"] = DUMMY_CODE_URI
    return result


@pytest.fixture(scope="session")
def parameter_values(template: dict[str, Any]) -> dict[str, str]:
    return resolve_parameters({"PaymentApiUrl": PAYMENT_API_URL}, template)


@pytest.fixture(scope="session")
def translated(template: dict[str, Any], parameter_values: dict[str, str]) -> dict[str, Any]:
    # breakwater.template.translate passes the region as the AWS::Region value,
    # but samtranslator still builds a boto3 session and raises NoRegionFound
    # when the environment names no region; give it the same region.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_DEFAULT_REGION", REGION)
        return translate(packaged(template), parameter_values, REGION)
