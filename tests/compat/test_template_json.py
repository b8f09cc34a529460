"""Tests of breakwater/local/compat/template_json.py: the behaviour the patch gives the emulator, and that the
patch is needed (the behaviour breaks without it)."""

from __future__ import annotations

import json
from unittest import mock

from breakwater.local import compat


def test_a_json_template_is_read_as_json_and_gives_the_same_document():
    import yaml
    from moto.cloudformation.models import Stack as FakeStack

    body = json.dumps(
        {"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "yes", "Delay": 1.5, "N": None}}}}
    )
    with mock.patch.object(yaml, "load", side_effect=yaml.load) as yaml_load:
        read = FakeStack.parse_template(body)
        with compat.disabled("template_json"):
            read_by_moto = FakeStack.parse_template(body)

    assert read == read_by_moto == json.loads(body)
    assert yaml_load.call_count == 1  # only without the patch


def test_a_yaml_template_still_goes_to_motos_yaml_loader():
    from moto.cloudformation.models import Stack as FakeStack

    body = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: !Sub '${AWS::StackName}-q'\n"

    assert FakeStack.parse_template(body) == {
        "Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Fn::Sub": "${AWS::StackName}-q"}}}}
    }
