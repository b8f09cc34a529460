"""Tables in docs/ that exist in code are generated from it, and a stale one fails here."""

from __future__ import annotations

from pathlib import Path

import pytest

from breakwater import capacity, docgen
from breakwater.local import compat


def test_every_generated_table_in_the_readme_and_docs_is_current() -> None:
    assert docgen.stale() == [], "a generated table in README.md or docs/ is stale: run `make docs`"


def test_a_stale_table_is_found_and_rewritten(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("before\n<!-- generated: quotas -->\nan old table\n<!-- end: quotas -->\nafter\n")

    assert docgen.stale(docgen.pages(tmp_path, readme=None)) == [page]
    page.write_text(docgen.render(page.read_text()))
    assert docgen.stale(docgen.pages(tmp_path, readme=None)) == []
    assert "`lambda.account_concurrency`" in page.read_text() and "an old table" not in page.read_text()


def test_an_unknown_table_name_is_an_error() -> None:
    with pytest.raises(KeyError, match="nosuch"):
        docgen.render("<!-- generated: nosuch -->\n<!-- end: nosuch -->")


def test_standard_is_bound_first_by_its_start_quota_and_express_by_the_bulkhead_or_concurrency() -> None:
    standard = capacity.ceilings("STANDARD", 0.25, 0)
    express = capacity.ceilings("EXPRESS", 0.25, 100)

    assert (standard[0].quota, standard[0].orders_per_s) == ("stepfunctions.standard_start_refill", 300)
    assert (express[0].quota, express[0].orders_per_s) == ("PaymentConcurrency", 400)
    key = next(c for c in express if c.quota == "dynamodb.partition_read_units")
    assert key.orders_per_s == 6000  # 3,000 read units, half a unit per eventually consistent read


def test_express_costs_a_fraction_of_standard_per_healthy_order() -> None:
    standard, express = capacity.dollars_per_million("STANDARD"), capacity.dollars_per_million("EXPRESS")

    assert 70 < standard < 80  # three transitions at $25 per million, and the rest
    assert express < standard / 20


def test_every_compat_patch_has_a_row_from_its_modules_docstring() -> None:
    rows = dict(docgen.compat_patches())

    assert list(rows) == list(compat.PATCHES)  # every patch, in MODULES order
    assert rows["start_time"].startswith("`$$.Execution.StartTime` is a Python datetime")
    assert all(text and "``" not in text and "\n" not in text for text in rows.values())


def test_a_patch_module_whose_docstring_does_not_name_its_patch_is_an_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(docgen, "COMPAT", tmp_path)
    for module, name in zip(compat.MODULES, compat.PATCHES, strict=True):
        (tmp_path / f"{module}.py").write_text(f'"""Patch ``{name}``: fine."""\n')
    (tmp_path / "timestamps.py").write_text('"""Timestamps, somehow."""\n')

    with pytest.raises(ValueError, match=r"timestamps\.py: its docstring must start"):
        list(docgen.compat_patches())


def test_the_cli_tables_hold_every_command_and_option_argparse_knows() -> None:
    commands = docgen.cli_commands_table()
    options = docgen.cli_options_table()

    every = "demo,local up,start,history,status,order,trip,reset,disable,shadow,enforce,forget,invoke,graph,console"
    for words in every.split(","):
        assert f"| `breakwater {words}" in commands, words
    assert "`breakwater demo [--out OUT] [--summary-json SUMMARY_JSON] [--story {outage,rate}]`" in commands
    assert "| `start` | `--timeout TIMEOUT` | seconds to wait, above 0 (default: 120) |" in options
    assert "| `console` | `--port PORT` | port on 127.0.0.1 (default: 4568; 0: any free one) |" in options
    assert "| [AWS options] | `--endpoint-url ENDPOINT_URL` |" in options
    assert "-h, --help" not in options


def test_the_parameter_table_has_every_template_parameter_with_its_default_and_bounds() -> None:
    from breakwater.template import parameters

    table = docgen.parameters_table()
    rows = {line.split("|")[1].strip(" `"): line for line in table.splitlines()[2:]}

    assert set(rows) == set(parameters())
    assert "| `5` | 0 to 1000 |" in rows["FailureThreshold"]
    assert "`STANDARD`, `EXPRESS`" in rows["WorkflowType"]
