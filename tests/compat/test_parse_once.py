"""Tests of breakwater/local/compat/parse_once.py: the behaviour the patch gives the emulator, and that the
patch is needed (the behaviour breaks without it)."""

from __future__ import annotations

import json
from unittest import mock

import pytest
from botocore.exceptions import ClientError

from breakwater.executions import run, unique_name
from breakwater.local import compat
from tests.compat.helpers import JSONATA, ROLE, machine


def test_each_definition_is_parsed_once_for_many_executions(embedded):
    from moto.stepfunctions.parser.asl.parse import asl_parser

    arn = machine(embedded, JSONATA)
    sfn = embedded.client("stepfunctions")
    run(sfn, arn, {"a": 1, "b": 1})
    original = asl_parser.AmazonStateLanguageParser.parse
    with mock.patch.object(asl_parser.AmazonStateLanguageParser, "parse", side_effect=original) as parse:
        results = [run(sfn, arn, {"a": i, "b": 1}) for i in range(3)]
        with compat.disabled("parse_once"):
            run(sfn, arn, {"a": 0, "b": 0})

    assert [r.output["total"] for r in results] == [1, 2, 3]
    assert parse.call_count == 1  # only the execution run without the patch


def test_creating_a_machine_parses_its_definition_once_for_validation_and_executions(embedded):
    from moto.stepfunctions.parser.asl.parse import asl_parser

    definition = {**JSONATA, "Comment": unique_name("once")}  # a definition no earlier test parsed
    original = asl_parser.AmazonStateLanguageParser.parse
    with mock.patch.object(asl_parser.AmazonStateLanguageParser, "parse", side_effect=original) as parse:
        arn = machine(embedded, definition)
        result = run(embedded.client("stepfunctions"), arn, {"a": 2, "b": 3})
        patched = parse.call_count
        parse.reset_mock()
        with compat.disabled("parse_once"):
            arn = machine(embedded, {**definition, "Comment": unique_name("twice")})
            run(embedded.client("stepfunctions"), arn, {"a": 2, "b": 3})

    assert result.output == {"total": 5}
    assert patched == 1
    assert parse.call_count == 2  # moto: once to validate, once more for the execution


def test_an_invalid_definition_is_refused_as_aws_names_it_with_motos_message(embedded):
    sfn = embedded.client("stepfunctions")
    bad = json.dumps({"StartAt": "Nowhere", "States": {"A": {"Type": "Bogus", "End": True}}})

    with pytest.raises(ClientError) as refused:
        sfn.create_state_machine(name=unique_name("bad"), definition=bad, roleArn=ROLE)
    with compat.disabled("parse_once"), pytest.raises(ClientError) as refused_by_moto:
        sfn.create_state_machine(name=unique_name("bad"), definition=bad, roleArn=ROLE)

    assert refused.value.response["Error"]["Code"] == "InvalidDefinition"
    assert refused_by_moto.value.response["Error"]["Code"] == ""  # moto's parser exceptions lose their code
    assert refused.value.response["Error"]["Message"] == refused_by_moto.value.response["Error"]["Message"]
    assert "Bogus" in refused.value.response["Error"]["Message"]
