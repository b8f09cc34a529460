"""Patch ``parse_once``: moto parses the whole definition with ANTLR for every execution (about 0.2 s for this
workflow); parse each definition once and hand every execution its own copy (unpickled: 3x faster than a deep
copy).
"""

from __future__ import annotations

import pickle
import threading
from typing import Any

from moto.stepfunctions.parser.backend import execution_worker

from breakwater.local.compat.base import Patch

_PARSED: dict[str, bytes] = {}
_PARSED_LOCK = threading.Lock()


def _parsed_entrypoint(self: Any) -> Any:
    """A fresh copy of the parsed program for this execution (its components hold per-execution state).

    The program is parsed once per definition and kept pickled: unpickling a copy takes about a third of
    the time of ``copy.deepcopy`` of the parsed tree (9 ms against 30 ms for this workflow).
    """
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    definition = self._evaluation_details.state_machine_details.definition
    with _PARSED_LOCK:
        program = _PARSED.get(definition)
        if program is None:
            program = pickle.dumps(AmazonStateLanguageParser.parse(definition)[0], protocol=pickle.HIGHEST_PROTOCOL)
            _PARSED[definition] = program
    return pickle.loads(program)  # noqa: S301 - bytes this process pickled itself


PATCH = Patch(
    "parse_once",
    "parse each definition once, not once per execution",
    [(execution_worker.ExecutionWorker, "_get_evaluation_entrypoint", _parsed_entrypoint)],
)
