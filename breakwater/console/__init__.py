"""A local Step Functions console: executions with their graph and event table, the breakers, the provider.

``breakwater local up`` serves it at ``/console`` (:func:`mount_local`); ``breakwater console``
serves the same pages against any endpoint, real AWS included (:func:`add_parser`).
"""

from __future__ import annotations

from breakwater.console.app import ConsoleApp, Settings
from breakwater.console.serve import ConsoleServer, add_parser, mount_local

__all__ = ["ConsoleApp", "ConsoleServer", "Settings", "add_parser", "mount_local"]
