"""Parameter values are checked as CloudFormation checks them, before anything deploys."""

from __future__ import annotations

import pytest

from breakwater.errors import TemplateError
from breakwater.template import Parameter, resolve_parameters

URL = {"PaymentApiUrl": "http://127.0.0.1:4567"}


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("PaymentApiUrl", "ftp://provider", "does not match"),
        ("ServiceName", "payment api", "does not match"),
        ("MetricsNamespace", "AWS/Lambda", "does not match"),
        ("FailureThreshold", "abc", "is not a number"),
        ("CooldownSeconds", "0", "below the minimum"),
        ("WorkflowType", "FAST", "is not one of"),
    ],
)
def test_a_value_outside_the_templates_constraints_is_refused_naming_the_parameter(name, value, problem):
    with pytest.raises(TemplateError, match=rf"parameter {name}: .*{problem}"):
        resolve_parameters({**URL, name: value})


def test_the_allowed_pattern_must_match_the_whole_value():
    parameter = Parameter("Key", "String", None, allowed_pattern="[a-z]+")

    assert parameter.check("abc") == "abc"
    with pytest.raises(TemplateError, match="does not match"):
        parameter.check("abc1")


def test_unknown_parameters_are_named():
    with pytest.raises(TemplateError, match=r"unknown parameter.*Nope"):
        resolve_parameters({**URL, "Nope": "1"})
