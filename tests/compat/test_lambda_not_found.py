"""Tests of breakwater/local/compat/lambda_not_found.py: the behaviour the patch gives the emulator, and that the
patch is needed (the behaviour breaks without it)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from breakwater.local import compat


def test_invoking_a_missing_function_names_the_version_looked_for(embedded):
    with pytest.raises(ClientError) as missing:
        embedded.client("lambda").invoke(FunctionName="no_such_function")

    assert missing.value.response["Error"]["Message"] == (
        "Function not found: arn:aws:lambda:us-east-1:123456789012:function:no_such_function:$LATEST"
    )


def test_without_the_patch_the_missing_function_has_no_version(embedded):
    with compat.disabled("lambda_not_found"), pytest.raises(ClientError) as missing:
        embedded.client("lambda").invoke(FunctionName="no_such_function")

    assert missing.value.response["Error"]["Message"].endswith(":function:no_such_function")
