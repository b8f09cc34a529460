"""Requests signed for a region that does not exist get an AWS error, not moto's crash page.

moto keeps one backend per region it knows; a request signed for any other region (``--region mars-west-9``)
fails inside it with a ``KeyError``: an HTML 500 page the AWS CLI and boto3 cannot parse, and a traceback in
``local up``'s log. AWS refuses such a request at its front door. This middleware does the same: a 400 in the
request's protocol (JSON, or XML for the query protocol and S3) that the SDKs turn into one error line.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from breakwater.regions import known_regions

_LOG = logging.getLogger(__name__)
WsgiApp = Callable[..., Iterable[bytes]]


def signed_scope(environ: dict[str, Any]) -> tuple[str, str] | None:
    """(region, service) of a SigV4 ``Authorization`` header; None for an unsigned request."""
    auth = environ.get("HTTP_AUTHORIZATION") or ""
    marker = "Credential="
    if marker not in auth:
        return None
    scope = auth.split(marker, 1)[1].split(",", 1)[0].split("/")
    if len(scope) < 5:
        return None
    return scope[2], scope[3]


@dataclass
class RegionCheck:
    """WSGI middleware: refuse a request signed for a region botocore does not know."""

    app: WsgiApp
    log: Callable[[str], None] = field(default=lambda line: _LOG.warning("AWS endpoint %s", line))

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        scope = signed_scope(environ)
        if scope is None or scope[0] in known_regions():
            return self.app(environ, start_response)
        region, service = scope
        message = f"Credential should be scoped to a valid region, not '{region}'."
        self.log(f"refused {environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')} ({service}): {message}")
        query = "x-www-form-urlencoded" in (environ.get("CONTENT_TYPE") or "") or service == "s3"
        if query:
            code = "SignatureDoesNotMatch"
            body = (
                f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{escape(message)}</Message>"
                f"</Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
            ).encode()
            content_type = "text/xml"
        else:
            code = "InvalidSignatureException"
            body = json.dumps({"__type": code, "message": message}).encode()
            content_type = "application/x-amz-json-1.0"
        start_response(
            "400 Bad Request",
            [("Content-Type", content_type), ("Content-Length", str(len(body))), ("x-amzn-ErrorType", code)],
        )
        return [body]
