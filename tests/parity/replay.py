"""Replay executions recorded against AWS on the local stack, and compare what each answers.

A recording (``recordings/*.json``, written by ``extract.py``) holds a definition, an input and the history
AWS answered, with LocalStack's placeholders where a value differed from run to run (``<uuid:1>``,
``<region>``, a function's name). Replaying creates what the placeholders stand for (functions from
``functions/``, tables, queues), runs the execution, reads its history and compares it with the recorded
one event by event: every field, ids included; only the timestamps are left out. A placeholder matches any
text, the same text wherever it appears in one recording.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import time
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent
RECORDINGS = HERE / "recordings"
FUNCTIONS = HERE / "functions"
KNOWN = HERE / "known_differences.json"

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's account; LocalStack writes AWS's as 111111111111
RECORDED_ACCOUNT = "111111111111"
ROLE_NAME = "parity-replay"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{ROLE_NAME}"
# A function outlives the 5-second task timeouts of the recordings that wait on one, as on AWS.
FUNCTION_TIMEOUT_SECONDS = 10
WAIT_SECONDS = 120.0

PLACEHOLDER = re.compile(r"<[A-Za-z0-9_:.\-]+>")
# Whole values LocalStack writes for what changes from run to run (a key's own name, or these).
VOLATILE_WORDS = frozenset({"timestamp", "date", "datetime"})
# Fields that differ only in cosmetics (item 12 of issue 22): compared, but also counted apart.
COSMETIC_KEYS = frozenset({"SdkHttpMetadata", "SdkResponseMetadata", "ExecutedVersion", "stackTrace"})


@dataclass
class Recording:
    group: str
    name: str
    recorded: str
    definition: dict[str, Any]
    input: Any
    history: list[dict[str, Any]]
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    normalise: list[str] = field(default_factory=list)
    source: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.group}/{self.name}"


def load_recordings() -> list[Recording]:
    found = []
    for path in sorted(RECORDINGS.glob("*.json")):
        document = json.loads(path.read_text())
        for entry in document["recordings"]:
            found.append(
                Recording(
                    group=path.stem,
                    name=entry["name"],
                    recorded=entry["recorded"],
                    definition=entry["definition"],
                    input=entry["input"],
                    history=entry["history"],
                    resources=entry.get("resources", {}),
                    normalise=entry.get("normalise", []),
                    source=document["source"],
                )
            )
    return found


def load_known() -> dict[str, dict[str, Any]]:
    """Differences that stay, each with its reason: ``{recording id: {"reason", "paths"}}``."""
    entries = dict(json.loads(KNOWN.read_text())) if KNOWN.exists() else {}
    return {name: entry for name, entry in entries.items() if not name.startswith("_")}


# -- resources --------------------------------------------------------------------------------------------


def function_zip(kind: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.write(FUNCTIONS / kind / "handler.py", "handler.py")
    return buffer.getvalue()


class Resources:
    """What the recordings' placeholders stand for, made in the local stack once per kind or per recording."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._functions: dict[str, str] = {}
        iam = client("iam")
        try:
            iam.get_role(RoleName=ROLE_NAME)
        except iam.exceptions.NoSuchEntityException:
            trust = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
            iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(trust))

    def function(self, kind: str) -> str:
        if kind not in self._functions:
            # Named as the recorded tests named theirs (``lambda_func_`` and 8 characters): a name that reaches a
            # payload gives it the same length, and so the same Content-Length, as on AWS.
            name = f"lambda_func_{uuid.uuid4().hex[:8]}"
            self._client("lambda").create_function(
                FunctionName=name,
                Runtime="python3.12",
                Role=ROLE_ARN,
                Handler="handler.handler",
                Code={"ZipFile": function_zip(kind)},
                Timeout=FUNCTION_TIMEOUT_SECONDS,
            )
            self._functions[kind] = name
        return self._functions[kind]

    def table(self, exists: bool) -> str:
        name = f"parity_table_{uuid.uuid4().hex[:8]}"
        if exists:
            self._client("dynamodb").create_table(
                TableName=name,
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
        return name

    def queue(self, exists: bool) -> str:
        if exists:
            return str(self._client("sqs").create_queue(QueueName=f"parity-{uuid.uuid4().hex[:8]}")["QueueUrl"])
        return f"http://no-such-queue-{uuid.uuid4().hex[:8]}"

    def bind_test_state(self, resources: dict[str, dict[str, Any]]) -> dict[str, str]:
        """The local value of each placeholder a TestState request names (its functions)."""
        return {placeholder: self.function(spec["function"]) for placeholder, spec in resources.items()}

    def bind(self, recording: Recording) -> dict[str, str]:
        """The local value of each placeholder the recording's definition and input name."""
        values = {"<partition>": "aws", "<region>": REGION, "snf_role_arn": ROLE_ARN}
        for placeholder, spec in recording.resources.items():
            if "function" in spec:
                values[placeholder] = self.function(spec["function"])
            elif "table" in spec:
                values[placeholder] = self.table(bool(spec["table"]))
            elif "queue" in spec:
                values[placeholder] = self.queue(bool(spec["queue"]))
        return values


def substitute(value: Any, values: dict[str, str]) -> Any:
    """``value`` (a definition or an input) with placeholders and the recorded account replaced by local ones."""
    text = json.dumps(value)
    for placeholder, local in sorted(values.items(), key=lambda item: -len(item[0])):
        text = text.replace(placeholder, json.dumps(local)[1:-1])
    return json.loads(text.replace(RECORDED_ACCOUNT, ACCOUNT))


# -- running ----------------------------------------------------------------------------------------------


@dataclass
class Replay:
    recording: Recording
    bindings: dict[str, str]
    execution_arn: str | None = None
    start_error: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)


