"""The ``breakwater`` command: the demo, the local stack, and the operator's tools.

Every command but ``demo``, ``local up`` and ``invoke`` talks to a deployed
stack through standard boto3 configuration (``--profile``, ``--region``,
``AWS_*`` variables), an optional ``--endpoint-url`` (or ``AWS_ENDPOINT_URL``)
for the local stack, and finds its resources from the outputs of
``--stack-name`` (or ``BREAKWATER_STACK``, default ``breakwater``).

Exit codes: 0 done; 1 an error (one line on standard error), a failed
execution or a function error; 2 a usage error (as argparse reports it: an
unknown option, a value out of range, JSON that does not parse); 130 stopped by
Ctrl-C before it was done. Values from the user, AWS or the provider are
printed literally: no rich markup or emoji codes are read in them.

The package is the top layer (tests/unit/test_layers.py): only ``breakwater.entry`` imports it.
``parser`` builds the argparse parser, ``render`` prints, ``app`` runs a command line and maps errors to exit
codes; the commands live by group: ``executions`` (start, history, order), ``breakers`` (status, trip, reset,
disable, shadow, enforce, forget), ``local`` (local up, invoke), ``pictures`` (graph, demo).
"""

from __future__ import annotations

from breakwater.cli.app import main

__all__ = ["main"]
