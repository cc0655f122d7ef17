"""The HTTPS API in the synthesized template: routes and how each is authorized, the user pool, the
stage's throttling and access logs, the pseudonym key, the tenant-day indexes, and the API function's
permissions (it never writes what the stream processor owns: DESIGN.md rule 1)."""

from __future__ import annotations

import json

import pytest
from aws_cdk import App

from infra.config import DeploymentConfig
from journey.kernel.tenancy import DEFAULT_TENANT
from journey.resources import (
    API_IDEMPOTENCY,
    CONTEXT_ANALYSES,
    IDENTITIES,
    INTERVENTIONS,
    PRIVACY_AUDIT,
    ROUTES,
    STRUGGLE_SIGNALS,
    TABLES,
    TENANT_DAY_ATTRIBUTE,
    TENANT_DAY_INDEX,
    USER_EVENTS,
    USER_STATE,
    Env,
)

API_FUNCTION = "ApiApiFunction"
PROCESSOR = "ProcessingStreamProcessor"
OWNED_BY_THE_PROCESSOR = (USER_STATE, USER_EVENTS, STRUGGLE_SIGNALS, INTERVENTIONS)
WRITES = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}


def _only(template, kind: str) -> tuple[str, dict]:
    (found,) = template.find_resources(kind).items()
    return found


def _table_id(template, spec) -> str:
    (found,) = [lid for lid in template.find_resources("AWS::DynamoDB::Table") if lid.startswith(f"Storage{spec.logical_id}")]
    return found


def _arn(template, spec) -> dict:
    return {"Fn::GetAtt": [_table_id(template, spec), "Arn"]}


def _statements_of(template, role_prefix: str) -> list[dict]:
    return [
        s
        for p in template.find_resources("AWS::IAM::Policy").values()
        if any(role["Ref"].startswith(role_prefix) for role in p["Properties"]["Roles"])
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]


def _listed(value) -> list:
    return value if isinstance(value, list) else [value]


def _grants(statements: list[dict]) -> list[tuple[str, str]]:
    """(action, resource as JSON) for every Allow statement: what the role may do, to what."""
    return [
        (action, json.dumps(resource, sort_keys=True))
        for s in statements
        if s["Effect"] == "Allow"
        for action in _listed(s["Action"])
        for resource in _listed(s["Resource"])
    ]


def _api_function(template) -> tuple[str, dict]:
    (found,) = [(lid, f) for lid, f in template.find_resources("AWS::Lambda::Function").items() if lid.startswith(API_FUNCTION)]
    return found


