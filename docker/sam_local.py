"""``sam build`` of template.yaml for this machine's Lambda architecture, for ``sam local`` with the local invoke image.

The template's functions are arm64 (``Globals.Function.Architectures``). On an x86_64 machine an arm64 image runs
only under qemu emulation, which is too slow for a cold start within the functions' timeouts. So local runs use a
copy of the template that differs in exactly two places, both in ``Globals.Function``:

* ``Architectures`` is this machine's (x86_64 here), so ``sam build`` installs the wheels of that architecture and
  ``sam local`` asks for an image of it;
* ``Environment.Variables.AWS_ENDPOINT_URL`` is declared (empty). ``sam local`` passes a variable to a function
  only if the template declares it, so without this ``--env-vars`` could not point the SDK at a local endpoint.

Everything else (CodeUri, Handler, each function's requirements.txt and its pins) is the real template's; the
built code differs from ``sam build`` of the real template only in compiled extensions (tests/docker pins that).

    .venv/bin/python docker/sam_local.py [--build-dir .aws-sam/local] [--architecture x86_64|arm64]

writes DIR/template.json, runs ``sam build`` into DIR/build and prints the built template's path.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from breakwater.template import TEMPLATE_PATH, load_template  # noqa: E402 - the project root is put on the path first

SAM = ROOT / ".venv-aws" / "bin" / "sam"
DEFAULT_BUILD_DIR = ROOT / ".aws-sam" / "local"
# Lambda's name for each machine architecture it runs on.
LAMBDA_ARCHITECTURES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}
ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL"
PYTHON = "python3.13"  # the functions' Runtime; sam build runs this interpreter's pip


class SamLocalError(Exception):
    """A local build that cannot be made (no interpreter, no SAM CLI, an unknown architecture, a failed build)."""


def machine_architecture() -> str:
    """This machine's Lambda architecture (``x86_64`` or ``arm64``)."""
    machine = platform.machine().lower()
    if machine not in LAMBDA_ARCHITECTURES:
        raise SamLocalError(f"Lambda has no architecture for this machine ({machine}); it runs x86_64 and arm64")
    return LAMBDA_ARCHITECTURES[machine]


def local_template(template: dict[str, Any], architecture: str) -> dict[str, Any]:
    """The template with ``architecture`` for every function and AWS_ENDPOINT_URL declared (see module docstring)."""
    if architecture not in set(LAMBDA_ARCHITECTURES.values()):
        raise SamLocalError(f"architecture must be x86_64 or arm64, not {architecture!r}")
    local = copy.deepcopy(template)
    function = local.setdefault("Globals", {}).setdefault("Function", {})
    function["Architectures"] = [architecture]
    variables = function.setdefault("Environment", {}).setdefault("Variables", {})
    variables.setdefault(ENDPOINT_VARIABLE, "")
    for logical_id, resource in local["Resources"].items():
        if resource.get("Type") == "AWS::Serverless::Function" and "Architectures" in resource.get("Properties", {}):
            raise SamLocalError(f"{logical_id} sets its own Architectures; only Globals.Function is rewritten")
    return local


def python313() -> Path:
    """The interpreter ``sam build`` needs: pyenv's newest 3.13, else python3.13 on PATH (one that runs)."""
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = sorted((pyenv_root / "versions").glob("3.13.*/bin/python3.13"), reverse=True)
    on_path = shutil.which(PYTHON)
    for candidate in [*candidates, *([Path(on_path)] if on_path else [])]:
        # A pyenv shim is on PATH even when no 3.13 is installed behind it: it must run.
        if subprocess.run([candidate, "-c", ""], capture_output=True, check=False).returncode == 0:  # noqa: S603
            return candidate
    raise SamLocalError(f"no {PYTHON} runs (looked under {pyenv_root}/versions and on PATH): sam build needs it")


def sam_build(template_file: Path, build_dir: Path, base_dir: Path = ROOT) -> Path:
    """``sam build`` of ``template_file`` (CodeUri relative to ``base_dir``) into ``build_dir``; the built template."""
    if not SAM.exists():
        raise SamLocalError(f"{SAM} is missing: run `make install` (it creates .venv-aws with the SAM CLI)")
    build_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PATH": f"{python313().parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "SAM_CLI_TELEMETRY": "0",
    }
    command = [str(SAM), "build", "--template-file", str(template_file), "--base-dir", str(base_dir)]
    command += ["--build-dir", str(build_dir), "--cache-dir", str(build_dir.parent / "cache"), "--no-cached"]
    # cwd: a folder of its own, so that no samconfig.toml of the project applies (cached, parallel).
    result = subprocess.run(command, cwd=build_dir.parent, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise SamLocalError(f"sam build failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return build_dir / "template.yaml"


def build(build_dir: Path, architecture: str, template_path: Path = TEMPLATE_PATH) -> Path:
    """Write ``build_dir/template.json`` and ``sam build`` it into ``build_dir/build``; returns the built template."""
    build_dir.mkdir(parents=True, exist_ok=True)
    source = build_dir / "template.json"
    source.write_text(json.dumps(local_template(load_template(template_path), architecture), indent=2) + "\n")
    return sam_build(source, build_dir / "build", base_dir=template_path.parent)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", type=Path, default=DEFAULT_BUILD_DIR, help="default: %(default)s")
    parser.add_argument("--architecture", help="x86_64 or arm64 (default: this machine's)")
    args = parser.parse_args(argv)
    try:
        built = build(args.build_dir.resolve(), args.architecture or machine_architecture())
    except SamLocalError as exc:
        print(f"sam_local: {exc}", file=sys.stderr)
        return 1
    print(built)
    return 0


if __name__ == "__main__":
    sys.exit(main())
