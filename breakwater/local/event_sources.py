"""Every event source of the local stack, as the Lambda service and EventBridge run them for an account.

On AWS each enabled event source mapping runs, and each scheduled rule fires its targets, whichever stack (or
CLI call) created them. ``local up`` does the same: every poll it runs each enabled SQS and DynamoDB stream
mapping and each ``rate(...)`` rule with a Lambda target found in the account, so a second stack deployed with
``sam deploy --config-env local`` replays its queue and publishes its transitions as the first one does.

The set is read again every ``refresh_seconds``; a source that cannot be built or polled is reported once (one
line: which mapping or rule, and why) and left out, and the others carry on: one stack's broken mapping never
stops another's, nor the server.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from breakwater.local.event_source import (
    RULE_DISABLED,
    PollResult,
    ScheduleSource,
    SqsEventSource,
    StreamEventSource,
    is_sqs,
    is_stream,
    list_mappings,
)

_LOG = logging.getLogger(__name__)
REFRESH_SECONDS = 2.0


class Source(Protocol):
    def poll_once(self) -> PollResult: ...


@dataclass
class AccountEventSources:
    """The event sources found in one account and region; ``client(service)`` gives the clients."""

    client: Callable[[str], Any]
    sqs_mappings: bool = True
    """Run SQS mappings (``local up --no-replay`` turns them off: queued orders stay on their queues)."""
    on_sqs_batch: Callable[[str, PollResult], None] | None = None
    """Called with the function's ARN and the result of each SQS batch that received messages."""
    refresh_seconds: float = REFRESH_SECONDS
    report: Callable[[str], None] = field(default=_LOG.warning)
    clock: Callable[[], float] = field(default=time.monotonic)
    sources: dict[str, Source] = field(default_factory=dict)
    """By key: ``mapping:<UUID>`` or ``rule:<rule ARN>:<target ARN>``."""
    _reported: set[str] = field(default_factory=set)
    _refreshed_at: float | None = None

    def poll_once(self) -> int:
        """Refresh the set when due, then poll every source once; returns how many sources ran."""
        now = self.clock()
        if self._refreshed_at is None or now - self._refreshed_at >= self.refresh_seconds:
            self._refreshed_at = now
            self.refresh()
        for key, source in list(self.sources.items()):
            try:
                result = source.poll_once()
            except Exception as exc:  # one source's failure must not stop the others
                self._once(f"poll:{key}:{type(exc).__name__}", f"event source {key} failed: {exc}; it is retried")
                continue
            if isinstance(source, SqsEventSource) and result.received and self.on_sqs_batch is not None:
                self.on_sqs_batch(source.function_arn, result)
        return len(self.sources)

    def refresh(self) -> None:
        """Add the mappings and schedules that appeared, drop the ones that went (or were disabled)."""
        wanted: dict[str, Callable[[], Source]] = {}
        try:
            wanted.update(self._mappings())
            wanted.update(self._schedules())
        except Exception as exc:  # listing failed: keep what runs, try again later
            self._once(f"list:{type(exc).__name__}", f"cannot list event sources: {exc}; retried")
            return
        for key in set(self.sources) - set(wanted):
            del self.sources[key]
        for key, build in wanted.items():
            if key in self.sources:
                continue
            try:
                self.sources[key] = build()
            except Exception as exc:  # this source is left out, the others run
                self._once(f"build:{key}", f"event source {key} not started: {exc}")

    def _mappings(self) -> dict[str, Callable[[], Source]]:
        lambda_client, sqs = self.client("lambda"), self.client("sqs")
        found: dict[str, Callable[[], Source]] = {}
        for mapping in list_mappings(lambda_client):
            if mapping.get("State", "Enabled") not in ("Enabled", "Creating", "Enabling", "Updating"):
                continue
            key = f"mapping:{mapping['UUID']}"
            if is_sqs(mapping) and self.sqs_mappings:
                found[key] = functools.partial(SqsEventSource.from_mapping, lambda_client, sqs, mapping)
            elif is_stream(mapping):
                found[key] = functools.partial(StreamEventSource.from_mapping, lambda_client, mapping, sqs)
        return found

    def _schedules(self) -> dict[str, Callable[[], Source]]:
        events, lambda_client = self.client("events"), self.client("lambda")
        found: dict[str, Callable[[], Source]] = {}
        for page in events.get_paginator("list_rules").paginate():
            for rule in page.get("Rules", []):
                if not rule.get("ScheduleExpression") or rule.get("State") == RULE_DISABLED:
                    continue
                targets = events.list_targets_by_rule(Rule=rule["Name"]).get("Targets", [])
                for target in targets:
                    if ":lambda:" in target["Arn"]:
                        found[f"rule:{rule['Arn']}:{target['Arn']}"] = _schedule(events, lambda_client, rule, target)
        return found

    def _once(self, key: str, line: str) -> None:
        """Report ``line`` the first time ``key`` happens (a failing source would otherwise fill the log)."""
        if key not in self._reported:
            self._reported.add(key)
            self.report(line)


def _schedule(events: Any, lambda_client: Any, rule: dict[str, Any], target: dict[str, Any]) -> Callable[[], Source]:
    """How to build the schedule of ``rule``'s Lambda ``target`` (built only when it is new)."""
    return functools.partial(ScheduleSource.from_rule, events, lambda_client, rule, target, rule["Arn"].split(":")[3])
