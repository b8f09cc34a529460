"""Replay TestState requests recorded against AWS on the local stack's TestState, and compare the answers.

Each recording (``test_state_recordings/*.json``) holds the request a LocalStack test sent to AWS and AWS's
answer, or AWS's refusal; the answer's JSON documents are parsed where they are objects, as LocalStack keeps
them. Placeholders match as in ``replay``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError, ParamValidationError

from tests.parity.replay import ACCOUNT, RECORDED_ACCOUNT, Difference, Matcher, Resources, _parse_objects

RECORDINGS = Path(__file__).parent / "test_state_recordings"
KNOWN = Path(__file__).parent / "known_test_state_differences.json"


@dataclass
class TestStateRecording:
    __test__ = False  # not a test class

    group: str
    name: str
    recorded: str
    request: dict[str, Any]
    response: dict[str, Any]
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.group}/{self.name.split('::', 1)[-1]}"


def load_test_state_recordings() -> list[TestStateRecording]:
    found = []
    for path in sorted(RECORDINGS.glob("*.json")):
        for entry in json.loads(path.read_text())["recordings"]:
            found.append(
                TestStateRecording(
                    group=path.stem,
                    name=entry["name"],
                    recorded=entry["recorded"],
                    request=entry["request"],
                    response=entry["response"],
                    resources=entry.get("resources", {}),
                )
            )
    return found


def load_known() -> dict[str, dict[str, Any]]:
    entries = dict(json.loads(KNOWN.read_text())) if KNOWN.exists() else {}
    return {name: entry for name, entry in entries.items() if not name.startswith("_")}


def _answer(client: Any, request: dict[str, Any]) -> dict[str, Any]:
    """The local answer, in the shape the recording keeps (an error as its code and message)."""
    try:
        response = client.test_state(**request)
    except ClientError as error:
        return {"error": dict(error.response["Error"]), "text": str(error)}
    except ParamValidationError as error:
        return {"exception_typename": "ParamValidationError", "exception_value": str(error)}
    response.pop("ResponseMetadata", None)
    return {"response": _parse_objects(response)}


def differences(client: Any, resources: Resources, recording: TestStateRecording) -> list[Difference]:
    bindings = resources.bind_test_state(recording.resources)
    text = json.dumps(recording.request).replace(RECORDED_ACCOUNT, ACCOUNT)
    for placeholder, value in bindings.items():
        text = text.replace(placeholder, value)
    local = _answer(client, json.loads(text))
    recorded = {k: v for k, v in recording.response.items() if k != "ResponseMetadata"}
    matcher = Matcher({**bindings, "<partition>": "aws", "<region>": "us-east-1"})
    if "Error" in recorded:
        matcher.compare(
            {"Code": recorded["Error"]["Code"], "Message": recorded["Error"]["Message"]},
            local.get("error", local),
            "error",
        )
    elif "exception_typename" in recorded:
        if recorded["exception_typename"] == "ParamValidationError":
            matcher.compare(recorded, local, "exception")
        else:
            matcher.compare(
                {"code": recorded["exception_typename"], "text": recorded["exception_value"]},
                {"code": local.get("error", {}).get("Code"), "text": local.get("text")},
                "exception",
            )
    else:
        matcher.compare(recorded, local.get("response", local), "response")
    return matcher.differences
