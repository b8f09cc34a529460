"""The local AWS endpoint answers only this machine's tools and its own console (``endpoint_guard``)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from werkzeug.test import Client

from breakwater.local.endpoint_guard import EndpointGuard
from breakwater.local.server import LocalServer

PORT = 4566
OWN = f"http://127.0.0.1:{PORT}"
EVIL = "http://evil.example"
# What botocore sends for DynamoDB ListTables (the signature is not checked by the local stack).
LIST_TABLES = {
    "Content-Type": "application/x-amz-json-1.0",
    "X-Amz-Target": "DynamoDB_20120810.ListTables",
    "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/dynamodb/aws4_request, "
    "SignedHeaders=host, Signature=0",
}


@pytest.fixture(scope="module")
def moto_app() -> Any:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return DomainDispatcherApplication(create_backend_app)


@pytest.fixture
def logged() -> list[str]:
    return []


@pytest.fixture
def client(moto_app: Any, logged: list[str]) -> Client:
    """The endpoint as ``local up`` serves it: the guard in front of moto (and a console mounted beside it)."""
    server = LocalServer(port=PORT)
    server.mount("/console", lambda environ, start_response: [b"console"] if start_response("200 OK", []) else [])
    app = server.wsgi_app(moto_app)
    assert isinstance(app, EndpointGuard)
    app.log = logged.append
    return Client(app)


def list_tables(client: Client, **headers: str) -> Any:
    return client.post("/", data="{}", headers={"Host": f"127.0.0.1:{PORT}", **LIST_TABLES, **headers})


def test_the_tools_own_requests_are_served(client: Client, logged: list[str]) -> None:
    for host in (f"127.0.0.1:{PORT}", f"localhost:{PORT}", f"[::1]:{PORT}", "127.0.0.1"):
        answer = list_tables(client, Host=host)
        assert answer.status_code == 200, host
        assert "TableNames" in answer.get_json(force=True)
    assert logged == []


def test_a_rebinding_host_is_refused_and_logged(client: Client, logged: list[str]) -> None:
    answer = list_tables(client, Host=f"evil.example:{PORT}")
    assert answer.status_code == 403
    assert "does not name this machine" in answer.text
    assert "TableNames" not in answer.text
    assert len(logged) == 1
    assert logged[0].startswith("refused POST /: Host 'evil.example:4566' does not name this machine")


def test_a_foreign_preflight_gets_no_cors_grant(client: Client, logged: list[str]) -> None:
    answer = client.options(
        "/",
        headers={
            "Host": f"127.0.0.1:{PORT}",
            "Origin": EVIL,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-amz-target",
        },
    )
    assert answer.status_code == 403
    assert not any(name.lower().startswith("access-control-") for name, _ in answer.headers.items())
    assert "CORS preflight" in logged[0]


def test_a_simple_cross_origin_post_changes_nothing(client: Client, moto_app: Any, logged: list[str]) -> None:
    # given: what a form on another page can send without a preflight (SQS's query protocol)
    name = f"evil-{uuid.uuid4().hex[:8]}"
    form = {"Action": "CreateQueue", "QueueName": name, "Version": "2012-11-05"}
    # when
    answer = client.post("/", data=form, headers={"Host": f"127.0.0.1:{PORT}", "Origin": EVIL})
    # then
    assert answer.status_code == 403
    assert "is not this endpoint's own" in answer.text
    listed = Client(moto_app).post(
        "/", data={"Action": "ListQueues", "Version": "2012-11-05"}, headers={"Host": f"127.0.0.1:{PORT}"}
    )
    assert name not in listed.text
    assert len(logged) == 1


def test_a_request_a_browser_marks_cross_site_is_refused(client: Client, logged: list[str]) -> None:
    for site in ("cross-site", "same-site"):
        answer = client.get(
            "/?Action=ListQueues&Version=2012-11-05",
            headers={"Host": f"127.0.0.1:{PORT}", "Sec-Fetch-Site": site, "Sec-Fetch-Mode": "no-cors"},
        )
        assert answer.status_code == 403
    assert len(logged) == 2


def test_the_endpoints_own_origin_is_served(client: Client, logged: list[str]) -> None:
    answer = list_tables(client, Origin=OWN, **{"Sec-Fetch-Site": "same-origin"})
    assert answer.status_code == 200
    assert logged == []


def test_the_console_checks_its_own_origin_but_not_its_host(client: Client) -> None:
    assert client.post("/console/x", headers={"Host": f"127.0.0.1:{PORT}", "Origin": EVIL}).text == "console"
    assert client.get("/console/", headers={"Host": "evil.example"}).status_code == 403


def test_a_host_the_user_allowed_is_served(moto_app: Any) -> None:
    server = LocalServer(port=PORT, allowed_hosts=frozenset({"devbox.internal"}))
    client = Client(server.wsgi_app(moto_app))
    assert list_tables(client, Host=f"devbox.internal:{PORT}").status_code == 200
    assert list_tables(client, Host=f"other.internal:{PORT}").status_code == 403


def test_without_the_guard_moto_grants_any_origin(moto_app: Any) -> None:
    """Why the guard exists: moto's own CORS support answers every origin's preflight with a grant."""
    answer = Client(moto_app).options(
        "/", headers={"Host": f"evil.example:{PORT}", "Origin": EVIL, "Access-Control-Request-Method": "POST"}
    )
    assert answer.headers.get("Access-Control-Allow-Origin") in (EVIL, "*")


def test_a_request_signed_for_an_unknown_region_gets_an_aws_error_not_a_crash(
    client: Client, logged: list[str]
) -> None:
    scope = {"Authorization": LIST_TABLES["Authorization"].replace("us-east-1", "mars-west-9")}
    answer = list_tables(client, **scope)
    assert answer.status_code == 400
    assert answer.get_json(force=True) == {
        "__type": "InvalidSignatureException",
        "message": "Credential should be scoped to a valid region, not 'mars-west-9'.",
    }


def test_botocore_reads_the_unknown_region_error_as_one_client_error(moto_app: Any) -> None:
    import boto3
    from botocore.exceptions import ClientError
    from werkzeug.serving import make_server

    from breakwater.aws import aws_failure

    server = make_server("127.0.0.1", 0, LocalServer().wsgi_app(moto_app), threaded=True)
    thread = __import__("threading").Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        endpoint = f"http://127.0.0.1:{server.server_port}"
        for service, call in (("dynamodb", "list_tables"), ("cloudformation", "describe_stacks")):
            client = boto3.client(  # type: ignore[call-overload]
                service,
                endpoint_url=endpoint,
                region_name="mars-west-9",
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
            with pytest.raises(ClientError) as refused:
                getattr(client, call)()
            assert aws_failure(refused.value, endpoint).endswith("not 'mars-west-9'.")
    finally:
        server.shutdown()
