"""A small soak in every test run (`make soak` runs 500 orders at concurrency 25)."""

from __future__ import annotations

from breakwater.soak import run_soak


def test_small_soak_loses_nothing_and_charges_each_order_once():
    report = run_soak(orders=60, concurrency=10, seed=5)

    summary = report.as_dict()
    assert summary["lost"] == []
    assert summary["doubleCharged"] == []
    assert summary["chargedWithoutOrder"] == []
    assert summary["leftOnQueue"] == 0
    final = summary["final"]
    assert (
        final.get("charged", 0) + final.get("declined", 0) + final.get("invalid", 0) + len(summary["deadLettered"])
        == 60
    )
    assert summary["trips"] >= 1
    assert summary["transitionsMatchVersion"]
    assert summary["oneOpenPerTrip"]
    assert report.ok