def start(client: Any, resources: Resources, recording: Recording) -> Replay:
    bindings = resources.bind(recording)
    replay = Replay(recording, bindings)
    sfn = client("stepfunctions")
    try:
        machine = sfn.create_state_machine(
            name=f"parity-{uuid.uuid4().hex[:12]}",
            definition=json.dumps(substitute(recording.definition, bindings)),
            roleArn=ROLE_ARN,
        )["stateMachineArn"]
        replay.execution_arn = sfn.start_execution(
            stateMachineArn=machine,
            name=f"parity-{uuid.uuid4().hex[:12]}",
            input=json.dumps(substitute(recording.input, bindings)),
        )["executionArn"]
    except Exception as exc:  # the local stack refused what AWS ran: that is the difference to report
        replay.start_error = f"{type(exc).__name__}: {exc}"
    return replay


def finish(client: Any, replays: list[Replay], timeout: float = WAIT_SECONDS) -> None:
    """Wait until every replayed execution has ended, then read its history."""
    sfn = client("stepfunctions")
    deadline = time.monotonic() + timeout
    pending = [replay for replay in replays if replay.execution_arn]
    while pending and time.monotonic() < deadline:
        pending = [r for r in pending if sfn.describe_execution(executionArn=r.execution_arn)["status"] == "RUNNING"]
        if pending:
            time.sleep(0.1)
    for replay in replays:
        if replay.execution_arn:
            replay.history = read_history(sfn, replay.execution_arn)


