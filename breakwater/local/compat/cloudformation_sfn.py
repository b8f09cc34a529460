"""Patch ``cloudformation_sfn``: moto's CloudFormation ignores ``Definition`` and ``DefinitionSubstitutions`` and
creates the machine in the non-executing backend, without its type.
"""

from __future__ import annotations

import json
from typing import Any

from moto.core.config import default_user_config
from moto.stepfunctions import models as sfn_models

from breakwater.local.compat.base import Patch


def substitute_definition(definition: Any, substitutions: dict[str, Any]) -> str:
    """Apply ``DefinitionSubstitutions`` to a definition, as the service does.

    Only ``${Name}`` for names in ``substitutions`` is replaced; everything else
    (``$states``, ``$$.Execution``) is left alone.
    """
    text = definition if isinstance(definition, str) else json.dumps(definition)
    for name, value in substitutions.items():
        text = text.replace("${" + name + "}", str(value))
    return text


def api_configuration(value: Any) -> Any:
    """A CloudFormation ``LoggingConfiguration``/``TracingConfiguration`` in the API's shape, as the service stores
    it (``Level`` -> ``level``, ``"true"`` -> ``True``); DescribeStateMachine would otherwise answer ``{}``."""
    if isinstance(value, dict):
        return {key[:1].lower() + key[1:]: api_configuration(item) for key, item in value.items()}
    if isinstance(value, list):
        return [api_configuration(item) for item in value]
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def _sfn_backend(account_id: str, region_name: str) -> Any:
    if default_user_config.get("stepfunctions", {}).get("execute_state_machine", False):
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        return stepfunctions_parser_backends[account_id][region_name]
    return sfn_models.stepfunctions_backends[account_id][region_name]


def _definition_from_s3(location: dict[str, str], account_id: str) -> str:
    from moto.s3.models import s3_backends

    key = s3_backends[account_id]["aws"].get_object(location["Bucket"], location["Key"])
    return key.value.decode("utf-8")  # type: ignore[union-attr]


def _create_state_machine_from_cfn(
    cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
) -> Any:
    properties = cloudformation_json["Properties"]
    name = properties.get("StateMachineName", resource_name)
    definition_string = _definition_string(properties, account_id)
    tags = sfn_models.cfn_to_api_tags(properties.get("Tags", []))
    backend = _sfn_backend(account_id, region_name)
    return backend.create_state_machine(
        name,
        definition_string,
        properties.get("RoleArn", ""),
        tags=tags,
        sm_type=properties.get("StateMachineType", "STANDARD"),
        loggingConfiguration=api_configuration(properties.get("LoggingConfiguration")),
        tracingConfiguration=api_configuration(properties.get("TracingConfiguration")),
    )


def _definition_string(properties: dict[str, Any], account_id: str) -> str:
    """The definition a state machine resource describes, its ``DefinitionSubstitutions`` applied."""
    definition = properties.get("DefinitionString") or properties.get("Definition") or ""
    if not definition and properties.get("DefinitionS3Location"):
        definition = _definition_from_s3(properties["DefinitionS3Location"], account_id)
    return substitute_definition(definition, properties.get("DefinitionSubstitutions") or {})


def _delete_state_machine_from_cfn(
    cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
) -> None:
    _sfn_backend(account_id, region_name).delete_state_machine(resource_name)


PATCH = Patch(
    "cloudformation_sfn",
    "CloudFormation state machines honour Definition, DefinitionSubstitutions and type",
    [
        (
            sfn_models.StateMachine,
            "create_from_cloudformation_json",
            classmethod(_create_state_machine_from_cfn),
        ),
        (
            sfn_models.StateMachine,
            "delete_from_cloudformation_json",
            classmethod(_delete_state_machine_from_cfn),
        ),
    ],
)
