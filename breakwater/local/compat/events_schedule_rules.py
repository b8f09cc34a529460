"""Patch ``events_schedule_rules``: moto lets a schedule-only rule match every PutEvents event and then fails on
its Lambda target (NotImplementedError); on AWS such a rule fires on its schedule only
(``event_source.ScheduleSource``).
"""

from __future__ import annotations

from typing import Any

from moto.events import models as events_models

from breakwater.local.compat.base import Patch

_original_send_to_targets = events_models.Rule.send_to_targets


def _send_to_pattern_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
    """A rule with a schedule and no event pattern fires on its schedule only, never on PutEvents."""
    if self.scheduled_expression and not self.event_pattern.get_pattern():
        return
    _original_send_to_targets(self, original_event, transform_input)


PATCH = Patch(
    "events_schedule_rules",
    "schedule-only EventBridge rules never match PutEvents events",
    [(events_models.Rule, "send_to_targets", _send_to_pattern_targets)],
)