def read_history(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
        events.extend(page["events"])
    return [normalised(event) for event in events]


def normalised(event: dict[str, Any]) -> dict[str, Any]:
    """An event as LocalStack's snapshots keep one: no timestamp, and JSON objects in strings parsed."""
    return {key: _parse_objects(value) for key, value in event.items() if key != "timestamp"}


def _parse_objects(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _parse_objects(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_parse_objects(item) for item in value]
    if isinstance(value, str) and value.startswith("{"):
        try:
            parsed = json.loads(value)
        except ValueError:
            return value
        return parsed if isinstance(parsed, dict) else value
    return value


# -- comparing --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    path: str
    recorded: Any
    local: Any

    @property
    def cosmetic(self) -> bool:
        return any(part in COSMETIC_KEYS for part in re.split(r"[.\[\]]", self.path))

    def __str__(self) -> str:
        return f"{self.path}: AWS {_short(self.recorded)} / local {_short(self.local)}"


def _short(value: Any, limit: int = 300) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


class Matcher:
    """Compares a recorded value with a local one; placeholders bind to the first text they match."""

    def __init__(self, bindings: dict[str, str]) -> None:
        self.bound: dict[str, str] = dict(bindings)
        self.differences: list[Difference] = []

    def compare(self, recorded: Any, local: Any, path: str = "") -> None:
        if isinstance(recorded, dict) and isinstance(local, dict):
            self._compare_items(recorded, local, sorted(set(recorded) | set(local)), path, "{path}.{key}")
        elif isinstance(recorded, list) and isinstance(local, list):
            indexes = list(range(max(len(recorded), len(local))))
            self._compare_items(dict(enumerate(recorded)), dict(enumerate(local)), indexes, path, "{path}[{key}]")
        elif isinstance(recorded, str) and _volatile(recorded, path.rsplit(".", 1)[-1]):
            return  # a value LocalStack replaced by a word: any value of any type stands in its place
        elif isinstance(recorded, str) and isinstance(local, str):
            if not self._matches(recorded, local, path.rsplit(".", 1)[-1]):
                self.differences.append(Difference(path, recorded, local))
        elif not _same_scalar(recorded, local):
            self.differences.append(Difference(path, recorded, local))

    def _compare_items(
        self, recorded: dict[Any, Any], local: dict[Any, Any], keys: list[Any], path: str, form: str
    ) -> None:
        for key in keys:
            where = form.format(path=path, key=key) if path else str(key)
            if key not in local:
                self.differences.append(Difference(where, recorded[key], "(absent)"))
            elif key not in recorded:
                self.differences.append(Difference(where, "(absent)", local[key]))
            else:
                self.compare(recorded[key], local[key], where)

    def _matches(self, recorded: str, local: str, key: str) -> bool:
        text = recorded.replace(RECORDED_ACCOUNT, ACCOUNT)
        tokens = [t for t in self.bound if t in text and not PLACEHOLDER.fullmatch(t)] + PLACEHOLDER.findall(text)
        if not tokens:
            return text == local
        pattern, order = self._pattern(text, tokens)
        found = re.fullmatch(pattern, local, re.DOTALL)
        if not found:
            return False
        for index, token in enumerate(order):
            self.bound.setdefault(token, found.group(index + 1))
        return True

    def _pattern(self, text: str, tokens: list[str]) -> tuple[str, list[str]]:
        alternatives = "|".join(re.escape(t) for t in sorted(set(tokens), key=len, reverse=True))
        pattern, order, groups, position = "", [], {}, 0
        for found in re.finditer(alternatives, text):
            pattern += re.escape(text[position : found.start()])
            token = found.group(0)
            if token in self.bound:
                pattern += re.escape(self.bound[token])
            elif token in groups:
                pattern += f"(?P={groups[token]})"
            else:
                groups[token] = f"g{len(groups)}"
                order.append(token)
                pattern += f"(?P<{groups[token]}>.+?)"
            position = found.end()
        pattern += re.escape(text[position:])
        return pattern, order


# -- what some recorded tests did to their histories, done to the local one too -----------------------------

PARALLEL_ENDS = frozenset({"ParallelStateSucceeded", "ParallelStateFailed", "ParallelStateAborted"})


def _parsed_outputs(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every ``output`` that holds JSON, parsed (a few map tests recorded them so)."""

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            parsed = {}
            for key, item in value.items():
                if key == "output" and isinstance(item, str):
                    with contextlib.suppress(ValueError):
                        item = json.loads(item)
                parsed[key] = walk(item)
            return parsed
        if isinstance(value, list):
            return [walk(item) for item in value]
        return value

    return [walk(event) for event in events]


def _parallel_blocks(events: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[tuple[int, int]]]:
    """The branches' events of each Parallel state, as the recordings kept them: in no order, their ids
    written ``[0]`` and their ``previousEventId`` 0, and the state's end event (``ParallelStateSucceeded``
    and the like) left out. Returns the events and the ``(start, end)`` index range of each block.
    """
    kept: list[dict[str, Any]] = []
    blocks: list[tuple[int, int]] = []
    start: int | None = None
    for event in events:
        kind = event.get("type")
        if kind == "ParallelStateStarted":
            kept.append(event)
            start = len(kept)
        elif start is not None and kind in PARALLEL_ENDS:
            blocks.append((start, len(kept)))
            start = None
        elif start is not None:
            kept.append({**event, "id": [0], "previousEventId": 0})
        else:
            kept.append(event)
    return kept, blocks


def _ordered_like(recorded: list[Any], local: list[Any], bound: dict[str, str]) -> list[Any]:
    """``local`` in the order that best matches ``recorded`` (each recorded item takes the first that fits)."""
    remaining = list(local)
    ordered = []
    for item in recorded:
        choice = next((candidate for candidate in remaining if _fits(item, candidate, bound)), None)
        if choice is None:
            break
        remaining.remove(choice)
        ordered.append(choice)
    return ordered + remaining


def _fits(recorded: Any, local: Any, bound: dict[str, str]) -> bool:
    trial = Matcher(bound)
    trial.compare(recorded, local)
    return not trial.differences


def _volatile(recorded: str, key: str) -> bool:
    """A value LocalStack's snapshot replaced by a word: ``timestamp``, ``date``, the key's own name (also as
    ``start-date`` for ``StartDate``)."""
    kebab = re.sub(r"(?<!^)(?=[A-Z])", "-", key).lower()
    return recorded.strip('"') in VOLATILE_WORDS or (bool(key) and recorded in (key, kebab))


def _same_scalar(recorded: Any, local: Any) -> bool:
    """Equal JSON scalars: 1 and 1.0 are the same number; true is not 1."""
    if isinstance(recorded, bool) or isinstance(local, bool):
        return recorded is local
    if isinstance(recorded, int | float) and isinstance(local, int | float):
        return recorded == local
    return type(recorded) is type(local) and recorded == local


def differences(replay: Replay) -> list[Difference]:
    if replay.start_error:
        return [Difference("(start)", "an execution", replay.start_error)]
    local = replay.history
    if "outputs" in replay.recording.normalise:
        local = _parsed_outputs(local)
    if "parallel" in replay.recording.normalise:
        local, blocks = _parallel_blocks(local)
        for start, end in blocks:
            local[start:end] = _ordered_like(replay.recording.history[start:end], local[start:end], replay.bindings)
    matcher = Matcher(replay.bindings)
    matcher.compare(replay.recording.history, local, "events")
    return matcher.differences


def _timed(recording: Recording) -> bool:
    """A recording whose answer depends on how long its calls take (a timeout or a heartbeat of seconds)."""
    text = json.dumps(recording.definition)
    return "TimeoutSeconds" in text or "HeartbeatSeconds" in text


AT_ONCE = 24
"""Executions replayed at a time: enough to be quick, few enough to leave the machine to the other tests."""


def replay_all(client: Any, recordings: list[Recording]) -> Iterator[tuple[Recording, list[Difference]]]:
    """Every recording replayed, AT_ONCE at a time; those that time their calls last, on a machine less busy."""
    resources = Resources(client)
    ordered = [r for r in recordings if not _timed(r)] + [r for r in recordings if _timed(r)]
    replays: list[Replay] = []
    for first in range(0, len(ordered), AT_ONCE):
        started = [start(client, resources, recording) for recording in ordered[first : first + AT_ONCE]]
        finish(client, started)
        replays.extend(started)
    for replay in replays:
        yield replay.recording, differences(replay)


def assert_as_known(found: list[Difference], known: dict[str, Any] | None) -> None:
    """A replay's differences are none, or exactly the documented ones (a ``varies`` entry: an expected failure
    while threads decide the events' order)."""
    if known is None:
        assert [str(d) for d in found] == []
    elif known.get("varies"):
        if found:
            pytest.xfail(known["reason"])
    else:  # exactly the one documented (else the entry goes)
        assert sorted({d.path for d in found}) == sorted(known["paths"]), [str(d) for d in found]
