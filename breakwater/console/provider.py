"""The fake provider's control API (``GET``/``POST /_control``), as the console's provider page uses it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from breakwater.console.model import BadRequest, ConsoleError
from breakwater.local.provider import MODES

TIMEOUT_SECONDS = 5.0
# The settings a mode takes, as the control API names them, and the type each must parse to.
SETTINGS: dict[str, type] = {"delaySeconds": float, "failureRate": float, "retryAfterSeconds": int}
# How the page words the provider's API key policy (its status's ``apiKey``).
API_KEY_POLICY = {
    "required": "required: a call without the key, or with a wrong one, is refused (401)",
    "checked-when-sent": "checked when sent: a call without a key is charged (a stack deployed without the"
    " key's secret, e.g. by sam deploy --config-env local, sends none); a wrong key is refused (401)",
    "none": "not required",
}


class ProviderUnavailable(ConsoleError):
    """The fake provider did not answer its control API."""


def parse_settings(form: dict[str, str]) -> dict[str, Any]:
    """The control request from the page's form: a mode from ``MODES`` and the numbers given."""
    mode = form.get("mode", "")
    if mode not in MODES:
        raise BadRequest(f"mode {mode!r}: must be one of {', '.join(MODES)}")
    body: dict[str, Any] = {"mode": mode}
    for name, kind in SETTINGS.items():
        text = (form.get(name) or "").strip()
        if not text:
            continue
        try:
            body[name] = kind(text)
        except ValueError:
            raise BadRequest(f"{name} {text!r}: must be {'an integer' if kind is int else 'a number'}") from None
    return body


class ProviderControl:
    """Reads and switches the provider at ``url`` (the console passes only what the page's form sends)."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def _call(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - the provider URL the operator gave
            f"{self.url}{path}",
            data=data,
            method="GET" if body is None else "POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                return dict(json.loads(response.read() or b"{}"))
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read())["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = f"HTTP {exc.code}"
            raise BadRequest(f"the provider refused the change: {message}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise ProviderUnavailable(f"the provider at {self.url} did not answer: {exc}") from None

    def status(self) -> dict[str, Any]:
        """Mode, settings and counters (``GET /_control``)."""
        return self._call("/_control")

    def configure(self, settings: dict[str, Any]) -> dict[str, Any]:
        return self._call("/_control", settings)

    def reset(self) -> dict[str, Any]:
        """Back to healthy, charges and counters forgotten."""
        return self._call("/_control/reset", {})
