"""Tables in docs/ that exist in code are generated from it, and a stale one fails here."""

from __future__ import annotations

from pathlib import Path

import pytest

from breakwater import capacity, docgen


def test_every_generated_table_in_docs_is_current() -> None:
    assert docgen.stale() == [], "a generated table in docs/ is stale: run `make docs`"


def test_a_stale_table_is_found_and_rewritten(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("before\n<!-- generated: quotas -->\nan old table\n<!-- end: quotas -->\nafter\n")

    assert docgen.stale(tmp_path) == [page]
    page.write_text(docgen.render(page.read_text()))
    assert docgen.stale(tmp_path) == []
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
