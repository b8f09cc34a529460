"""Patch ``assign_literals``: a string written in ``Assign`` kept its JSON escapes (``"\\""`` became the two
characters backslash and quote), and ``assignedVariables`` wrote a string value between quotes without
escaping it.

AWS decodes the definition's strings as JSON everywhere, ``Assign`` too: after ``"Assign": {"var": "\\""}``,
``{% $var = '"' %}`` is true, and the history shows the value JSON-encoded, ``"\\"\\\\\\"\\""`` (recording
``test_escape_sequence_parsing[ESCAPE_SEQUENCES_JSONATA_COMPARISON_ASSIGN]``).
"""

from __future__ import annotations

import json
from typing import Any

from moto.stepfunctions.parser.asl.antlr.runtime.ASLLexer import ASLLexer
from moto.stepfunctions.parser.asl.antlt4utils.antlr4utils import is_terminal
from moto.stepfunctions.parser.asl.component.common.assign.assign_template_value_terminal import (
    AssignTemplateValueTerminalLit,
)
from moto.stepfunctions.parser.asl.eval.variable_store import VariableStore
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str

from breakwater.local.compat.base import Patch


def _decoded(context: Any) -> str | None:
    """A string token of the definition, decoded as the JSON it is."""
    if is_terminal(context, ASLLexer.NULL):
        return None
    text = context.getText()
    return str(json.loads(text)) if text.startswith('"') else str(text)


_original_string_jsonata = Preprocessor.visitAssign_template_value_terminal_string_jsonata


def _string_literal(self: Any, ctx: Any) -> AssignTemplateValueTerminalLit:
    return AssignTemplateValueTerminalLit(value=_decoded(ctx.string_literal()))


def _string_jsonata(self: Any, ctx: Any) -> Any:
    """A ``{% %}`` string is an expression in JSONata states; in JSONPath states it is a string like any other."""
    value = _original_string_jsonata(self, ctx)
    if isinstance(value, AssignTemplateValueTerminalLit):
        return AssignTemplateValueTerminalLit(value=_decoded(ctx.string_jsonata()))
    return value


def _assigned_variables(self: Any) -> dict[str, str]:
    """Each variable the state assigned, as its JSON text (``"abc"`` for a string, quotes escaped)."""
    return {
        identifier: to_json_str(self.get(identifier), separators=(",", ":")) for identifier in self._declaration_tracing
    }


PATCH = Patch(
    "assign_literals",
    "Assign's strings are decoded as JSON, and assignedVariables shows each value as JSON text",
    [
        (Preprocessor, "visitAssign_template_value_terminal_string_literal", _string_literal),
        (Preprocessor, "visitAssign_template_value_terminal_string_jsonata", _string_jsonata),
        (VariableStore, "get_assigned_variables", _assigned_variables),
    ],
)
