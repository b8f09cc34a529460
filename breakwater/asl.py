"""The workflow's authored source, and the deployed ASL generated from it (``make asl``).

``statemachine/circuit_breaker.asl.yaml`` is where the workflow is written and reviewed. It is
YAML so that it can say a thing once: its ``x-shared`` section names each repeated block (the
DynamoDB Retry, the bookkeeping Catch, the payment call's catchers) and each expression used in
more than one place with an anchor, and the states refer to them (``*dynamodb-retry``, or
``<<: *bookkeeping-catch`` with the ``Next`` that differs). Long JSONata is written over several
lines, with ``/* comments */``.

``statemachine/circuit_breaker.asl.json`` is what SAM deploys and what the Step Functions
console shows. It is generated: ``x-shared`` is left out (it is not ASL), anchors are expanded,
and each JSONata template is folded back to one line without its comments, so the deployed
expressions read as they always have. ``tests/template/test_asl_source.py`` fails when the
committed file is not what the source generates.

A state may carry ``x-`` keys: the workflow's own vocabulary where ASL has no field for it, read by the code
from here (:func:`state_metadata`) and left out of the generated ASL. ``x-decisions`` on a Choice names what
each way out means (the picture and the console label its edges so); ``x-breaker-transition`` on a Task names the
breaker move its conditional write makes (``{from: CLOSED, to: OPEN}``).

``python -m breakwater.asl`` writes the file; ``--check`` only compares.
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

from breakwater.template import ASL_PATH

SOURCE_PATH = ASL_PATH.with_suffix(".yaml")
SHARED_KEY = "x-shared"
PATHS_KEY = "x-paths"  # the paths' names and the rules that name them (breakwater.executions.path_label)
TOP_KEYS = (SHARED_KEY, PATHS_KEY)  # the top-level keys left out of the ASL
STATE_KEYS = ("x-decisions", "x-breaker-transition", "x-role")  # the x- keys a state may carry
_OPENERS = "([{"
_CLOSERS = ")]}"


class AslSourceError(ValueError):
    """The authored source cannot be turned into a definition; the message names the place."""


class _SourceLoader(yaml.SafeLoader):
    """SafeLoader with JSON's scalars, that refuses what would silently change the definition.

    Plain scalars resolve as in YAML 1.2's JSON schema: ``true``/``false``, ``null``, decimal integers
    and floats; everything else is a string (no ``1:30`` as 90, ``010`` as 8, ``2024-01-01`` as a date).
    A YAML 1.1 boolean spelling (``yes``, ``On``, ``True``...) is an error: quote it or write
    ``true``/``false``. A key written twice in one mapping is an error (PyYAML keeps the last); a key
    that overrides one brought in by a ``<<:`` merge is not, that is how a shared block is reused with
    its own ``Next``.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        merges = 0
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                merges += 1
                if merges > 1:
                    raise AslSourceError(f"a second <<: merge in one mapping ({_where(key_node)}); merge a list")
                continue
            key = self.construct_object(key_node, deep=True)  # type: ignore[no-untyped-call]
            if key in seen:
                raise AslSourceError(
                    f"key {key!r} is written twice in one mapping ({_where(key_node)}); PyYAML would keep only the last"
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]


def _where(node: yaml.Node) -> str:
    return f"line {node.start_mark.line + 1}, column {node.start_mark.column + 1}"


_MERGE_TAG = "tag:yaml.org,2002:merge"
_AMBIGUOUS_TAG = "tag:breakwater,2026:yaml-1.1-boolean"
_KEPT_TAGS = {_MERGE_TAG, "tag:yaml.org,2002:null", "tag:yaml.org,2002:value"}
_SourceLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag in _KEPT_TAGS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_SourceLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$"), list("tf"))
_SourceLoader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^-?(?:0|[1-9][0-9]*)$"), list("-0123456789"))
_SourceLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?$"),
    list("-0123456789"),
)
_SourceLoader.add_implicit_resolver(
    _AMBIGUOUS_TAG,
    re.compile(r"^(?:yes|Yes|YES|no|No|NO|True|TRUE|False|FALSE|on|On|ON|off|Off|OFF)$"),
    list("yYnNtTfFoO"),
)


