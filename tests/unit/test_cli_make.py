"""`make demo` installs only what the demo uses; packaging metadata builds without deprecation warnings."""

from __future__ import annotations

import shutil
import subprocess
import tomllib

import pytest

from breakwater.template import PROJECT_ROOT


def test_make_demo_needs_only_the_python_environment():
    if shutil.which("make") is None:
        pytest.skip("make is not installed")

    planned = subprocess.run(
        ["make", "-n", "-B", "demo"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout

    assert "breakwater demo" in planned
    assert "npm" not in planned
    assert ".venv-aws" not in planned


def test_the_license_is_an_spdx_expression():
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]

    assert project["license"] == "MIT"  # a table ({text = ...}) makes setuptools warn on every build
