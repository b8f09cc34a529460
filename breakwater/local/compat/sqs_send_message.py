"""Patch ``sqs_send_message``: a SendMessage without a ``MessageBody`` crashed inside moto (``object of type
'NoneType' has no len()``; over HTTP an HTML page with status 500). SQS refuses it: ``MissingParameter``, "The
request must contain the parameter MessageBody." (recorded; tests/parity/recordings/sqs_errors.json).
"""

from __future__ import annotations

from typing import Any

from moto.sqs.exceptions import MissingParameter
from moto.sqs.responses import SQSResponse

from breakwater.local.compat.base import Patch

_original_send_message = SQSResponse.send_message


def _send_message(self: Any) -> Any:
    if self._get_param("MessageBody") is None:
        raise MissingParameter("MessageBody")
    return _original_send_message(self)


PATCH = Patch(
    "sqs_send_message",
    "SendMessage without a MessageBody is refused with MissingParameter, as SQS refuses it",
    [(SQSResponse, "send_message", _send_message)],
)
