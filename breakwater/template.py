"""Read the SAM template: YAML with CloudFormation tags, parameters, the SAM transform."""

from __future__ import annotations

import copy
import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from breakwater.errors import TemplateError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = PROJECT_ROOT / "template.yaml"
ASL_PATH = PROJECT_ROOT / "statemachine" / "circuit_breaker.asl.json"

FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
_SCALAR_TAGS = ("Ref", "Condition", "Base64", "GetAZs", "ImportValue")
_SEQUENCE_TAGS = ("And", "Equals", "If", "Not", "Or", "FindInMap", "Join", "Select", "Split", "Cidr")


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns ``!Ref x`` into ``{"Ref": "x"}`` and ``!Sub``/``!GetAtt`` likewise."""


def _construct(tag: str) -> Any:
    key = tag if tag == "Ref" or tag == "Condition" else f"Fn::{tag}"

    def build(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if tag == "GetAtt":
                value = str(value).split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {key: value}

    return build


for _tag in (*_SCALAR_TAGS, *_SEQUENCE_TAGS, "Sub", "GetAtt"):
    _CfnLoader.add_constructor(f"!{_tag}", _construct(_tag))


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """Parse a CloudFormation/SAM YAML (or JSON) template into plain data (a new copy on every call)."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise TemplateError(f"cannot read template {path}: {exc}") from exc
    return json.loads(_parsed_template(str(path), text))  # type: ignore[no-any-return]


