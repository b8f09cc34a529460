"""Patch ``cloudformation_sam``: for ``sam deploy``: moto's CloudFormation skips the SAM transform, leaves stacks
made by change sets without Outputs, and reads path-style TemplateURLs only from ``localhost``.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation import models as cfn_models
from moto.cloudformation import responses as cfn_responses
from moto.cloudformation import utils as cfn_utils

from breakwater.local.compat.base import Patch

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
_original_parse_template = cfn_models.Stack.parse_template
_original_change_set_parse = cfn_models.ChangeSet._parse_template
_original_execute_change_set = cfn_models.CloudFormationBackend.execute_change_set


def _expand_sam(template: dict[str, Any], parameter_values: dict[str, Any], region: str) -> dict[str, Any]:
    transforms = template.get("Transform") if isinstance(template, dict) else None
    names = transforms if isinstance(transforms, list) else [transforms]
    if SAM_TRANSFORM not in names:
        return template
    from breakwater.template import translate

    return translate(template, {k: str(v) for k, v in (parameter_values or {}).items()}, region)


def _parse_template_with_sam(template: str) -> dict[str, Any]:
    return _expand_sam(_original_parse_template(template), {}, "us-east-1")


def _change_set_parse_with_sam(self: Any) -> None:
    _original_change_set_parse(self)
    self.template_dict = _expand_sam(self.template_dict, self.parameters, self.stack.region_name)


def _execute_change_set_with_outputs(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
    _original_execute_change_set(self, change_set_name, stack_name)
    change_set = self.change_sets.get(change_set_name) or next(
        cs for cs in self.change_sets.values() if cs.change_set_name == change_set_name
    )
    stack = self.stacks[change_set.stack_id]
    stack.template_dict = change_set.template_dict
    stack.output_map = cfn_models.OutputMap(stack.resource_map, stack.template_dict, stack.stack_id)


def _stack_from_s3_url(template_url: str, account_id: str, partition: str) -> str:
    """Read a TemplateURL; path-style also for ``127.0.0.1`` (moto knows only ``localhost``)."""
    from urllib.parse import urlparse

    parts = urlparse(template_url)
    if parts.hostname in ("127.0.0.1", "::1"):
        template_url = template_url.replace(parts.netloc, f"localhost:{parts.port}" if parts.port else "localhost", 1)
    return _original_stack_from_s3_url(template_url, account_id, partition)


_original_stack_from_s3_url = cfn_utils.get_stack_from_s3_url


PATCH = Patch(
    "cloudformation_sam",
    "the SAM transform, stack outputs after change sets, 127.0.0.1 template URLs (sam deploy)",
    [
        (cfn_models.Stack, "parse_template", staticmethod(_parse_template_with_sam)),
        (cfn_models.ChangeSet, "_parse_template", _change_set_parse_with_sam),
        (cfn_models.CloudFormationBackend, "execute_change_set", _execute_change_set_with_outputs),
        (cfn_responses, "get_stack_from_s3_url", _stack_from_s3_url),
    ],
)
