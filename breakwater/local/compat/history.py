"""Reading an execution's history from inside moto's interpreter (shared by the patches that need it)."""

from __future__ import annotations

from typing import Any

ENTERED_SUFFIX = "StateEntered"


def entered_event(events: list[dict[str, Any]], source_event_id: int) -> dict[str, Any] | None:
    """The StateEntered event of the state that was running at ``source_event_id``: that event, or the last one
    entered before it (in a Map or Parallel, possibly another branch's)."""
    for event in reversed(events[:source_event_id]):
        if str(event.get("type", "")).endswith(ENTERED_SUFFIX):
            return event
    return None


def entered_event_of(env: Any) -> dict[str, Any] | None:
    """The StateEntered event of the state ``env`` is running."""
    manager = getattr(env, "event_manager", None)
    context = getattr(env, "event_history_context", None)
    if manager is None or context is None:
        return None
    return entered_event(manager._history_event_list, context.source_event_id)
