"""The local stack's API Gateway HTTP API endpoint: the stack's HTTP APIs answer on the host AWS gives them.

A request whose ``Host`` is ``<apiId>.execute-api.localhost`` or ``<apiId>.execute-api.<region>.amazonaws.com``
(the API's ``ApiEndpoint``, as ``aws apigatewayv2 get-api`` reports it) reaches that API, as on AWS, on the
local stack's own port; every other request goes to moto. (``local up``'s endpoint guard admits the AWS host
only where ``--allow-host`` names it; the embedded stack's endpoint has no guard.) For this project's API that
is what API Gateway does for its routes:

* the ``$default`` stage, routes matched by method and path (``{name}`` path parameters), ``404 {"message":
  "Not Found"}`` otherwise;
* ``AWS_IAM`` routes: a SigV4 signature for ``execute-api`` in the API's region, checked against the local
  stack's credentials (``testing``/``testing``); ``403 {"message": "Forbidden"}`` without one, and AWS's
  message for a signature that does not match;
* ``AWS_PROXY`` integrations with a Lambda function, payload format 2.0, run by the local runtime; the
  integration's ``TimeoutInMillis`` (``503 {"message": "Service Unavailable"}`` past it) and a function error
  (``500 {"message": "Internal Server Error"}``, as for an invocation that failed);
* the stage's access log: one line per request in the format it gives, written to its log group.

What this project does not use (other integration types, authorizers, CORS, named stages) answers 501.
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

WsgiApp = Callable[..., Iterable[bytes]]

HOST = re.compile(r"^(?P<api>[a-z0-9]+)\.execute-api\.(?:(?P<region>[a-z0-9-]+)\.amazonaws\.com|localhost)(?::\d+)?$")
LOCAL_SECRET_KEY = "testing"  # noqa: S105 - the local stack's fake credentials (FAKE_CREDENTIALS)
CALLER_ARN = "arn:aws:iam::{account}:user/{access_key}"
_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request,"
    r"\s*SignedHeaders=(?P<headers>[^,]+),\s*Signature=(?P<signature>[0-9a-f]+)$"
)
SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access "
    "Key and signing method. Consult the service documentation for details."
)
DEFAULT_STAGE = "$default"


@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def message(cls, status: int, message: str) -> Answer:
        return cls(status, json.dumps({"message": message}).encode(), {"Content-Type": "application/json"})


@dataclass
class Request:
    """An API request, as the WSGI server received it."""

    method: str
    host: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    source_ip: str
    request_id: str = field(default_factory=lambda: base64.b32encode(uuid.uuid4().bytes)[:16].decode())
    received: dt.datetime = field(default_factory=lambda: dt.datetime.now(tz=dt.UTC))

    @classmethod
    def from_environ(cls, environ: dict[str, Any]) -> Request:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {
            key[5:].replace("_", "-").lower(): str(value) for key, value in environ.items() if key.startswith("HTTP_")
        }
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers[key.replace("_", "-").lower()] = str(environ[key])
        return cls(
            method=str(environ["REQUEST_METHOD"]),
            host=headers.get("host", ""),
            path=str(environ.get("PATH_INFO") or "/"),
            query=str(environ.get("QUERY_STRING") or ""),
            headers=headers,
            body=body,
            source_ip=str(environ.get("REMOTE_ADDR") or "127.0.0.1"),
        )


def _route_pattern(route_key: str) -> tuple[str, re.Pattern[str]] | None:
    """``POST /orders/{orderId}`` as (method, path pattern with named groups); None for ``$default``."""
    if route_key == "$default":
        return None
    method, _, path = route_key.partition(" ")
    parts = re.split(r"(\{[^}]+\})", path)
    regex = "".join(
        f"(?P<{part[1:-1].rstrip('+')}>{'.+' if part.endswith('+}') else '[^/]+'})"
        if part.startswith("{")
        else re.escape(part)
        for part in parts
    )
    return method, re.compile(f"^{regex}$")


def signature_problem(request: Request, region: str) -> str | None:
    """Why the request is not signed for ``execute-api`` in ``region`` with the local credentials; None: it is."""
    match = _AUTHORIZATION.match(request.headers.get("authorization", ""))
    if match is None or "x-amz-date" not in request.headers:
        return "Forbidden"
    if match["service"] != "execute-api" or match["region"] != region:
        return "Forbidden"
    signed = match["headers"].split(";")
    aws_request = AWSRequest(
        method=request.method,
        url=f"https://{request.host}{request.path}" + (f"?{request.query}" if request.query else ""),
        headers={name: request.headers.get(name, "") for name in signed},
        data=request.body,
    )
    aws_request.context["timestamp"] = request.headers["x-amz-date"]
    auth = SigV4Auth(Credentials(match["key"], LOCAL_SECRET_KEY), "execute-api", region)
    expected = auth.signature(auth.string_to_sign(aws_request, auth.canonical_request(aws_request)), aws_request)
    return None if hmac.compare_digest(expected, match["signature"]) else SIGNATURE_MISMATCH


def local_url(api_id: str, port: int) -> str:
    """Where an API of the local stack on ``port`` answers: a ``*.localhost`` name resolves to 127.0.0.1."""
    return f"http://{api_id}.execute-api.localhost:{port}"


class HttpApiFront:
    """Serves the HTTP APIs moto holds (created by ``compat.cloudformation_apigatewayv2``) on their hosts."""

    def __init__(self, aws: WsgiApp, account_id: str | None = None) -> None:
        from moto.core import DEFAULT_ACCOUNT_ID

        self.aws = aws
        self.account_id = account_id or DEFAULT_ACCOUNT_ID

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        match = HOST.match(str(environ.get("HTTP_HOST") or ""))
        if match is None:
            return self.aws(environ, start_response)
        request = Request.from_environ(environ)
        started = time.monotonic()
        answer, context = self.answer(match["api"], match["region"], request)
        context["responseLatency"] = str(int((time.monotonic() - started) * 1000))
        self.log_access(context, answer)
        headers = {**answer.headers, "apigw-requestid": request.request_id, "Content-Length": str(len(answer.body))}
        start_response(f"{answer.status} {_REASONS.get(answer.status, 'Status')}", list(headers.items()))
        return [answer.body]

    # -- routing ---------------------------------------------------------------------------------------

    def _find_api(self, api_id: str, region: str | None) -> tuple[Any, str] | None:
        from moto.apigatewayv2.models import apigatewayv2_backends

        backends = apigatewayv2_backends[self.account_id]
        regions = [region] if region else list(backends.keys())
        for name in regions:
            backend = backends[name]
            if api_id in backend.apis:
                return backend.apis[api_id], name
        return None

    def answer(self, api_id: str, region: str | None, request: Request) -> tuple[Answer, dict[str, str]]:
        context = {
            "requestId": request.request_id,
            "requestTime": request.received.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "httpMethod": request.method,
            "path": request.path,
            "routeKey": "-",
            "identity.sourceIp": request.source_ip,
            "identity.userArn": "-",
            "integrationStatus": "-",
            "integrationLatency": "-",
            "integrationErrorMessage": "-",
            "apiId": api_id,
        }
        found = self._find_api(api_id, region)
        if found is None:
            return Answer.message(404, "Not Found"), context
        api, api_region = found
        context["region"] = api_region
        if DEFAULT_STAGE not in api.stages:
            return Answer.message(501, "the local stack serves the $default stage only"), context
        context["stage"] = DEFAULT_STAGE
        route, parameters = self._route(api, request)
        if route is None:
            return Answer.message(404, "Not Found"), context
        context["routeKey"] = route.route_key
        if (route.authorization_type or "NONE") == "AWS_IAM":
            problem = signature_problem(request, api_region)
            if problem is not None:
                return Answer.message(403, problem), context
            key = _AUTHORIZATION.match(request.headers["authorization"])["key"]  # type: ignore[index]
            context["identity.userArn"] = CALLER_ARN.format(account=self.account_id, access_key=key)
        elif (route.authorization_type or "NONE") != "NONE":
            return Answer.message(501, f"the local stack has no {route.authorization_type} authorizer"), context
        integration = api.integrations.get(str(route.target or "").removeprefix("integrations/"))
        if integration is None or integration.integration_type != "AWS_PROXY":
            return Answer.message(501, "the local stack serves AWS_PROXY Lambda integrations only"), context
        return self._proxy(api, api_region, route, parameters, integration, request, context), context

    @staticmethod
    def _route(api: Any, request: Request) -> tuple[Any, dict[str, str]]:
        default = None
        for route in api.routes.values():
            pattern = _route_pattern(route.route_key)
            if pattern is None:
                default = route
                continue
            method, path = pattern
            found = path.match(request.path)
            if found and method in (request.method, "ANY"):
                return route, found.groupdict()
        return default, {}

    # -- the Lambda proxy integration ------------------------------------------------------------------

    def _event(
        self, api: Any, region: str, route: Any, parameters: dict[str, str], request: Request, context: dict[str, str]
    ) -> dict[str, Any]:
        """The integration's event, payload format 2.0."""
        text = request.headers.get("content-type", "").startswith(("application/json", "text/"))
        try:
            body: str | None = request.body.decode() if text or not request.body else None
        except UnicodeDecodeError:
            body = None
        encoded = body is None and bool(request.body)
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": route.route_key,
            "rawPath": request.path,
            "rawQueryString": request.query,
            "headers": {name: value for name, value in request.headers.items() if name != "authorization"},
            "requestContext": {
                "accountId": self.account_id,
                "apiId": api.api_id,
                "domainName": request.host.split(":")[0],
                "domainPrefix": api.api_id,
                "http": {
                    "method": request.method,
                    "path": request.path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": request.source_ip,
                    "userAgent": request.headers.get("user-agent", ""),
                },
                "requestId": request.request_id,
                "routeKey": route.route_key,
                "stage": DEFAULT_STAGE,
                "time": context["requestTime"],
                "timeEpoch": int(request.received.timestamp() * 1000),
            },
            "body": base64.b64encode(request.body).decode() if encoded else (body or ""),
            "isBase64Encoded": encoded,
        }
        if request.query:
            from urllib.parse import parse_qsl

            event["queryStringParameters"] = dict(parse_qsl(request.query, keep_blank_values=True))
        if parameters:
            event["pathParameters"] = parameters
        if context["identity.userArn"] != "-":
            key = context["identity.userArn"].rsplit("/", 1)[-1]
            event["requestContext"]["authorizer"] = {
                "iam": {"accessKey": key, "accountId": self.account_id, "userArn": context["identity.userArn"]}
            }
        return event

    def _proxy(
        self,
        api: Any,
        region: str,
        route: Any,
        parameters: dict[str, str],
        integration: Any,
        request: Request,
        context: dict[str, str],
    ) -> Answer:
        from moto.awslambda.models import lambda_backends

        function = lambda_backends[self.account_id][region].get_function(integration.integration_uri)
        event = self._event(api, region, route, parameters, request, context)
        outcome: dict[str, Any] = {}

        def invoke() -> None:
            response_headers: dict[str, str] = {}
            try:
                outcome["payload"] = function.invoke(json.dumps(event), {}, response_headers)
            except Exception as exc:  # the invocation itself failed (a throttle under --aws-limits, ...)
                outcome["failed"] = f"{type(exc).__name__}: {exc}"
                return
            outcome["error"] = response_headers.get("x-amz-function-error")

        started = time.monotonic()
        worker = threading.Thread(target=invoke, name=f"http-api-{api.api_id}", daemon=True)
        worker.start()
        worker.join((integration.timeout_in_millis or 30000) / 1000)
        context["integrationLatency"] = str(int((time.monotonic() - started) * 1000))
        if worker.is_alive():
            context["integrationErrorMessage"] = "Network error communicating with endpoint"
            return Answer.message(503, "Service Unavailable")
        if outcome.get("failed"):
            context["integrationErrorMessage"] = outcome["failed"]
            return Answer.message(500, "Internal Server Error")
        context["integrationStatus"] = "200"
        if outcome.get("error"):
            context["integrationErrorMessage"] = "The Lambda function returned an error"
            return Answer.message(500, "Internal Server Error")
        return self._response(outcome.get("payload") or b"null")

    @staticmethod
    def _response(payload: bytes) -> Answer:
        """A payload format 2.0 response: ``statusCode``/``headers``/``body``, or any JSON as a 200 body."""
        try:
            result = json.loads(payload)
        except ValueError:
            return Answer.message(500, "Internal Server Error")
        if not isinstance(result, dict) or "statusCode" not in result:
            return Answer(200, json.dumps(result).encode(), {"Content-Type": "application/json"})
        body = result.get("body") or ""
        data = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
        headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
        return Answer(int(result["statusCode"]), data, headers)

    # -- the access log --------------------------------------------------------------------------------

    def log_access(self, context: dict[str, str], answer: Answer) -> None:
        """One line in the stage's access log group, in its format (``$context.<name>``), as API Gateway writes."""
        from moto.apigatewayv2.models import apigatewayv2_backends
        from moto.logs.models import logs_backends

        region = context.get("region")
        if region is None:
            return
        api = apigatewayv2_backends[self.account_id][region].apis.get(context["apiId"])
        if api is None:
            return
        stage = api.stages.get(DEFAULT_STAGE)
        settings = (stage.access_log_settings or {}) if stage is not None else {}
        destination, form = settings.get("destinationArn"), settings.get("format")
        if not destination or not form:
            return
        values = {**context, "status": str(answer.status), "responseLength": str(len(answer.body))}
        line = re.sub(r"\$context\.([A-Za-z.]+)", lambda m: values.get(m.group(1), "-"), str(form))
        group = str(destination).split(":log-group:", 1)[-1].removesuffix(":*")
        logs = logs_backends[self.account_id][region]
        stream = f"{DEFAULT_STAGE}-{api.api_id}"
        if group not in logs.groups:
            return
        if stream not in logs.groups[group].streams:
            logs.create_log_stream(group, stream)
        logs.put_log_events(group, stream, [{"timestamp": int(time.time() * 1000), "message": line}])


_REASONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    400: "Bad Request",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
