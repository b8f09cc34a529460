"""Every checkov suppression gives a reason that is true of the resource it sits on."""

from __future__ import annotations

import pytest

from breakwater.template import load_template

TEMPLATE = load_template()
# Words a reason may only use on the resource they describe.
ONLY_ON = {"payment API": {"PaymentFunction"}, "API key is read": {"PaymentFunction"}}


def skips() -> list[tuple[str, str, str]]:
    found = []
    for logical_id, resource in TEMPLATE["Resources"].items():
        for skip in ((resource.get("Metadata") or {}).get("checkov") or {}).get("skip", []):
            found.append((logical_id, skip["id"], skip.get("comment", "")))
    return found


@pytest.mark.parametrize(("logical_id", "check", "reason"), skips(), ids=lambda v: v if len(v) < 40 else "reason")
def test_each_skip_has_a_reason_about_its_own_resource(logical_id, check, reason):
    assert len(reason) > 30, f"{logical_id} {check}: the skip needs its reason"
    for words, owners in ONLY_ON.items():
        if words in reason:
            assert logical_id in owners, f"{logical_id} {check}: '{words}' is not true of {logical_id}"
