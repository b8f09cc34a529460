"""The local `sam package` and template reading: what a deploy sends, and what it no longer repeats."""

from __future__ import annotations

from breakwater.template import load_template


def test_each_read_of_the_template_is_a_copy_of_its_own():
    first = load_template()
    first["Resources"].clear()

    assert load_template()["Resources"]


def test_a_changed_template_file_is_read_again(tmp_path):
    path = tmp_path / "template.yaml"
    path.write_text("Resources:\n  A:\n    Type: AWS::SQS::Queue\n")
    assert list(load_template(path)["Resources"]) == ["A"]

    path.write_text("Resources:\n  B:\n    Type: !Sub AWS::SQS::Queue\n")
    assert load_template(path)["Resources"] == {"B": {"Type": {"Fn::Sub": "AWS::SQS::Queue"}}}
