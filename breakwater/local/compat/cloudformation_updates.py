"""Patch ``cloudformation_updates``: a stack update (a second ``sam deploy``) replaced a resource moto cannot
update (a LogGroup) with nothing, so the next ``Fn::GetAtt`` on it failed, and updated state machines from
``DefinitionString`` only, in the non-executing backend. Such resources now stay as they are; state machines
take their new definition, substitutions, role and settings. A resource whose Condition is false stays
uncreated through an update, as on create.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation import parsing as cfn_parsing
from moto.stepfunctions import models as sfn_models

from breakwater.local.compat.base import Patch
from breakwater.local.compat.cloudformation_sfn import (
    _create_state_machine_from_cfn,
    _definition_string,
    _sfn_backend,
    api_configuration,
)

_original_parse_and_update_resource = cfn_parsing.parse_and_update_resource


def _update_state_machine_from_cfn(
    cls: Any,
    original_resource: Any,
    new_resource_name: str,
    cloudformation_json: Any,
    account_id: str,
    region_name: str,
) -> Any:
    """Update in place (new definition, substitutions, role, logging, tracing); a new name or type replaces it."""
    properties = cloudformation_json["Properties"]
    name = properties.get("StateMachineName", original_resource.name)
    backend = _sfn_backend(account_id, region_name)
    if name != original_resource.name or properties.get("StateMachineType", "STANDARD") != original_resource.type:
        replacement = _create_state_machine_from_cfn(cls, name, cloudformation_json, account_id, region_name)
        backend.delete_state_machine(original_resource.arn)
        return replacement
    return backend.update_state_machine(
        original_resource.arn,
        definition=_definition_string(properties, account_id),
        role_arn=properties.get("RoleArn") or None,
        logging_configuration=api_configuration(properties.get("LoggingConfiguration")),
        tracing_configuration=api_configuration(properties.get("TracingConfiguration")),
    )


def _update_resource_or_keep(
    logical_id: str, resource_json: dict[str, Any], resources_map: Any, account_id: str, region_name: str
) -> Any:
    """moto's update answers None for a type it cannot update (e.g. AWS::Logs::LogGroup) and stores that
    None as the resource: keep the resource that exists instead (its properties stay as created). A resource
    whose Condition is false was not created, and an update does not create it either (moto's would, and fail
    on its first ``Fn::GetAtt`` of another such resource: the checkout API's, with CheckoutApi off)."""
    condition = resource_json.get("Condition")
    if condition and not resources_map.lazy_condition_map[condition]:
        return resources_map._parsed_resources.get(logical_id)
    updated = _original_parse_and_update_resource(logical_id, resource_json, resources_map, account_id, region_name)
    if updated is None:
        return resources_map._parsed_resources.get(logical_id)
    return updated


PATCH = Patch(
    "cloudformation_updates",
    "stack updates keep resources moto cannot update and update state machines in place",
    [
        (cfn_parsing, "parse_and_update_resource", _update_resource_or_keep),
        (
            sfn_models.StateMachine,
            "update_from_cloudformation_json",
            classmethod(_update_state_machine_from_cfn),
        ),
    ],
)
