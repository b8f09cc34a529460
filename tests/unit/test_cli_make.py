"""`make demo` installs only what the demo uses; packaging metadata builds without deprecation warnings."""

from __future__ import annotations

import shutil
import subprocess
import tomllib

from breakwater.template import PROJECT_ROOT
from tests.requirements import unavailable


def test_make_demo_needs_only_the_python_environment():
    if shutil.which("make") is None:
        unavailable("make is not installed")

    planned = subprocess.run(
        ["make", "-n", "-B", "demo"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout

    assert "breakwater demo" in planned
    assert "npm" not in planned
    assert ".venv-aws" not in planned


def test_the_license_is_an_spdx_expression():
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]

    assert project["license"] == "MIT"  # a table ({text = ...}) makes setuptools warn on every build


def test_make_with_no_target_lists_the_entry_points():
    if shutil.which("make") is None:
        unavailable("make is not installed")

    listing = subprocess.run(["make"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True).stdout

    for target in ("test", "test-fast", "lint", "demo", "soak", "bench", "help"):
        assert any(line.split()[0] == target for line in listing.splitlines() if line.strip()), target


def test_the_package_declares_what_it_imports():
    import ast
    import sys

    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    declared = {
        dep.split("[")[0].split("=")[0].split(">")[0].strip().lower().replace("-", "_")
        for dep in project["dependencies"]
    }
    module_of = {"pyyaml": "yaml", "aws_sam_translator": "samtranslator", "jsonata_python": "jsonata"}
    provided = {module_of.get(name, name) for name in declared}
    imported: set[str] = set()
    for path in (PROJECT_ROOT / "breakwater").rglob("*.py"):
        if "functions" in path.relative_to(PROJECT_ROOT / "breakwater").parts:
            continue  # the benchmark's Lambda code: its build provides what it imports (boto3, the payment build)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
    third_party = {m for m in imported if m not in sys.stdlib_module_names and m != "breakwater"}
    third_party -= {m for m in third_party if m.startswith("mypy_boto3_")}  # type stubs, under TYPE_CHECKING only

    assert third_party <= {p.lower() for p in provided}, third_party - provided