def _refuse_ambiguous(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    raise AslSourceError(
        f"{node.value!r} ({_where(node)}) is a boolean in YAML 1.1 and a string in JSON: "
        f"write true or false, or quote it"
    )


_SourceLoader.add_constructor(_AMBIGUOUS_TAG, _refuse_ambiguous)
_VALUE_BEFORE = set("([{,:;?&=<>!+-*%|^~")  # after one of these (or nothing), a / opens a regex
_VALUE_WORDS = ("and", "or", "in")


def _skip_quoted(text: str, start: int, escapes: bool = True) -> int:
    """The index just past the literal that opens at ``start``: a string, or a backtick-quoted name."""
    quote = text[start]
    index = start + 1
    while index < len(text):
        char = text[index]
        if char == "\\" and escapes:
            index += 2
            continue
        if char == quote:
            return index + 1
        if char == "\n":
            break
        index += 1
    kind = "name" if quote == "`" else "string literal"
    raise AslSourceError(f"unterminated {kind} in JSONata: {text[start : start + 60]!r}")


def _skip_regex(text: str, start: int) -> int:
    """The index just past the regex literal ``/.../flags`` that opens at ``start``."""
    index, in_class = start + 1, False
    while index < len(text) and text[index] != "\n":
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        elif char == "/" and not in_class:
            index += 1
            while index < len(text) and text[index].isalpha():
                index += 1
            return index
        index += 1
    raise AslSourceError(f"unterminated regex in JSONata: {text[start : start + 60]!r}")


def _skip_gap(text: str, start: int) -> int:
    """The index just past the whitespace and comments that begin at ``start``."""
    index = start
    while index < len(text):
        if text[index].isspace():
            index += 1
        elif text.startswith("/*", index):
            close = text.find("*/", index + 2)
            if close < 0:
                raise AslSourceError(f"unterminated comment in JSONata: {text[index : index + 60]!r}")
            index = close + 2
        else:
            break
    return index


def _value_expected(out: list[str]) -> bool:
    """Whether a ``/`` written next opens a regex (a value is expected) rather than divides."""
    written = "".join(out[-4:]).rstrip()
    if not written or written.endswith("{%"):
        return True
    if written[-1] in _VALUE_BEFORE:
        return True
    return any(re.search(rf"(?<![\w$]){word}$", written) for word in _VALUE_WORDS)


def fold_jsonata(template: str) -> str:
    """One ``{% ... %}`` template on one line: comments dropped, line breaks folded.

    Outside string literals, backtick names and regex literals, a run of whitespace and
    ``/* comments */`` that holds a line break or a comment becomes one space, or nothing after an
    opening bracket or before a closing one. Whitespace within a line, and everything inside a
    literal, is kept as written.
    """
    out: list[str] = []
    index = 0
    while index < len(template):
        char = template[index]
        if char in "'\"`":
            end = _skip_quoted(template, index, escapes=char != "`")
        elif char.isspace() or template.startswith("/*", index):
            end = _skip_gap(template, index)
            run = template[index:end]
            if "\n" not in run and "/*" not in run:
                out.append(run)
            else:
                before = out[-1][-1] if out and out[-1] else ""
                after = template[end] if end < len(template) else ""
                if before and after and before not in _OPENERS and after not in _CLOSERS:
                    out.append(" ")
            index = end
            continue
        elif char == "/" and _value_expected(out):
            end = _skip_regex(template, index)
        else:
            end = index + 1
        out.append(template[index:end])
        index = end
    return "".join(out).strip()


def _fold(node: Any, where: str = "") -> Any:
    if isinstance(node, dict):
        return {key: _fold(value, f"{where}/{key}") for key, value in node.items()}
    if isinstance(node, list):
        return [_fold(value, f"{where}[{i}]") for i, value in enumerate(node)]
    if isinstance(node, str) and node.startswith("{%"):
        folded = fold_jsonata(node)
        if not folded.endswith("%}"):
            raise AslSourceError(f"{where}: a JSONata template must end with %}}: {folded[-40:]!r}")
        return folded
    return node


def _read_source(path: Path) -> dict[str, Any]:
    """The source's YAML document, checked to be a definition (a mapping with States)."""
    try:
        document = yaml.load(path.read_text(), Loader=_SourceLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise AslSourceError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(document, dict) or "States" not in document:
        raise AslSourceError(f"{path}: must be a mapping with States, as an ASL definition is")
    return document


def load_source(path: Path = SOURCE_PATH) -> dict[str, Any]:
    """The definition the source describes: plain data, as deployed (before substitutions)."""
    document = _read_source(path)
    extensions = sorted(key for key in document if str(key).startswith("x-") and key not in TOP_KEYS)
    if extensions:
        raise AslSourceError(f"{path}: unknown top-level keys {extensions}; only {TOP_KEYS} are left out of the ASL")
    for key in TOP_KEYS:
        document.pop(key, None)
    _take_state_metadata(document, path)
    # A round trip through JSON gives every alias its own copy and checks the data is JSON.
    try:
        folded: dict[str, Any] = json.loads(json.dumps(_fold(document), allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise AslSourceError(f"{path}: not JSON data: {exc}") from exc
    return folded


def _take_state_metadata(document: dict[str, Any], path: Path) -> dict[str, dict[str, Any]]:
    """Remove every state's ``x-`` keys from ``document``; returns them, per state."""
    found: dict[str, dict[str, Any]] = {}
    for name, state in (document.get("States") or {}).items():
        if not isinstance(state, dict):
            continue
        keys = [key for key in state if str(key).startswith("x-")]
        unknown = sorted(str(key) for key in keys if key not in STATE_KEYS)
        if unknown:
            raise AslSourceError(f"{path}: state {name!r} has unknown keys {unknown}; a state may carry {STATE_KEYS}")
        if keys:
            found[name] = {key: state.pop(key) for key in keys}
    return found


@functools.cache
def _metadata(path: Path) -> dict[str, dict[str, Any]]:
    document = _read_source(path)
    found = _take_state_metadata(document, path)
    found[PATHS_KEY] = {"rules": document.get(PATHS_KEY) or []}
    return json.loads(json.dumps(found))


def path_rules(path: Path = SOURCE_PATH) -> list[dict[str, Any]]:
    """The source's ``x-paths``: each path's ``name`` and the rule that names it, first match first."""
    return list(_metadata(path)[PATHS_KEY]["rules"])


def state_metadata(key: str, path: Path = SOURCE_PATH) -> dict[str, Any]:
    """State name -> the value of its ``key`` (one of :data:`STATE_KEYS`), for the states that carry it, in order."""
    if key not in STATE_KEYS:
        raise ValueError(f"{key}: not a state key of the source ({', '.join(STATE_KEYS)})")
    return {name: keys[key] for name, keys in _metadata(path).items() if name != PATHS_KEY and key in keys}


def state_with_role(role: str, path: Path = SOURCE_PATH) -> str:
    """The name of the one state whose ``x-role`` is ``role`` (code that must find a state asks by its role, so a
    rename is one edit of the source)."""
    named = [name for name, value in state_metadata("x-role", path).items() if value == role]
    if len(named) != 1:
        raise AslSourceError(f"{path}: {len(named)} states have x-role {role!r}; exactly one must")
    return named[0]


def render(definition: dict[str, Any]) -> str:
    """The committed file's text: two-space JSON, UTF-8 as written, one trailing newline."""
    return json.dumps(definition, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def generated(source: Path = SOURCE_PATH) -> str:
    """What ``make asl`` writes for ``source``."""
    return render(load_source(source))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m breakwater.asl", description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SOURCE_PATH)
    parser.add_argument("--output", type=Path, default=ASL_PATH)
    parser.add_argument("--check", action="store_true", help="exit 1 if the output is not what the source generates")
    args = parser.parse_args(argv)
    try:
        text = generated(args.source)
    except (AslSourceError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    current = args.output.read_text() if args.output.exists() else None
    if args.check:
        if current != text:
            print(f"{args.output} is not what {args.source} generates: run `make asl`", file=sys.stderr)
            return 1
        print(f"{args.output} is current")
        return 0
    if current != text:
        args.output.write_text(text)
        print(f"wrote {args.output}")
    else:
        print(f"{args.output} is current")
    return 0


if __name__ == "__main__":
    sys.exit(main())
