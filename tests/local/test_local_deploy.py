"""The local `sam package` against the embedded stack's S3: what a deploy sends, and what it no longer repeats
(template reading: tests/unit/test_local_deploy.py)."""

from __future__ import annotations

from unittest import mock

from breakwater.local.deploy import ARTIFACT_BUCKET, package
from breakwater.template import load_template


def code_uris(template):
    return {k: r["Properties"]["CodeUri"] for k, r in template["Resources"].items() if "CodeUri" in r["Properties"]}


def test_an_artifact_already_in_the_bucket_is_not_uploaded_again(embedded):
    s3 = embedded.client("s3")
    first = package(load_template(), s3)
    with mock.patch.object(s3, "put_object", wraps=s3.put_object) as put:
        second = package(load_template(), s3)

    uris = code_uris(second)
    assert uris and put.call_count == 0
    assert uris == code_uris(first)
    for uri in uris.values():
        bucket, key = uri.removeprefix("s3://").split("/", 1)
        assert bucket == ARTIFACT_BUCKET
        assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] > 0


def test_an_artifact_missing_from_the_bucket_is_uploaded(embedded):
    s3 = embedded.client("s3")
    packaged = package(load_template(), s3)
    uri = packaged["Resources"]["PaymentFunction"]["Properties"]["CodeUri"]
    s3.delete_object(Bucket=ARTIFACT_BUCKET, Key=uri.split("/", 3)[3])

    with mock.patch.object(s3, "put_object", wraps=s3.put_object) as put:
        package(load_template(), s3)

    assert [c.kwargs["Key"] for c in put.call_args_list] == [uri.split("/", 3)[3]]
