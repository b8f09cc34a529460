"""Patch ``template_json``: moto reads every CloudFormation template with PyYAML's pure-Python loader, JSON ones
too (JSON is YAML), three times per stack: about 80 ms for this template each time. A template body that is
JSON is read with the JSON parser, which gives the same document; anything else still goes to moto's YAML
loader with its tag constructors.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from moto.cloudformation import models as cfn_models
from moto.cloudformation import responses as cfn_responses

from breakwater.local.compat.base import Patch


class _JsonFirstYaml:
    """The ``yaml`` module as moto's CloudFormation sees it, with ``load`` trying JSON first."""

    def __getattr__(self, name: str) -> Any:
        return getattr(yaml, name)

    @staticmethod
    def load(stream: Any, Loader: Any) -> Any:  # noqa: N803 - yaml.load's own keyword
        if isinstance(stream, str | bytes) and stream.lstrip()[:1] in ("{", b"{"):
            try:
                return json.loads(stream)
            except ValueError:
                pass  # not JSON after all (a YAML flow mapping): YAML decides
        return yaml.load(stream, Loader=Loader)  # noqa: S506 - moto's own loader, as before the patch


_YAML = _JsonFirstYaml()

PATCH = Patch(
    "template_json",
    "JSON template bodies are read as JSON, not by the pure-Python YAML loader",
    [(cfn_models, "yaml", _YAML), (cfn_responses, "yaml", _YAML)],
)
