"""The order record (breakwater/order_record.py): one module for its writers and readers, carried by link."""

from __future__ import annotations

import re
from pathlib import Path

from breakwater import order_record as record
from breakwater.local.build import build_function
from breakwater.template import PROJECT_ROOT

CANONICAL = PROJECT_ROOT / "breakwater" / "order_record.py"
FUNCTIONS = PROJECT_ROOT / "functions"
CARRIERS = {"replay": "ReplayFunction", "checkout": "CheckoutFunction"}


def test_the_functions_carry_the_module_as_a_link_to_it():
    imports = re.compile(r"^from order_record import", re.M)
    readers = sorted(
        {
            path.parent.name
            for path in FUNCTIONS.glob("*/*.py")
            if not path.is_symlink() and imports.search(path.read_text())
        }
    )
    assert readers == sorted(CARRIERS)
    for name in readers:
        carried = FUNCTIONS / name / "order_record.py"
        assert carried.is_symlink(), f"{carried} must be a link to {CANONICAL}, not a copy that can drift"
        assert carried.resolve() == CANONICAL.resolve()


def test_the_build_puts_the_module_itself_in_each_carrier(tmp_path: Path):
    for folder, function in CARRIERS.items():
        built = build_function(function, FUNCTIONS / folder, tmp_path).code_dir / "order_record.py"
        assert built.is_file() and not built.is_symlink(), built
        assert built.read_bytes() == CANONICAL.read_bytes()


def test_every_final_status_has_its_event_and_queued_has_none():
    assert set(record.EVENT_OF) == set(record.OrderStatus) - {record.OrderStatus.QUEUED}
    assert {event.value for event in record.OrderEvent} == {"OrderCharged", "OrderDeclined", "OrderDeadLettered"}


def test_the_dedup_key_names_one_fact():
    def outcome(status: str, **fields: str) -> record.Outcome:
        return record.Outcome(record.OrderStatus(status), "ord-1", "api", 1, message_id="m-9", **fields)

    assert outcome("charged", charge_id="ch_1").dedup_key() == "ord-1#charged#ch_1"
    assert outcome("declined", reason="card_declined").dedup_key() == "ord-1#declined#card_declined"
    assert outcome("dead_lettered", reason="replay_attempts_exhausted").dedup_key() == "ord-1#dead_lettered#m-9"


def test_the_documented_events_and_statuses_are_the_module_s():
    page = (PROJECT_ROOT / "docs" / "adopting-breakwater.md").read_text()
    for event in record.OrderEvent:
        assert f"`{event.value}`" in page
    for status in (*record.OrderStatus, record.UNKNOWN):
        assert f"`{status}`" in page
