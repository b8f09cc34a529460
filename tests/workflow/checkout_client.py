"""A plain HTTP client of the checkout API: a SigV4-signed request (botocore's signer), sent with http.client.

The request is signed for the host it names (by default the API's AWS host,
``<apiId>.execute-api.<region>.amazonaws.com``, as a caller of the API on AWS signs it; ``local up`` answers
``<apiId>.execute-api.localhost:<port>``) and sent to the local stack's port with that ``Host``.
"""

from __future__ import annotations

import http.client
import json
import urllib.parse
from dataclasses import dataclass
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

LOCAL = Credentials("testing", "testing", "testing")


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: Any


def call(
    endpoint: str,
    api_id: str,
    method: str,
    path: str,
    body: Any = None,
    credentials: Credentials | None = LOCAL,
    region: str = "us-east-1",
    raw: bytes | None = None,
    host: str | None = None,
) -> Reply:
    """``method path`` on the API ``api_id`` served at ``endpoint`` (``http://127.0.0.1:<port>``); unsigned when
    ``credentials`` is None. ``host``: the ``Host`` to send and sign (default: the API's AWS host)."""
    host = host or f"{api_id}.execute-api.{region}.amazonaws.com"
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
    request = AWSRequest(method=method, url=f"https://{host}{path}", data=data, headers={"Host": host})
    if data:
        request.headers["Content-Type"] = "application/json"
    if credentials is not None:
        SigV4Auth(credentials, "execute-api", region).add_auth(request)
    where = urllib.parse.urlsplit(endpoint)
    connection = http.client.HTTPConnection(where.hostname or "127.0.0.1", where.port, timeout=60)
    try:
        connection.request(method, path, body=data or None, headers=dict(request.headers.items()))
        response = connection.getresponse()
        payload = response.read()
        headers = {name.lower(): value for name, value in response.getheaders()}
    finally:
        connection.close()
    try:
        body = json.loads(payload) if payload else None
    except ValueError:  # not the API's answer (the local endpoint's guard answers in text)
        body = payload.decode(errors="replace")
    return Reply(response.status, headers, body)
