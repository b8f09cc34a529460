"""Patch ``states_all_terminal``: moto's ``States.ALL`` matches every error; on AWS it catches and retries
no ``States.Runtime``, which always fails the execution.

AWS: "The States.ALL error type ... can't catch the States.DataLimitExceeded terminal error or Runtime
error types" (Step Functions developer guide, "Handling errors in Step Functions workflows"). A task whose
result is too large fails with a ``States.DataLimitExceeded`` that AWS does catch, by name and by
``States.ALL`` (recorded 2024-03-21: tests/parity/recordings/states_errors.json); the terminal one, a state's
own output too large, is raised where no catcher sees it, in moto as on AWS. Without
this, an error inside the local stack that moto reports as ``States.Runtime`` (an exception that is not
the service's answer) would be caught by the workflow's last-resort catchers and look like one of the
workflow's own outcomes (``FallbackUnavailable``, a bookkeeping error) instead of failing loudly.
"""

from __future__ import annotations

from typing import Any

from moto.stepfunctions.parser.asl.component.common.error_name import error_equals_decl

from breakwater.local.compat.base import Patch

TERMINAL_ERRORS = frozenset({"States.Runtime"})
_original_eval_body = error_equals_decl.ErrorEqualsDecl._eval_body


def _eval_body_terminal_aware(self: Any, env: Any) -> None:
    """As moto decides, except that no retrier or catcher matches a terminal error."""
    error_name = env.stack[-1]
    _original_eval_body(self, env)
    if getattr(error_name, "error_name", None) in TERMINAL_ERRORS:
        env.stack[-1] = False


PATCH = Patch(
    "states_all_terminal",
    "States.ALL does not catch or retry States.Runtime, as on AWS",
    [(error_equals_decl.ErrorEqualsDecl, "_eval_body", _eval_body_terminal_aware)],
)
