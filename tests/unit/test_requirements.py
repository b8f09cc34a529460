"""BREAKWATER_REQUIRE_ALL: a missing tool skips a test, or with the switch on fails it; CI=true is not the switch."""

from __future__ import annotations

import pytest

from tests import requirements


@pytest.mark.parametrize(("value", "expected"), [(None, False), ("", False), ("0", False), ("1", True), (" 1 ", True)])
def test_the_switch_is_one_or_zero(monkeypatch, value, expected) -> None:
    if value is None:
        monkeypatch.delenv(requirements.VARIABLE, raising=False)
    else:
        monkeypatch.setenv(requirements.VARIABLE, value)

    assert requirements.require_all() is expected


def test_another_value_is_refused_with_one_line(monkeypatch) -> None:
    monkeypatch.setenv(requirements.VARIABLE, "true")

    with pytest.raises(pytest.UsageError, match=r"BREAKWATER_REQUIRE_ALL must be 1 .* or 0 .*, not 'true'"):
        requirements.require_all()


def test_a_missing_tool_skips_without_the_switch_even_on_ci(monkeypatch) -> None:
    monkeypatch.delenv(requirements.VARIABLE, raising=False)
    monkeypatch.setenv("CI", "true")  # what GitHub Actions and GitLab set on every job

    with pytest.raises(pytest.skip.Exception, match="no Docker engine answers"):
        requirements.unavailable("no Docker engine answers")


def test_a_missing_tool_fails_with_the_switch(monkeypatch) -> None:
    monkeypatch.setenv(requirements.VARIABLE, "1")
    monkeypatch.delenv("CI", raising=False)

    with pytest.raises(pytest.fail.Exception, match=r"no Docker engine answers \(BREAKWATER_REQUIRE_ALL=1: this test"):
        requirements.unavailable("no Docker engine answers")


@pytest.mark.parametrize(("value", "on_ci"), [("", False), ("0", False), ("false", False), ("true", True), ("1", True)])
def test_ci_still_guards_the_aws_teststate_run(monkeypatch, value, on_ci) -> None:
    from tests.conftest import on_ci as running_on_ci

    monkeypatch.setenv("CI", value)

    assert running_on_ci() is on_ci
