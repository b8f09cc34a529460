"""The local Lambda runtime: each function in its own processes, from its built artifact.

One idea per module: ``spec`` (what a function is, what an invocation answers), ``environment`` (one
execution environment), ``zygote`` (the forking of cold starts), ``pool`` (the :class:`Runtime`: every
function's environments and their bounds), ``remote`` (invocations sent to a Lambda endpoint instead).

What a Lambda execution environment is, and what the workflow can observe of
it, is kept faithful:

* an environment is a process of its own (``lambda_bootstrap.py`` run by the
  runtime's Python, ``python3.13`` where pyenv has it), started with only the
  function's environment variables plus those Lambda itself sets
  (``AWS_LAMBDA_FUNCTION_NAME``, ``LAMBDA_TASK_ROOT``, ``_HANDLER``, ...), and
  with only the function's build (its code and requirements) and the
  runtime-provided packages on ``sys.path``;
* the handler module is imported once per environment (the init phase, at
  most ``INIT_TIMEOUT_SECONDS``) and the environment is reused, warm, by later
  invocations; an init failure is reported as Lambda reports it
  (``Runtime.ImportModuleError``, ``Runtime.HandlerNotFound``, ...) and the
  environment is discarded, so the next invocation initialises again;
* an exception comes back as ``{"errorType": <class name>, "errorMessage": ...,
  "stackTrace": [...]}`` with the function-error flag set, so a Step Functions
  Catch on ``PaymentServiceUnavailable`` matches exactly as on AWS;
* an invocation still running at the function's ``Timeout`` is stopped: its
  process is killed and the invocation is reported as ``Sandbox.Timedout``
  (``Task timed out after N.00 seconds``);
* a function with reserved concurrency R runs at most R invocations at once: one
  more is refused (:class:`ReservedConcurrencyExceeded`, which the Lambda API
  answers as AWS does, ``TooManyRequestsException``); the account's own
  concurrency is enforced only with ``local.aws_limits``;
* each function has at most ``MAX_ENVIRONMENTS`` environments at once
  (``BREAKWATER_LAMBDA_MAX_ENVIRONMENTS``, default 16), or R when that is lower;
  a further concurrent invocation waits for a free one, where AWS would start
  another environment. Environments idle for ``IDLE_SECONDS``
  (``BREAKWATER_LAMBDA_IDLE_SECONDS``, default 60; AWS keeps them for minutes) are
  stopped, and at most ``MAX_TOTAL_ENVIRONMENTS`` live across all functions.

Cold starts are forked from a zygote per build (``lambda_bootstrap``'s zygote mode): a process that has
the build's *libraries* imported (learned from the first environment's init phase) but none of the
function's own modules and none of its variables. Each environment is still a process of its own with
only its variables, and still runs its own init phase (the handler module's import); it starts in about
30 ms instead of the 0.5 s that importing Powertools and the X-Ray SDK takes. ``BREAKWATER_LAMBDA_ZYGOTE=0``
starts every environment as a fresh interpreter instead.

The invoker's wall clock travels with each invocation (see
``lambda_bootstrap``), so a clock patch in a test moves the functions' clock
too. A :class:`Runtime` made with a ``remote_endpoint`` sends every invocation
instead to a Lambda endpoint such as ``sam local start-lambda`` (the real
runtime in Docker), addressed by the function's logical id.

A local stack owns its runtime (``EmbeddedStack.runtime``, ``LocalServer.runtime``) and stops its environments
when it closes; there is no runtime of the process.
"""

from __future__ import annotations

from breakwater.local.runtime.pool import Runtime
from breakwater.local.runtime.spec import TIMEOUT_ERROR, FunctionSpec, InvocationResult, ReservedConcurrencyExceeded

__all__ = ["TIMEOUT_ERROR", "FunctionSpec", "InvocationResult", "ReservedConcurrencyExceeded", "Runtime"]
