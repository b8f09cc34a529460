"""Deploy the unchanged ``template.yaml`` through CloudFormation, the way ``sam deploy`` does.

``sam build`` builds each function (its code and its requirements) and
``sam package`` uploads the artifacts; here the same happens against whatever
endpoint the clients point at: each function is built by
``breakwater.local.build`` and its deployment package uploaded to an artifacts
bucket, ``DefinitionUri`` is read from disk, the SAM transform runs offline,
and the result goes to CloudFormation.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from breakwater.aws import Stack
from breakwater.errors import DeployError
from breakwater.local.build import build_all
from breakwater.template import PROJECT_ROOT, load_template, resolve_parameters, translate

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_s3 import S3Client

ARTIFACT_BUCKET = "breakwater-local-artifacts"
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]


def package(template: dict[str, Any], s3: S3Client, root: Path = PROJECT_ROOT) -> dict[str, Any]:
    """Upload each function's built artifact and inline local definitions, as ``sam build && sam package`` would."""
    packaged = json.loads(json.dumps(template))
    try:
        s3.head_bucket(Bucket=ARTIFACT_BUCKET)
    except ClientError:
        s3.create_bucket(Bucket=ARTIFACT_BUCKET)
    artifacts = build_all(template, root)
    for logical_id, resource in packaged["Resources"].items():
        properties = resource.get("Properties", {})
        if resource.get("Type") == "AWS::Serverless::Function" and logical_id in artifacts:
            artifact = artifacts[logical_id]
            key = f"{logical_id}/{artifact.digest}.zip"
            if not _uploaded(s3, key):  # as `sam package`: an artifact already uploaded is not sent again
                s3.put_object(Bucket=ARTIFACT_BUCKET, Key=key, Body=_package_bytes(artifact.zip_path, artifact.digest))
            properties["CodeUri"] = f"s3://{ARTIFACT_BUCKET}/{key}"
        elif resource.get("Type") == "AWS::Serverless::StateMachine":
            uri = properties.get("DefinitionUri")
            if isinstance(uri, str) and not uri.startswith("s3://"):
                try:
                    properties["Definition"] = json.loads((root / uri).read_text())
                except (OSError, json.JSONDecodeError) as exc:
                    raise DeployError(f"{logical_id}: cannot read DefinitionUri {uri}: {exc}") from exc
                del properties["DefinitionUri"]
    return packaged


def _uploaded(s3: S3Client, key: str) -> bool:
    """Whether the artifacts bucket holds ``key`` (named by the build's digest, so same name, same bytes)."""
    try:
        s3.head_object(Bucket=ARTIFACT_BUCKET, Key=key)
    except ClientError:
        return False
    return True


@functools.lru_cache(maxsize=16)
def _package_bytes(path: Path, digest: str) -> bytes:
    """A built deployment package, read once per build."""
    return path.read_bytes()


def deploy(
    cloudformation: CloudFormationClient,
    s3: S3Client,
    stack_name: str,
    parameter_overrides: dict[str, Any] | None = None,
    region: str = "us-east-1",
    template_path: Path | None = None,
) -> Stack:
    """Package, translate and create ``stack_name``; return its outputs.

    ``template_path`` (default: the project's ``template.yaml``) is read as ``sam build -t`` reads it: its
    ``CodeUri`` and ``DefinitionUri`` paths are relative to the template's folder.
    """
    template = load_template(template_path) if template_path else load_template()
    root = template_path.parent if template_path else PROJECT_ROOT
    values = resolve_parameters(parameter_overrides or {}, template)
    translated = translate(package(template, s3, root), values, region)
    try:
        cloudformation.create_stack(
            StackName=stack_name,
            TemplateBody=json.dumps(translated),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()],
            Capabilities=CAPABILITIES,  # type: ignore[arg-type]
        )
    except ClientError as exc:
        raise DeployError(f"CloudFormation refused stack {stack_name}: {exc}") from exc
    description = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    status = description["StackStatus"]
    if status != "CREATE_COMPLETE":
        raise DeployError(f"stack {stack_name} ended in {status}: {description.get('StackStatusReason', '')}")
    return Stack.from_description(description)