# --- the HTTP API and its routes -------------------------------------------------------------------------
def test_an_http_api_serves_every_declared_route_authorized_as_declared(template):
    api_id, api = _only(template, "AWS::ApiGatewayV2::Api")
    assert api["Properties"]["ProtocolType"] == "HTTP"
    assert "CorsConfiguration" not in api["Properties"]  # no CORS unless origins are configured
    (jwt_id, _jwt) = _only(template, "AWS::ApiGatewayV2::Authorizer")
    routes = {r["Properties"]["RouteKey"]: r["Properties"] for r in template.find_resources("AWS::ApiGatewayV2::Route").values()}
    assert set(routes) == {f"{route.method} {route.path}" for route in ROUTES}  # no $default catch-all, nothing else
    (integration_id, integration) = _only(template, "AWS::ApiGatewayV2::Integration")
    for route in ROUTES:
        props = routes[f"{route.method} {route.path}"]
        assert props["ApiId"] == {"Ref": api_id}
        assert props["Target"] == {"Fn::Join": ["", ["integrations/", {"Ref": integration_id}]]}
        if route.auth == "jwt":
            assert props["AuthorizationType"] == "JWT" and props["AuthorizerId"] == {"Ref": jwt_id}
        else:
            assert route.auth == "iam"
            assert props["AuthorizationType"] == "AWS_IAM" and "AuthorizerId" not in props
    assert {route.auth for route in ROUTES} == {"jwt", "iam"}
    # one Lambda proxy integration (payload 2.0) to the API function
    fn_id, _fn = _api_function(template)
    assert integration["Properties"]["IntegrationType"] == "AWS_PROXY"
    assert integration["Properties"]["PayloadFormatVersion"] == "2.0"
    assert integration["Properties"]["IntegrationUri"] == {"Fn::GetAtt": [fn_id, "Arn"]}
    # API Gateway may invoke the function for these routes only (one permission per route, scoped to its path)
    permissions = [
        p["Properties"]
        for p in template.find_resources("AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [fn_id, "Arn"]}
    ]
    assert len(permissions) == len(ROUTES)
    assert all(p["Principal"] == "apigateway.amazonaws.com" for p in permissions)
    assert {p["SourceArn"]["Fn::Join"][1][-1] for p in permissions} == {f"/*/*{route.path}" for route in ROUTES}


def test_the_jwt_authorizer_trusts_the_user_pool_and_its_app_client_only(template):
    pool_id, _pool = _only(template, "AWS::Cognito::UserPool")
    client_id, _client = _only(template, "AWS::Cognito::UserPoolClient")
    _id, authorizer = _only(template, "AWS::ApiGatewayV2::Authorizer")
    props = authorizer["Properties"]
    assert props["AuthorizerType"] == "JWT"
    assert props["IdentitySource"] == ["$request.header.Authorization"]
    assert props["JwtConfiguration"] == {
        "Audience": [{"Ref": client_id}],
        "Issuer": {"Fn::Join": ["", ["https://cognito-idp.", {"Ref": "AWS::Region"}, ".amazonaws.com/", {"Ref": pool_id}]]},
    }


def test_the_user_pool_admits_users_created_by_their_tenant_with_an_immutable_tenant(template):
    _id, pool = _only(template, "AWS::Cognito::UserPool")
    props = pool["Properties"]
    assert props["AdminCreateUserConfig"] == {"AllowAdminCreateUserOnly": True}  # no self sign-up
    schema = {a["Name"]: a for a in props["Schema"]}
    assert schema["tenant"]["Mutable"] is False and schema["user_id"]["Mutable"] is False
    assert schema["tenant"]["StringAttributeConstraints"]["MaxLength"] == "63"
    assert props["MfaConfiguration"] == "ON" and props["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    policy = props["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 12
    assert policy["RequireLowercase"] and policy["RequireUppercase"] and policy["RequireNumbers"] and policy["RequireSymbols"]
    assert props["UserPoolTier"] == "PLUS" and props["UserPoolAddOns"] == {"AdvancedSecurityMode": "ENFORCED"}
    _id, client = _only(template, "AWS::Cognito::UserPoolClient")
    props = client["Properties"]
    assert props["GenerateSecret"] is False
    assert set(props["ExplicitAuthFlows"]) == {"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}
    assert props["AllowedOAuthFlowsUserPoolClient"] is False  # no hosted UI, no implicit grant
    assert {"custom:tenant", "custom:user_id"} <= set(props["ReadAttributes"])
    assert not any(a.startswith("custom:") for a in props["WriteAttributes"])  # a user cannot change tenant


def test_the_stage_throttles_every_route_and_logs_each_request_as_json(template):
    api_id, _api = _only(template, "AWS::ApiGatewayV2::Api")
    _id, stage = _only(template, "AWS::ApiGatewayV2::Stage")
    props = stage["Properties"]
    assert props["ApiId"] == {"Ref": api_id} and props["StageName"] == "$default" and props["AutoDeploy"] is True
    assert props["DefaultRouteSettings"] == {"ThrottlingRateLimit": 100, "ThrottlingBurstLimit": 200}
    settings = props["AccessLogSettings"]
    (log_group_id, attribute) = settings["DestinationArn"]["Fn::GetAtt"]
    assert attribute == "Arn"
    log_group = template.find_resources("AWS::Logs::LogGroup")[log_group_id]["Properties"]
    (key_id, _key) = _only(template, "AWS::KMS::Key")
    assert log_group["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert log_group["RetentionInDays"] == 30
    fields = json.loads(settings["Format"])
    assert {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "routeKey": "$context.routeKey",
        "status": "$context.status",
        "responseLength": "$context.responseLength",
        "integrationErrorMessage": "$context.integrationErrorMessage",
        "authorizerError": "$context.authorizer.error",
    }.items() <= fields.items()
    assert not any("path" in value.lower() for value in fields.values())  # paths hold app user ids


def test_the_stack_outputs_the_api_url_and_the_user_pool(template):
    outputs = template.to_json()["Outputs"]
    assert {"ApiUrl", "UserPoolId", "UserPoolClientId", "ApiFunctionName"} <= outputs.keys()
    pool_id, _pool = _only(template, "AWS::Cognito::UserPool")
    assert outputs["UserPoolId"]["Value"] == {"Ref": pool_id}


def test_api_alarms_point_at_the_runbook(template):
    descriptions = [a["Properties"]["AlarmDescription"] for a in template.find_resources("AWS::CloudWatch::Alarm").values()]
    assert sum("(runbook: api errors)" in d for d in descriptions) == 2


# --- storage: the tenant's day index, the new tables, the pseudonym key ----------------------------------
def test_signals_and_decisions_have_the_tenant_day_index(template):
    tables = template.find_resources("AWS::DynamoDB::Table")
    for spec in (STRUGGLE_SIGNALS, INTERVENTIONS):
        props = tables[_table_id(template, spec)]["Properties"]
        (index,) = [i for i in props["GlobalSecondaryIndexes"] if i["IndexName"] == TENANT_DAY_INDEX]
        assert index == {
            "IndexName": TENANT_DAY_INDEX,
            "KeySchema": [
                {"AttributeName": TENANT_DAY_ATTRIBUTE, "KeyType": "HASH"},
                {"AttributeName": spec.sort_key, "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
        types = {d["AttributeName"]: d["AttributeType"] for d in props["AttributeDefinitions"]}
        assert types[TENANT_DAY_ATTRIBUTE] == "S" and types[spec.sort_key] == "S"
    for spec in (IDENTITIES, PRIVACY_AUDIT):
        props = tables[_table_id(template, spec)]["Properties"]
        assert [k["AttributeName"] for k in props["KeySchema"]] == list(spec.key_names)
        assert props["SSESpecification"]["SSEType"] == "KMS"
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_the_pseudonym_key_is_a_generated_secret_encrypted_with_the_data_key(template):
    secret_id, secret = _only(template, "AWS::SecretsManager::Secret")
    (key_id, _key) = _only(template, "AWS::KMS::Key")
    props = secret["Properties"]
    assert props["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert props["GenerateSecretString"]["PasswordLength"] >= 32 and "SecretString" not in props
    assert template.find_resources("AWS::SecretsManager::RotationSchedule") == {}  # rotation would re-key every user
    _fn_id, fn = _api_function(template)
    assert fn["Properties"]["Environment"]["Variables"][Env.PSEUDONYM_SECRET_ARN] == {"Ref": secret_id}
    readers = [
        s for p in template.find_resources("AWS::IAM::Policy").values() for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert [s["Resource"] for s in readers if "secretsmanager:GetSecretValue" in _listed(s["Action"])] == [{"Ref": secret_id}]


# --- the API function ----------------------------------------------------------------------------------------
def test_the_api_environment_names_its_tables_stream_bucket_secret_and_tenant(template):
    _fn_id, fn = _api_function(template)
    variables = fn["Properties"]["Environment"]["Variables"]
    for spec in TABLES:
        assert variables[spec.env] == {"Ref": _table_id(template, spec)}
    assert variables[Env.EVENT_STREAM_NAME]["Ref"].startswith("ProcessingEventStream")
    assert variables[Env.QUARANTINE_BUCKET]["Ref"].startswith("StorageQuarantine")
    assert variables[Env.DEFAULT_TENANT] == DEFAULT_TENANT
    assert variables["POWERTOOLS_SERVICE_NAME"] == "journey-api"
    assert "JOURNEY_API__SERVER_TENANTS" not in variables  # none configured: IAM callers are refused
    assert fn["Properties"]["Handler"] == "handler.lambda_handler"
    assert DeploymentConfig().default_tenant == DEFAULT_TENANT  # infra's default is the library's


def test_the_api_never_writes_what_the_stream_processor_owns(template):
    """DESIGN.md rule 1, backed by IAM: the API function's role may write identity items and nothing else."""
    grants = _grants(_statements_of(template, API_FUNCTION))
    assert not [action for action, _ in grants if action == "*" or action.endswith(":*")]
    owned = {json.dumps(_arn(template, spec), sort_keys=True) for spec in OWNED_BY_THE_PROCESSOR}
    assert not [(a, r) for a, r in grants if a in WRITES and (r in owned or any(o[:-1] in r for o in owned))]
    writes = {(a, r) for a, r in grants if a in WRITES}
    answers = json.dumps(_arn(template, API_IDEMPOTENCY), sort_keys=True)  # its own record of the answers it gave
    analyses = json.dumps(_arn(template, CONTEXT_ANALYSES), sort_keys=True)  # its cache of the context analyses
    assert writes == {("dynamodb:PutItem", json.dumps(_arn(template, IDENTITIES), sort_keys=True))} | {
        (a, answers) for a in ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")
    } | {("dynamodb:PutItem", analyses)}
    # and every DynamoDB permission it has, exactly
    dynamodb = {(a, r) for a, r in grants if a.startswith("dynamodb:")}
    expected = {
        (action, json.dumps(_arn(template, spec), sort_keys=True))
        for spec in OWNED_BY_THE_PROCESSOR
        for action in ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query")
    }
    expected |= {
        (
            "dynamodb:Query",
            json.dumps({"Fn::Join": ["", [_arn(template, spec), f"/index/{TENANT_DAY_INDEX}"]]}, sort_keys=True),
        )
        for spec in (STRUGGLE_SIGNALS, INTERVENTIONS)
    }
    expected |= {(a, json.dumps(_arn(template, IDENTITIES), sort_keys=True)) for a in ("dynamodb:GetItem", "dynamodb:PutItem")}
    expected |= {(a, json.dumps(_arn(template, PRIVACY_AUDIT), sort_keys=True)) for a in ("dynamodb:GetItem", "dynamodb:Query")}
    expected |= {
        (a, json.dumps(_arn(template, API_IDEMPOTENCY), sort_keys=True))
        for a in ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")
    }
    expected |= {
        (a, json.dumps(_arn(template, CONTEXT_ANALYSES), sort_keys=True)) for a in ("dynamodb:GetItem", "dynamodb:PutItem")
    }
    assert dynamodb == expected


def test_the_api_puts_records_reads_quarantine_by_prefix_and_reads_the_secret(template):
    statements = _statements_of(template, API_FUNCTION)
    actions = {a for s in statements for a in _listed(s["Action"])}
    assert {a for a in actions if not a.startswith(("dynamodb:", "xray:"))} == {
        "bedrock:InvokeModel",  # the context analysis (tests/infra/test_agent.py checks its resources)
        "kinesis:PutRecords",
        "s3:ListBucket",
        "s3:GetObject",
        "secretsmanager:GetSecretValue",
        "kms:Decrypt",
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "kms:DescribeKey",
    }
    by_action = {a: s for s in statements for a in _listed(s["Action"])}
    assert by_action["kinesis:PutRecords"]["Resource"]["Fn::GetAtt"][0].startswith("ProcessingEventStream")
    listing = by_action["s3:ListBucket"]
    assert listing["Resource"]["Fn::GetAtt"][0].startswith("StorageQuarantine")
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["quarantine/*"]}}
    # GetObject: quarantined records (export) and exit-risk models (insights explain a trained model's score)
    reads = sorted(
        (s["Resource"]["Fn::Join"][1][0]["Fn::GetAtt"][0].startswith("StorageModels"), s["Resource"]["Fn::Join"][1][1])
        for s in statements
        if "s3:GetObject" in _listed(s["Action"])
    )
    assert reads == [(False, "/quarantine/*"), (True, "/models/exit-risk/*")]
    assert by_action["kms:Decrypt"]["Resource"]["Fn::GetAtt"][0].startswith("DataKey")


# --- the stream processor carries out erasure ------------------------------------------------------------
def test_the_processor_may_find_and_erase_a_user_everywhere_and_no_more(template):
    statements = _statements_of(template, PROCESSOR)
    grants = set(_grants(statements))
    (query,) = [s for s in statements if "dynamodb:Query" in _listed(s["Action"])]
    assert _listed(query["Action"]) == ["dynamodb:Query"]  # on the four tables, not on an index
    assert sorted(json.dumps(r, sort_keys=True) for r in query["Resource"]) == sorted(
        json.dumps(_arn(template, spec), sort_keys=True) for spec in OWNED_BY_THE_PROCESSOR
    )
    for spec in (IDENTITIES, PRIVACY_AUDIT):
        assert ("dynamodb:BatchWriteItem", json.dumps(_arn(template, spec), sort_keys=True)) in grants
    (listing,) = [s for s in statements if "s3:ListBucket" in _listed(s["Action"])]
    assert set(listing["Action"]) == {"s3:ListBucket", "s3:ListBucketVersions"}
    assert listing["Resource"]["Fn::GetAtt"][0].startswith("StorageQuarantine")
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["quarantine/*"]}}
    (deleting,) = [s for s in statements if "s3:DeleteObject" in _listed(s["Action"])]
    assert set(deleting["Action"]) == {"s3:DeleteObject", "s3:DeleteObjectVersion"}  # every version: the bucket is versioned
    assert deleting["Resource"]["Fn::Join"][1][1] == "/quarantine/*"
    s3_actions = {a for a, _ in grants if a.startswith("s3:")}
    # and GetObject: the trained exit-risk model, read only under models/exit-risk/ (tests/infra/test_models.py)
    assert s3_actions == {
        "s3:PutObject",
        "s3:GetObject",
        "s3:ListBucket",
        "s3:ListBucketVersions",
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
    }


# --- configuration ------------------------------------------------------------------------------------------
def test_cors_throttling_server_tenants_and_the_plan_come_from_context(tmp_path):
    from tests.infra.conftest import synthesize

    template, report = synthesize(
        tmp_path / "configured",
        corsOrigins="https://app.example.com, http://localhost:3000",
        apiRateLimit="50",
        apiBurstLimit="80",
        serverTenants='{"arn:aws:iam::123456789012:role/backend": "acme"}',
        userPoolFeaturePlan="essentials",
    )
    _id, api = _only(template, "AWS::ApiGatewayV2::Api")
    cors = api["Properties"]["CorsConfiguration"]
    assert cors["AllowOrigins"] == ["https://app.example.com", "http://localhost:3000"]
    assert set(cors["AllowMethods"]) == {route.method for route in ROUTES}
    assert "authorization" in cors["AllowHeaders"] and cors["AllowCredentials"] is False
    _id, stage = _only(template, "AWS::ApiGatewayV2::Stage")
    assert stage["Properties"]["DefaultRouteSettings"] == {"ThrottlingRateLimit": 50, "ThrottlingBurstLimit": 80}
    _fn_id, fn = _api_function(template)
    variables = fn["Properties"]["Environment"]["Variables"]
    assert json.loads(variables["JOURNEY_API__SERVER_TENANTS"]) == {"arn:aws:iam::123456789012:role/backend": "acme"}
    _id, pool = _only(template, "AWS::Cognito::UserPool")
    assert pool["Properties"]["UserPoolTier"] == "ESSENTIALS" and "UserPoolAddOns" not in pool["Properties"]
    assert "AwsSolutions::AwsSolutions-COG8" in report["acknowledged"]  # the deployer's choice, with its reason


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"corsOrigins": "https://app.example.com/path"}, "corsOrigins"),
        ({"corsOrigins": "app.example.com"}, "corsOrigins"),
        ({"defaultTenant": "Not A Tenant"}, "does not match"),
        ({"serverTenants": '{"arn:aws:iam::1:role/x": "UPPER"}'}, "does not match"),
        ({"serverTenants": '["not", "a", "map"]'}, "serverTenants"),
        ({"apiRateLimit": "0"}, "apiRateLimit"),
        ({"apiBurstLimit": "6000"}, "apiBurstLimit"),
        ({"userPoolFeaturePlan": "lite"}, "userPoolFeaturePlan"),
    ],
)
def test_the_api_configuration_is_validated(context, message):
    with pytest.raises(ValueError, match=message):
        DeploymentConfig.from_context(App(context=context).node)
