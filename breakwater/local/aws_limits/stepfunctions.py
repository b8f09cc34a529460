"""Step Functions' quotas: StartExecution and StartSyncExecution buckets, and STANDARD state transitions.

* StartExecution draws from its workflow type's bucket (STANDARD and EXPRESS have their own); an empty
  bucket answers ``ThrottlingException`` ("Rate exceeded"), and nothing starts.
* StartSyncExecution (EXPRESS) draws from a bucket of its own.
* Every state a STANDARD execution enters, and every retry, draws one state transition. An empty bucket
  delays the transition until a token is there ("Step Functions delays state transitions until the bucket
  for the quota is filled"): no error, the execution just runs slower. EXPRESS has no such quota.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from breakwater.local.aws_limits.buckets import Clock, TokenBucket
from breakwater.local.aws_limits.errors import states_throttled
from breakwater.local.aws_limits.observed import Observed
from breakwater.quotas import Limits

STANDARD = "STANDARD"
EXPRESS = "EXPRESS"
SYNC = "SYNC"
_BUCKETS = {
    STANDARD: ("stepfunctions.standard_start_refill", "stepfunctions.standard_start_bucket"),
    EXPRESS: ("stepfunctions.express_start_refill", "stepfunctions.express_start_bucket"),
    SYNC: ("stepfunctions.sync_start_refill", "stepfunctions.sync_start_bucket"),
}


class StepFunctionsQuotas:
    """The API buckets per workflow type and the STANDARD transition bucket."""

    def __init__(self, limits: Limits, observed: Observed, clock: Clock, sleep: Callable[[float], None]) -> None:
        self._observed = observed
        self._sleep = sleep
        self._starts = {
            kind: TokenBucket(limits.value(refill), limits.value(size), clock)
            for kind, (refill, size) in _BUCKETS.items()
        }
        self._transitions = TokenBucket(
            limits.value("stepfunctions.standard_transition_refill"),
            limits.value("stepfunctions.standard_transition_bucket"),
            clock,
        )
        self._lock = threading.Lock()

    def start(self, kind: str, workflow_type: str, machine: str = "") -> None:
        """Admit one StartExecution (``kind`` STANDARD or EXPRESS) or StartSyncExecution (SYNC), or throttle it."""
        if not self._starts[kind].take(1):
            self._observed.throttle("Step Functions", "ThrottlingException", f"{kind} start", machine)
            raise states_throttled()
        self._observed.started(workflow_type)

    def transition(self, workflow_type: str, machine: str = "") -> None:
        """One state entered or one retry: STANDARD waits for a token; EXPRESS is only counted."""
        delay = self._transitions.reserve(1) if workflow_type == STANDARD else 0.0
        self._observed.transition(workflow_type, delay, machine)
        if delay > 0:
            self._sleep(delay)


def _workflow_type(response: Any, arn: str) -> str:
    try:
        return str(response.stepfunction_backend.describe_state_machine(arn).type or STANDARD)
    except Exception:  # no such machine: the API answers that itself
        return STANDARD


def wrap_start(quotas: StepFunctionsQuotas, original: Callable[..., Any], sync: bool) -> Callable[..., Any]:
    """StepFunctionResponse.start_execution or start_sync_execution, admitted by its bucket first."""

    def limited(self: Any) -> Any:
        machine = self._get_param("stateMachineArn")
        workflow_type = _workflow_type(self, machine)
        quotas.start(SYNC if sync else workflow_type, workflow_type, machine)
        return original(self)

    return limited


def _execution_type(env: Any) -> str:
    value = getattr(env, "execution_type", STANDARD)
    return str(getattr(value, "value", value))


def _machine(env: Any) -> str:
    """The ARN of the state machine ``env`` runs (its context object's StateMachine.Id)."""
    try:
        return str(env.states.context_object.context_object_data["StateMachine"]["Id"])
    except (AttributeError, KeyError, TypeError):
        return ""


def wrap_state_entry(quotas: StepFunctionsQuotas, original: Callable[..., Any]) -> Callable[..., Any]:
    """``CommonStateField._eval_body``: each state entered is a transition."""

    def limited(self: Any, env: Any) -> Any:
        quotas.transition(_execution_type(env), _machine(env))
        return original(self, env)

    return limited


def wrap_retry(quotas: StepFunctionsQuotas, original: Callable[..., Any]) -> Callable[..., Any]:
    """``ExecutionState._handle_retry``: a retry that will run is a transition too (and billed as one)."""

    def limited(self: Any, env: Any, *args: Any, **kwargs: Any) -> Any:
        outcome = original(self, env, *args, **kwargs)
        if getattr(outcome, "name", "") == "CanRetry":
            quotas.transition(_execution_type(env), _machine(env))
        return outcome

    return limited


def real_sleep(seconds: float) -> None:
    time.sleep(seconds)
