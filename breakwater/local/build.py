"""Build each function as ``sam build`` does, so the local stack runs the artifact that deploys.

For a Python function ``sam build`` (its ``python_pip`` workflow) copies the
``CodeUri`` folder and installs the folder's ``requirements.txt`` into it; the
Lambda service then adds what the managed runtime provides (the AWS SDK,
listed in ``functions/runtime-provided.txt``). This module does the same,
offline-cached under ``.aws-sam/local-build``:

* ``<LogicalId>-<digest>/``: the function's own files plus its requirements,
  installed with the runtime's Python (``python3.13`` where pyenv has it, else
  the interpreter running this code) for this machine's architecture;
* ``runtime-python<version>-<digest>/``: the runtime-provided packages, shared
  by every function, as ``/var/runtime`` is on Lambda;
* ``<LogicalId>-<digest>.zip``: the deployment package that the local stack
  uploads.

Two things differ from ``sam build`` on purpose, and ``tests/docker`` compares
the rest with a real ``sam build``: the wheels are the host's (x86_64 here),
where ``sam build`` fetches the template's architecture (arm64), because the
local stack runs functions on this machine; and the artifacts live in a folder
of their own, so a user's ``sam build`` output is never overwritten.

A build is named by the digest of its inputs (the function's files, its
requirements, the interpreter's version), reused while they are unchanged and
never modified once made, so a process still running an older build is never
disturbed; the newest three builds of each are kept. Builds are serialised by
a file lock, so the test suite and a ``breakwater local up`` it started never
build at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import os
import shutil
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from breakwater.errors import BuildError
from breakwater.template import PROJECT_ROOT, functions

BUILD_ROOT = PROJECT_ROOT / ".aws-sam" / "local-build"
RUNTIME_PROVIDED = PROJECT_ROOT / "functions" / "runtime-provided.txt"
RUNTIME_PYTHON_VERSION = "3.13"
REQUIREMENTS = "requirements.txt"
PIP_TIMEOUT_SECONDS = 600
KEEP_BUILDS = 3
_READY_RUNTIMES: set[Path] = set()  # runtime folders this process has found complete (named by their digest)
_SKIPPED_PARTS = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache"})


@dataclass(frozen=True)
class Artifact:
    """One built function: where its code and dependencies are, and its deployment package."""

    logical_id: str
    code_dir: Path
    zip_path: Path
    digest: str


@cache
def runtime_python() -> str:
    """The interpreter that plays the Lambda runtime: python3.13 where present (pyenv), else this one's base."""
    candidates: list[Path] = []
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    pattern = f"{RUNTIME_PYTHON_VERSION}*/bin/python{RUNTIME_PYTHON_VERSION}"
    candidates.extend(sorted((pyenv_root / "versions").glob(pattern)))
    on_path = shutil.which(f"python{RUNTIME_PYTHON_VERSION}")
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        try:
            subprocess.run([str(candidate), "-c", "pass"], check=True, capture_output=True, timeout=30)  # noqa: S603
        except (OSError, subprocess.SubprocessError):
            continue  # a pyenv shim that answers "command not found"
        return str(candidate)
    return str(getattr(sys, "_base_executable", sys.executable))


@cache
def python_version(python: str) -> str:
    """``major.minor`` of an interpreter."""
    result = subprocess.run(  # noqa: S603 - our own interpreter path
        [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return result.stdout.strip()


def _files(folder: Path) -> list[Path]:
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file() and not (_SKIPPED_PARTS & set(path.relative_to(folder).parts)) and path.suffix != ".pyc"
    )


def _digest(folder: Path, python: str, extra: bytes = b"") -> str:
    sha = hashlib.sha256()
    sha.update(python_version(python).encode())
    sha.update(extra)
    for path in _files(folder):
        sha.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    return sha.hexdigest()[:16]


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _pip_install(python: str, requirements: Path, target: Path) -> None:
    """``pip install -r requirements -t target``, as ``sam build`` runs it (no bytecode, no scripts)."""
    command = [
        python,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-warn-script-location",
        "--no-compile",
        "--target",
        str(target),
        "-r",
        str(requirements),
    ]
    try:
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=PIP_TIMEOUT_SECONDS)  # noqa: S603
    except subprocess.CalledProcessError as exc:
        last = (exc.stderr or exc.stdout or "").strip().splitlines()[-1:] or ["no output"]
        raise BuildError(f"pip could not install {requirements}: {last[0]}") from None
    except subprocess.TimeoutExpired:
        raise BuildError(f"pip install of {requirements} did not finish in {PIP_TIMEOUT_SECONDS} s") from None
    for scripts in (target / "bin",):  # console scripts are not importable code; sam build leaves them out too
        shutil.rmtree(scripts, ignore_errors=True)


