"""Tests of breakwater/local/compat/cloudformation_sam.py: the behaviour the patch gives the emulator, and that the
patch is needed (the behaviour breaks without it)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from breakwater.executions import run, unique_name
from breakwater.local import compat
from tests.compat.helpers import change_set_deploy
from tests.workflow.helpers import order


def test_a_change_set_of_the_sam_template_deploys_the_application(embedded, provider):
    outputs = change_set_deploy(embedded, unique_name("sam"), "CREATE", PaymentApiUrl=provider.url)

    assert outputs["StateMachineArn"].startswith("arn:aws:states:")
    assert run(embedded.client("stepfunctions"), outputs["StateMachineArn"], order()).output["status"] == "charged"


@pytest.mark.filterwarnings("ignore:Tried to parse AWS..Serverless")  # what moto says of the untranslated template
def test_without_the_sam_patch_a_change_set_stack_has_no_application(embedded, provider):
    stack_name = unique_name("sam")
    with compat.disabled("cloudformation_sam"):
        try:
            outputs = change_set_deploy(embedded, stack_name, "CREATE", PaymentApiUrl=provider.url)
        except (ClientError, KeyError):  # the transform never ran: the Serverless resources are not there
            outputs = {}

    assert "StateMachineArn" not in outputs