@functools.lru_cache(maxsize=8)
def _parsed_template(path: str, text: str) -> str:
    """The template ``text`` parsed, as JSON (the YAML parse is the slow part of every local deploy)."""
    try:
        data = yaml.load(text, Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise TemplateError(f"cannot read template {path}: {exc}") from exc
    if not isinstance(data, dict) or "Resources" not in data:
        raise TemplateError(f"{path} is not a CloudFormation template (no Resources)")
    return json.dumps(data)


def load_definition(path: Path = ASL_PATH) -> dict[str, Any]:
    """The state machine definition, as deployed (with ``${...}`` placeholders)."""
    try:
        return json.loads(path.read_text())  # type: ignore[no-any-return]
    except (OSError, json.JSONDecodeError) as exc:
        raise TemplateError(f"cannot read state machine definition {path}: {exc}") from exc


@dataclass(frozen=True)
class Parameter:
    """One template parameter and its constraints."""

    name: str
    type: str
    default: str | None
    min_value: float | None = None
    max_value: float | None = None
    allowed_values: tuple[str, ...] = ()
    allowed_pattern: str | None = None

    def check(self, value: str) -> str:
        """Return ``value`` if it satisfies the constraints, else raise TemplateError naming them."""
        if self.allowed_values and value not in self.allowed_values:
            raise TemplateError(f"parameter {self.name}: {value!r} is not one of {', '.join(self.allowed_values)}")
        # CloudFormation matches AllowedPattern against the whole value.
        if self.allowed_pattern is not None and not re.fullmatch(self.allowed_pattern, value):
            raise TemplateError(f"parameter {self.name}: {value!r} does not match {self.allowed_pattern}")
        if self.type == "Number":
            try:
                number = float(value)
            except ValueError:
                raise TemplateError(f"parameter {self.name}: {value!r} is not a number") from None
            if self.min_value is not None and number < self.min_value:
                raise TemplateError(f"parameter {self.name}: {value} is below the minimum {self.min_value:g}")
            if self.max_value is not None and number > self.max_value:
                raise TemplateError(f"parameter {self.name}: {value} is above the maximum {self.max_value:g}")
        return value


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Logical id -> properties (with SAM ``Globals.Function`` applied) of every function."""
    defaults = (template.get("Globals") or {}).get("Function") or {}
    found = {}
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") in FUNCTION_TYPES:
            found[logical_id] = {**defaults, **(resource.get("Properties") or {})}
    return found


def parameters(template: dict[str, Any] | None = None) -> dict[str, Parameter]:
    """The template's parameters, read from the template itself."""
    template = template if template is not None else load_template()
    result = {}
    for name, spec in (template.get("Parameters") or {}).items():
        default = spec.get("Default")
        result[name] = Parameter(
            name=name,
            type=str(spec.get("Type", "String")),
            default=None if default is None else str(default),
            min_value=spec.get("MinValue"),
            max_value=spec.get("MaxValue"),
            allowed_values=tuple(str(v) for v in spec.get("AllowedValues", ())),
            allowed_pattern=spec.get("AllowedPattern"),
        )
    return result


def check_overrides(overrides: dict[str, Any], template: dict[str, Any] | None = None) -> dict[str, str]:
    """Parameter values given for a deploy or an invoke, each checked as CloudFormation would check it."""
    specs = parameters(template)
    unknown = sorted(set(overrides) - set(specs))
    if unknown:
        raise TemplateError(f"unknown parameter(s): {', '.join(unknown)} (the template has {', '.join(specs)})")
    return {name: specs[name].check(str(value)) for name, value in overrides.items()}


def resolve_parameters(overrides: dict[str, Any], template: dict[str, Any] | None = None) -> dict[str, str]:
    """Defaults from the template, overridden and checked; every parameter gets a value."""
    template = template if template is not None else load_template()
    specs = parameters(template)
    checked = check_overrides(overrides, template)
    values: dict[str, str] = {}
    for name, spec in specs.items():
        if name in checked:
            values[name] = checked[name]
        elif spec.default is not None:
            values[name] = spec.default
        else:
            raise TemplateError(f"parameter {name} has no default and no value was given")
    check_combinations(values)
    return values


# The checkout API waits 26 s for an order (its function's 28 s Timeout, under the integration's 29 s, under HTTP
# APIs' 30 s limit): a call of at most this long leaves room for the breaker's reads, writes and retries.
CHECKOUT_LONGEST_CALL_SECONDS = 20


def check_combinations(values: dict[str, str]) -> None:
    """Rules across parameters (the template's ``Rules`` hold the first; CloudFormation cannot compare numbers)."""

    def number(name: str) -> float | None:
        return float(values[name]) if values.get(name) not in (None, "") else None

    threshold, rate = number("FailureThreshold"), number("FailureRateThreshold")
    if threshold == 0 and not rate:
        raise TemplateError(
            "parameter FailureThreshold: 0 turns the count rule off; it needs the rate rule on"
            " (FailureRateThreshold above 0), or the breaker could never trip"
        )
    slow, timeout = number("SlowCallSeconds"), number("CallTimeoutSeconds")
    if slow and timeout is not None and slow >= timeout:
        raise TemplateError(
            f"parameter SlowCallSeconds: {values['SlowCallSeconds']} must be below CallTimeoutSeconds"
            f" ({values['CallTimeoutSeconds']}): a call that slow already fails by timing out"
        )
    if values.get("CheckoutApi") == "true":
        if values.get("WorkflowType") != "EXPRESS":
            raise TemplateError(
                "parameter CheckoutApi: the checkout API runs each order with StartSyncExecution, which only"
                " EXPRESS workflows offer; set WorkflowType to EXPRESS"
            )
        if timeout is not None and timeout > CHECKOUT_LONGEST_CALL_SECONDS:
            raise TemplateError(
                f"parameter CallTimeoutSeconds: {values['CallTimeoutSeconds']} is too long for the checkout API"
                f" (at most {CHECKOUT_LONGEST_CALL_SECONDS}): an order must end within the API's 29 s integration"
                " timeout, retries and bookkeeping included"
            )


class _NoManagedPolicies:
    """Offline managed-policy loader: the template names no AWS managed policies by name."""

    def load(self) -> dict[str, str]:
        return {}


def translate(template: dict[str, Any], parameter_values: dict[str, str], region: str) -> dict[str, Any]:
    """Expand the SAM transform into plain CloudFormation, offline."""
    import boto3
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    values: dict[str, Any] = dict(parameter_values)
    values.setdefault("AWS::Region", region)
    values.setdefault("AWS::Partition", "aws")
    translator = Translator(
        _NoManagedPolicies().load(), Parser(), boto_session=boto3.session.Session(region_name=region)
    )
    try:
        result = translator.translate(copy.deepcopy(template), values)
    except InvalidDocumentException as exc:
        messages = "; ".join(str(cause) for cause in exc.causes)
        raise TemplateError(f"SAM transform failed: {messages}") from exc
    return dict(result)
