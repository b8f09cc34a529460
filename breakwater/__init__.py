"""Breakwater: a circuit breaker for AWS Step Functions calls to a payment provider.

The AWS application lives beside this package (``template.yaml``,
``statemachine/``, ``functions/``). This package holds the Docker-free local
stack that runs that application unchanged, the operator CLI and the benchmark.
"""

from __future__ import annotations

__version__ = "0.1.0"
