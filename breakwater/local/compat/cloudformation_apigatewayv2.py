"""Patch ``cloudformation_apigatewayv2``: moto's CloudFormation skips ``AWS::ApiGatewayV2::Api``, ``Integration``,
``Route`` and ``Stage``; create them in moto's API Gateway v2, as CreateApi, CreateIntegration, CreateRoute and
CreateStage would, so ``aws apigatewayv2 get-apis/get-routes/get-integrations/get-stages`` show the stack's API
(``breakwater.local.http_api`` serves its routes).

moto finds a resource type's class with ``parsing.resource_class_from_type``, which ``cloudformation_alarms``
already replaces with a lookup that falls back to moto's own; this patch extends that fallback (the alarms
module's ``_original_resource_class_from_type``), so either patch can be removed and put back alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from breakwater.local.compat import cloudformation_alarms
from breakwater.local.compat.base import Patch

_original_resource_class_from_type = cloudformation_alarms._original_resource_class_from_type


def _backend(account_id: str, region_name: str) -> Any:
    from moto.apigatewayv2.models import apigatewayv2_backends

    return apigatewayv2_backends[account_id][region_name]


def _camel(name: str) -> str:
    """CloudFormation's PascalCase property name as the API's camelCase member name."""
    return name[:1].lower() + name[1:]


def _camel_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {_camel(k): _camel_keys(v) for k, v in value.items()}
    return value


@dataclass
class StackApiPart:
    """A part of an HTTP API a stack created: its Ref value and its attributes."""

    physical_resource_id: str
    attributes: dict[str, str]
    api_id: str

    def has_cfn_attr(self, attribute: str) -> bool:
        return attribute in self.attributes

    def is_created(self) -> bool:
        return True

    def get_cfn_attribute(self, attribute: str) -> str:
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        if attribute not in self.attributes:
            raise UnformattedGetAttTemplateException()
        return self.attributes[attribute]

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> StackApiPart:
        raise NotImplementedError  # each part below

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
    ) -> None:
        """Deleting the API (below) deletes its parts with it."""


class StackApi(StackApiPart):
    """``AWS::ApiGatewayV2::Api`` (Ref: ApiId; GetAtt ApiId, ApiEndpoint)."""

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> StackApiPart:
        properties = cloudformation_json["Properties"]
        if properties.get("Body") or properties.get("BodyS3Location"):
            raise NotImplementedError("the local stack creates HTTP APIs from their resources, not an OpenAPI body")
        api = _backend(account_id, region_name).create_api(
            api_key_selection_expression=properties.get("ApiKeySelectionExpression"),
            cors_configuration=_camel_keys(properties.get("CorsConfiguration")),
            description=properties.get("Description"),
            disable_schema_validation=properties.get("DisableSchemaValidation"),
            disable_execute_api_endpoint=properties.get("DisableExecuteApiEndpoint"),
            name=properties.get("Name") or resource_name,
            protocol_type=properties["ProtocolType"],
            route_selection_expression=properties.get("RouteSelectionExpression"),
            tags=properties.get("Tags") or {},
            version=properties.get("Version"),
        )
        return cls(api.api_id, {"ApiId": api.api_id, "ApiEndpoint": api.api_endpoint}, api.api_id)

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
    ) -> None:
        _backend(account_id, region_name).delete_api(resource_name)

    def delete(self, account_id: str, region_name: str) -> None:
        _backend(account_id, region_name).delete_api(self.api_id)


class StackIntegration(StackApiPart):
    """``AWS::ApiGatewayV2::Integration`` (Ref: IntegrationId)."""

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> StackApiPart:
        properties = cloudformation_json["Properties"]
        integration = _backend(account_id, region_name).create_integration(
            api_id=properties["ApiId"],
            connection_id=properties.get("ConnectionId"),
            connection_type=properties.get("ConnectionType"),
            content_handling_strategy=properties.get("ContentHandlingStrategy"),
            credentials_arn=properties.get("CredentialsArn"),
            description=properties.get("Description"),
            integration_method=properties.get("IntegrationMethod"),
            integration_subtype=properties.get("IntegrationSubtype"),
            integration_type=properties["IntegrationType"],
            integration_uri=properties.get("IntegrationUri"),
            passthrough_behavior=properties.get("PassthroughBehavior"),
            payload_format_version=properties.get("PayloadFormatVersion"),
            request_parameters=properties.get("RequestParameters"),
            request_templates=properties.get("RequestTemplates"),
            response_parameters=properties.get("ResponseParameters"),
            template_selection_expression=properties.get("TemplateSelectionExpression"),
            timeout_in_millis=properties.get("TimeoutInMillis"),
            tls_config=properties.get("TlsConfig"),
        )
        return cls(integration.id, {"IntegrationId": integration.id}, properties["ApiId"])


class StackRoute(StackApiPart):
    """``AWS::ApiGatewayV2::Route`` (Ref: RouteId)."""

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> StackApiPart:
        properties = cloudformation_json["Properties"]
        route = _backend(account_id, region_name).create_route(
            api_id=properties["ApiId"],
            api_key_required=properties.get("ApiKeyRequired", False),
            authorization_scopes=properties.get("AuthorizationScopes", []),
            authorization_type=properties.get("AuthorizationType", "NONE"),
            authorizer_id=properties.get("AuthorizerId"),
            model_selection_expression=properties.get("ModelSelectionExpression"),
            operation_name=properties.get("OperationName"),
            request_models=properties.get("RequestModels"),
            request_parameters=properties.get("RequestParameters"),
            route_key=properties["RouteKey"],
            route_response_selection_expression=properties.get("RouteResponseSelectionExpression"),
            target=properties.get("Target"),
        )
        return cls(route.route_id, {"RouteId": route.route_id}, properties["ApiId"])


class StackStage(StackApiPart):
    """``AWS::ApiGatewayV2::Stage`` (Ref: the stage's name)."""

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> StackApiPart:
        properties = dict(cloudformation_json["Properties"])
        api_id = properties.pop("ApiId")
        stage = _backend(account_id, region_name).create_stage(api_id, _camel_keys(properties))
        return cls(stage.name, {}, api_id)


TYPES: dict[str, type[StackApiPart]] = {
    "AWS::ApiGatewayV2::Api": StackApi,
    "AWS::ApiGatewayV2::Integration": StackIntegration,
    "AWS::ApiGatewayV2::Route": StackRoute,
    "AWS::ApiGatewayV2::Stage": StackStage,
}


def _resource_class_with_http_apis(resource_type: str) -> Any:
    if resource_type in TYPES:
        return TYPES[resource_type]
    return _original_resource_class_from_type(resource_type)


PATCH = Patch(
    "cloudformation_apigatewayv2",
    "CloudFormation creates AWS::ApiGatewayV2 Api, Integration, Route and Stage in moto's API Gateway v2",
    [(cloudformation_alarms, "_original_resource_class_from_type", _resource_class_with_http_apis)],
)
