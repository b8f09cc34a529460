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

``python -m breakwater.asl`` writes the file; ``--check`` only compares.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

from breakwater.template import ASL_PATH

SOURCE_PATH = ASL_PATH.with_suffix(".yaml")
SHARED_KEY = "x-shared"
_OPENERS = "([{"
_CLOSERS = ")]}"


class AslSourceError(ValueError):
    """The authored source cannot be turned into a definition; the message names the place."""


class _SourceLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key written twice in one mapping (PyYAML keeps the last silently).

    A key that overrides one brought in by a ``<<:`` merge is not a duplicate: that is how a
    shared block is reused with its own ``Next``.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)  # type: ignore[no-untyped-call]
            if key in seen:
                raise AslSourceError(
                    f"key {key!r} is written twice in one mapping ({key_node.start_mark}); "
                    f"PyYAML would keep only the last"
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]


# YAML 1.1's yes/no/on/off booleans would turn ASL strings into booleans; the source writes
# true and false only.
_SourceLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_SourceLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|false)$"),
    list("tf"),
)


def _skip_literal(text: str, start: int) -> int:
    """The index just past the string literal that opens at ``start`` (JSONata's escapes)."""
    quote = text[start]
    index = start + 1
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == quote:
            return index + 1
        if char == "\n":
            break
        index += 1
    raise AslSourceError(f"unterminated string literal in JSONata: {text[start : start + 60]!r}")


def fold_jsonata(template: str) -> str:
    """One ``{% ... %}`` template on one line: comments dropped, line breaks folded.

    Outside string literals, a ``/* ... */`` comment is removed, and a run of whitespace that
    holds a line break becomes one space, or nothing after an opening bracket or before a
    closing one. Whitespace within a line, and everything inside a string literal, is kept as
    written. (A JSONata regex cannot begin with ``*``, so ``/*`` outside a string always opens a
    comment; the source's regexes hold no line break.)
    """
    out: list[str] = []
    index = 0
    while index < len(template):
        char = template[index]
        if char in "'\"":
            end = _skip_literal(template, index)
            out.append(template[index:end])
            index = end
        elif template.startswith("/*", index):
            end = template.find("*/", index + 2)
            if end < 0:
                raise AslSourceError(f"unterminated comment in JSONata: {template[index : index + 60]!r}")
            index = end + 2
        elif char.isspace():
            end = index
            while end < len(template) and (template[end].isspace() or template.startswith("/*", end)):
                if template.startswith("/*", end):
                    close = template.find("*/", end + 2)
                    if close < 0:
                        raise AslSourceError(f"unterminated comment in JSONata: {template[end : end + 60]!r}")
                    end = close + 2
                else:
                    end += 1
            run = template[index:end]
            if "\n" not in run and "/*" not in run:
                out.append(run)
            else:
                before = out[-1][-1] if out and out[-1] else ""
                after = template[end] if end < len(template) else ""
                if before and after and before not in _OPENERS and after not in _CLOSERS:
                    out.append(" ")
            index = end
        else:
            out.append(char)
            index += 1
    return "".join(out).strip()


def _fold(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _fold(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_fold(value) for value in node]
    if isinstance(node, str) and node.lstrip().startswith("{%"):
        return fold_jsonata(node)
    return node


def load_source(path: Path = SOURCE_PATH) -> dict[str, Any]:
    """The definition the source describes: plain data, as deployed (before substitutions)."""
    try:
        document = yaml.load(path.read_text(), Loader=_SourceLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise AslSourceError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(document, dict) or "States" not in document:
        raise AslSourceError(f"{path}: must be a mapping with States, as an ASL definition is")
    extensions = sorted(key for key in document if str(key).startswith("x-") and key != SHARED_KEY)
    if extensions:
        raise AslSourceError(f"{path}: unknown top-level keys {extensions}; only {SHARED_KEY} is left out of the ASL")
    document.pop(SHARED_KEY, None)
    # A round trip through JSON gives every alias its own copy and checks the data is JSON.
    folded: dict[str, Any] = json.loads(json.dumps(_fold(document)))
    return folded


def render(definition: dict[str, Any]) -> str:
    """The committed file's text: two-space JSON, UTF-8 as written, one trailing newline."""
    return json.dumps(definition, indent=2, ensure_ascii=False) + "\n"


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
