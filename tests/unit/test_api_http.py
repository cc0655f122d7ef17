"""The HTTP glue: the router serves exactly the routes of ``journey.resources.ROUTES``, the caller comes
from the authorizer's context only, errors are answered in one place, the committed OpenAPI document
is the one the code generates; and the Lambda resolver (HTTP API payload 2.0) end to end over fakes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from journey.app.api_ports import Forbidden, NotFound, Unauthorized
from journey.errors import TransientError
from journey.lambda_kit.http import IAM_SCHEME, JWT_SCHEME, answer, api_router, openapi_document, rule, serve
from journey.lambda_kit.http_caller import caller_of, server_tenant
from journey.resources import ROUTES
from journey.settings import Settings
from tests.unit.api_fakes import NOW, Fakes, decision, pid

ROOT = Path(__file__).resolve().parents[2]
SERVER_ARN = "arn:aws:iam::123456789012:role/backend"


def test_the_router_serves_exactly_the_routes_of_resources():
    router = api_router(lambda: Fakes().ports())
    served = {(method, path) for (path, methods, *_rest) in router._routes for method in methods}
    assert served == {(route.method, rule(route.path)) for route in ROUTES}


def jwt_event(claims: dict) -> dict:
    return {"requestContext": {"authorizer": {"jwt": {"claims": claims, "scopes": None}}}}


def test_a_jwt_caller_is_the_tokens_tenant_and_user():
    caller = caller_of(
        jwt_event({"custom:tenant": "demo", "custom:user_id": "u-1", "username": "x", "client_id": "c1"}), "jwt", {}
    )
    assert (caller.kind, caller.tenant, caller.user_id, caller.principal) == ("jwt", "demo", "u-1", "app:c1")
    assert caller_of(jwt_event({"custom:tenant": "demo", "cognito:username": "bob"}), "jwt", {}).user_id == "bob"
    with pytest.raises(Forbidden):
        caller_of(jwt_event({"custom:tenant": "Not A Tenant!", "sub": "x"}), "jwt", {})
    with pytest.raises(Unauthorized):
        caller_of({"requestContext": {}}, "jwt", {})
    with pytest.raises(Unauthorized):  # an IAM identity on a JWT route is no token
        caller_of({"requestContext": {"authorizer": {"iam": {"userArn": SERVER_ARN}}}}, "jwt", {SERVER_ARN: "demo"})


def test_a_server_caller_acts_for_its_principals_tenant_only():
    event = {"requestContext": {"authorizer": {"iam": {"userArn": SERVER_ARN}}}}
    assert caller_of(event, "iam", {SERVER_ARN: "demo"}).tenant == "demo"
    with pytest.raises(Forbidden):
        caller_of(event, "iam", {"arn:aws:iam::123456789012:role/another": "demo"})
    with pytest.raises(Unauthorized):
        caller_of(jwt_event({"custom:tenant": "demo", "sub": "x"}), "iam", {"*": "demo"})
    session = "arn:aws:sts::123456789012:assumed-role/backend/session-1"
    assert server_tenant(session, {SERVER_ARN: "demo", "*": "other"}) == "demo"
    assert server_tenant("arn:aws:iam::1:user/x", {"*": "other"}) == "other"


def test_errors_are_answered_in_one_place():
    assert answer(NotFound("gone")).status_code == 404
    assert answer(TransientError("throttled")).status_code == 503
    unexpected = answer(RuntimeError("boom"))
    assert unexpected.status_code == 500 and "boom" not in json.dumps(unexpected.body)


def test_the_committed_openapi_document_is_current_and_declares_both_security_schemes():
    committed = (ROOT / "docs" / "openapi.json").read_text(encoding="utf-8")
    assert committed == openapi_document(), "docs/openapi.json is not current: run make openapi"
    spec = json.loads(committed)
    schemes = spec["components"]["securitySchemes"]
    assert schemes[JWT_SCHEME]["scheme"] == "bearer" and schemes[IAM_SCHEME]["x-amazon-apigateway-authtype"] == "awsSigv4"
    for route in ROUTES:
        operation = spec["paths"][route.path][route.method.lower()]
        assert operation["security"] == [{JWT_SCHEME if route.auth == "jwt" else IAM_SCHEME: []}], route


# --- the Lambda resolver, HTTP API payload 2.0 ------------------------------------------------------------


def http_api_event(
    method: str, path: str, route_key: str, claims: dict | None = None, body: dict | None = None, iam: str | None = None
) -> dict:
    authorizer = {"jwt": {"claims": claims, "scopes": None}} if claims else {"iam": {"userArn": iam, "accountId": "123456789012"}}
    return {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "authorizer": authorizer,
            "domainName": "x",
            "domainPrefix": "x",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "test"},
            "requestId": "r",
            "routeKey": route_key,
            "stage": "$default",
            "time": "01/Nov/2026:00:00:00 +0000",
            "timeEpoch": NOW,
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }


def test_the_lambda_resolver_serves_the_router_over_http_api_events():
    fakes = Fakes()
    fakes.reads.interventions_by_user[pid()] = [decision("i-1")]
    settings = Settings().model_copy(update={"api": Settings().api.model_copy(update={"server_tenants": {SERVER_ARN: "demo"}})})
    app = serve(APIGatewayHttpResolver(enable_validation=True), api_router(fakes.ports, lambda: settings))
    user = {"custom:tenant": "demo", "custom:user_id": "demo-user-1", "client_id": "c1"}
    event = {"eventId": "e1", "eventType": "page_view", "userId": "demo-user-1", "sessionId": "s", "timestamp": NOW}
    answer_ = app.resolve(http_api_event("POST", "/v1/events", "POST /v1/events", user, {"events": [event]}), {})
    assert answer_["statusCode"] == 200 and json.loads(answer_["body"])["accepted"] == 1
    inbox = app.resolve(
        http_api_event("GET", "/v1/users/demo-user-1/interventions", "GET /v1/users/{userId}/interventions", user), {}
    )
    assert [i["interventionId"] for i in json.loads(inbox["body"])["interventions"]] == ["i-1"]
    outcome = app.resolve(
        http_api_event(
            "POST", "/v1/interventions/i-1/outcome", "POST /v1/interventions/{interventionId}/outcome", user, {"outcome": "shown"}
        ),
        {},
    )
    assert outcome["statusCode"] == 202 and json.loads(outcome["body"])["requestId"]
    erase = app.resolve(http_api_event("DELETE", "/v1/users/demo-user-1", "DELETE /v1/users/{userId}", iam=SERVER_ARN), {})
    assert erase["statusCode"] == 202
    assert [e["eventType"] for e in fakes.stream.appended] == ["page_view", "command", "command"]


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("text/plain", "hello", 415),  # Powertools refuses the content type: an answer, not a 500
        ("application/json", "[" * 5000 + "]" * 5000, 400),  # nested past the parser's depth
        ("application/json", '{"events": [', 422),  # not JSON: Powertools' validation answer
        ("application/json", '{"events": [{"eventId": "e", "x": ' + "9" * 30 + "}]}", 200),  # a huge number: that event rejected
        ("application/json", '{"events": [{"eventType": "page_view", "userId": "\\ud800"}]}', 200),  # a lone surrogate
    ],
)
def test_a_malformed_body_gets_a_client_error_never_a_server_error(content_type, body, status):
    # found by review: these were 500s
    fakes = Fakes()
    app = serve(APIGatewayHttpResolver(enable_validation=True), api_router(fakes.ports))
    user = {"custom:tenant": "demo", "custom:user_id": "demo-user-1", "client_id": "c1"}
    event = http_api_event("POST", "/v1/events", "POST /v1/events", user)
    event["body"], event["headers"]["content-type"] = body, content_type
    answer_ = app.resolve(event, {})
    assert answer_["statusCode"] == status, answer_["body"]
    if status == 200:
        assert json.loads(answer_["body"])["rejected"] == 1


def test_the_tokens_user_id_is_read_as_ids_are_everywhere_else():
    # found by review: an NFD or padded id in the token was not the id the paths and events normalize to
    nfd, nfc = "Jose\u0301", "Jos\u00e9"
    caller = caller_of(jwt_event({"custom:tenant": "demo", "custom:user_id": f"  {nfd}\u200b "}), "jwt", {})
    assert caller.user_id == nfc
    with pytest.raises(Forbidden):  # a control character is no user id: refused, not a server error
        caller_of(jwt_event({"custom:tenant": "demo", "custom:user_id": "bob\x07"}), "jwt", {})


def test_a_session_of_a_role_with_a_path_acts_for_that_roles_tenant():
    # found by review: the session ARN carries no path, and fell through to "*"
    tenants = {"arn:aws:iam::123456789012:role/service-role/backend-a": "tenant-a", "*": "tenant-b"}
    assert server_tenant("arn:aws:sts::123456789012:assumed-role/backend-a/s1", tenants) == "tenant-a"
    assert server_tenant("arn:aws:sts::123456789012:assumed-role/backend-b/s1", tenants) == "tenant-b"
    assert (
        server_tenant("arn:aws:sts::999999999999:assumed-role/backend-a/s1", {k: v for k, v in tenants.items() if k != "*"})
        is None
    )


def test_the_audit_names_a_role_not_the_person_behind_its_session():
    # found by review: an SSO session's name is often the operator's e-mail
    session = "arn:aws:sts::123456789012:assumed-role/privacy-desk/jane.doe@example.com"
    event = {"requestContext": {"authorizer": {"iam": {"userArn": session}}}}
    caller = caller_of(event, "iam", {"arn:aws:iam::123456789012:role/privacy-desk": "demo"})
    assert caller.principal == "arn:aws:sts::123456789012:assumed-role/privacy-desk" and caller.tenant == "demo"
