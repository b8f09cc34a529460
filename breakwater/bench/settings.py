"""The breaker settings every policy shares in the benchmark."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BreakerSettings:
    """One set of breaker settings, given to the reference breaker and, as template parameters, to Breakwater.

    Short timings keep the benchmark's real time small. ``max_cooldown_s``
    equals ``cooldown_s``, so Breakwater's growing cooldown stays flat and both
    breakers wait the same time after every trip; ``success_threshold`` 1
    matches the reference, which closes on one half-open success.
    """

    threshold: int = 5
    window_s: int = 60
    cooldown_s: int = 2
    max_cooldown_s: int = 2
    success_threshold: int = 1
    max_probes: int = 1
    probe_lease_s: int = 5
    call_timeout_s: int = 1
    service: str = "payment-api"
    # Payment-function environments started before a scenario (as provisioned concurrency would): each is a
    # process whose cold start (about 0.5 to 1.5 s here) would otherwise land inside a 1 s call timeout.
    warm_environments: int = 8

    def template_parameters(self) -> dict[str, int | str]:
        return {
            "ServiceName": self.service,
            "FailureThreshold": self.threshold,
            "FailureWindowSeconds": self.window_s,
            "CooldownSeconds": self.cooldown_s,
            "MaxCooldownSeconds": self.max_cooldown_s,
            "SuccessThreshold": self.success_threshold,
            "HalfOpenMaxProbes": self.max_probes,
            "ProbeLeaseSeconds": self.probe_lease_s,
            "CallTimeoutSeconds": self.call_timeout_s,
            "WorkflowType": "STANDARD",
        }
