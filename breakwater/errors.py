"""Errors raised by the breakwater package."""

from __future__ import annotations

EXIT_INTERRUPTED = 130  # the exit code of a command stopped by Ctrl-C (SIGINT), as shells report it


class BreakwaterError(Exception):
    """Base class of every error breakwater raises on purpose."""


class TemplateError(BreakwaterError):
    """The SAM template could not be read, packaged or translated."""


class DeployError(BreakwaterError):
    """A stack could not be deployed to the local stack."""


class ExecutionTimeout(BreakwaterError):
    """An execution did not finish within the time allowed."""


class FunctionNotFound(BreakwaterError):
    """No function of that name or logical id exists in the template."""


class HandlerError(BreakwaterError):
    """A function's handler could not be loaded."""


class BuildError(BreakwaterError):
    """A function could not be built (its requirements could not be installed)."""