def zip_folder(folder: Path) -> bytes:
    """A reproducible zip of a folder (fixed timestamps, sorted entries, no bytecode)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in _files(folder):
            info = zipfile.ZipInfo(str(path.relative_to(folder)), date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes(), zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _prune(root: Path, prefix: str, keep: Path) -> None:
    """Remove older builds of the same thing, keeping the newest few (another process may still use one)."""
    builds = sorted((p for p in root.glob(f"{prefix}-*") if p.is_dir() and p != keep), key=lambda p: p.stat().st_mtime)
    for old in builds[:-KEEP_BUILDS]:
        shutil.rmtree(old, ignore_errors=True)
        old.with_suffix(".zip").unlink(missing_ok=True)


def build_function(logical_id: str, source: Path, root: Path = BUILD_ROOT, python: str | None = None) -> Artifact:
    """Build one function; a build is named by its inputs' digest, never changed once made, and reused."""
    python = python or runtime_python()
    if not source.is_dir():
        raise BuildError(f"{logical_id}: CodeUri {source} is not a folder")
    digest = _digest(source, python)
    final = root / f"{logical_id}-{digest}"
    zip_path = root / f"{logical_id}-{digest}.zip"
    with _locked(root):
        if final.is_dir() and zip_path.is_file():
            return Artifact(logical_id, final, zip_path, digest)
        staging = root / f".{logical_id}.{uuid.uuid4().hex}"
        shutil.copytree(source, staging, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        requirements = staging / REQUIREMENTS
        if requirements.is_file():
            _pip_install(python, requirements, staging)
        shutil.rmtree(final, ignore_errors=True)
        staging.rename(final)
        partial = zip_path.with_suffix(".partial")
        partial.write_bytes(zip_folder(final))
        partial.rename(zip_path)  # written last: a build is complete when its package exists
        _prune(root, logical_id, final)
    return Artifact(logical_id, final, zip_path, digest)


def runtime_dir(root: Path = BUILD_ROOT, python: str | None = None) -> Path:
    """The runtime-provided packages (``functions/runtime-provided.txt``), installed once per Python version."""
    python = python or runtime_python()
    digest = hashlib.sha256(RUNTIME_PROVIDED.read_bytes() + python_version(python).encode()).hexdigest()[:16]
    prefix = f"runtime-python{python_version(python)}"
    final = root / f"{prefix}-{digest}"
    if final in _READY_RUNTIMES:  # every invocation asks: no lock once this process has seen it built
        return final
    with _locked(root):
        if final.is_dir():
            _READY_RUNTIMES.add(final)
            return final
        staging = root / f".{prefix}.{uuid.uuid4().hex}"
        staging.mkdir(parents=True)
        _pip_install(python, RUNTIME_PROVIDED, staging)
        staging.rename(final)
        _prune(root, prefix, final)
    _READY_RUNTIMES.add(final)
    return final


def function_sources(template: dict[str, Any], root: Path = PROJECT_ROOT) -> dict[str, Path]:
    """Logical id -> CodeUri folder of every function in a (SAM) template with a local CodeUri."""
    sources = {}
    for logical_id, properties in functions(template).items():
        code_uri = properties.get("CodeUri")
        if isinstance(code_uri, str) and not code_uri.startswith("s3://"):
            sources[logical_id] = (root / code_uri).resolve()
    return sources


def build_all(
    template: dict[str, Any], root: Path = PROJECT_ROOT, build_root: Path = BUILD_ROOT
) -> dict[str, Artifact]:
    """Build every function of ``template`` and the runtime-provided packages; logical id -> artifact."""
    runtime_dir(build_root)
    return {
        logical_id: build_function(logical_id, source, build_root)
        for logical_id, source in function_sources(template, root).items()
    }
