"""schemathesis against the local API (the ASGI app over the real adapters, on moto), from the OpenAPI
document the resolver generates: a bounded, derandomized number of examples per operation, each
authenticated with the local credentials its operation's security asks for (an app user's token or
the server's). No answer may be a server error, and every answer must be one the document declares,
in the shape it declares."""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from moto import mock_aws
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance, status_code_conformance

from journey.lambda_kit.http import JWT_SCHEME, openapi_document
from journey.users.state import UserState
from tests.builders import use_fake_aws_credentials
from tests.integration.api_world import ApiWorld

schema = schemathesis.openapi.from_dict(json.loads(openapi_document()))
schema.config.generation.update(modes=[schemathesis.GenerationMode.POSITIVE])
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, content_type_conformance]


@pytest.fixture(scope="module")
def world():
    with pytest.MonkeyPatch.context() as monkeypatch:
        use_fake_aws_credentials(monkeypatch, "us-east-1")
        with mock_aws():
            world = ApiWorld.create()
            user = world.pseudonym("demo", "demo-user-1")
            world.save_state(UserState(userId=user, tenant="demo", last_event_at=world.now_ms, risk_score=30, risk_band="MEDIUM"))
            world.decide(user, "demo", "i-1")
            world.signal(user, "demo")
            yield world


@schema.parametrize()
@settings(max_examples=25, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_the_local_api_conforms_to_its_openapi_document(case, world):
    # half the cases name the signed-in user and their intervention, so the routes' own answers are
    # exercised too, not only the 403/404 a random id gets
    params = case.path_parameters or {}
    if params and sum(map(ord, repr(sorted(params.items())))) % 2 == 0:
        params.update({k: v for k, v in (("userId", "demo-user-1"), ("interventionId", "i-1")) if k in params})
    security = case.operation.definition.raw.get("security", [{}])
    token = world.tokens["app_user"] if JWT_SCHEME in security[0] else world.tokens["server"]
    case.call_and_validate(app=world.app, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
