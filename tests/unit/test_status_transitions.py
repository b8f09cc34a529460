"""The record ends the transitions the table's stream no longer holds (reading them from the stream:
tests/local/test_status_transitions.py)."""

from __future__ import annotations

from breakwater.breaker_record import Breaker, Transition
from breakwater.transition_history import UNKNOWN, TransitionHistory, ending_as_recorded

T0 = 1_796_000_000_123  # ms


def test_the_record_ends_what_the_stream_no_longer_holds() -> None:
    # given: the stream holds a trip, the record says the breaker has since closed (its moves aged out)
    seen = TransitionHistory((Transition("api", "CLOSED", "OPEN", 1, T0, None),))
    record = Breaker("api", state="CLOSED", version=3, last_transition_ms=T0 + 60_000)
    never = Breaker("quiet", exists=False)
    old = Breaker("old", state="FORCED_OPEN", version=7, last_transition_ms=T0 - 86_400_000)
    # when
    ended = ending_as_recorded(seen, [record, never, old])
    # then: every breaker's transitions end in its record's state; a breaker without a record has none
    assert [(t.service, t.before, t.after, t.at_ms) for t in ended.transitions] == [
        ("old", UNKNOWN, "FORCED_OPEN", T0 - 86_400_000),
        ("api", "CLOSED", "OPEN", T0),
        ("api", "OPEN", "CLOSED", T0 + 60_000),
    ]
