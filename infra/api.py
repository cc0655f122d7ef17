"""The HTTPS API: API Gateway HTTP API ▸ one Lambda function (functions/api), a Cognito user pool for
apps (JWT routes: a signed-in user acting on their own data) and IAM (SigV4) for back ends.

Every route is declared in ``journey.resources.ROUTES`` with how its caller is authorized. The API
never writes what the stream processor owns (DESIGN.md rule 1): outcomes, consent changes and erasure
requests are appended to the user's stream as command events; its role can read the read models, put
records on the stream, and write only the items it owns itself (Identities).
"""

from __future__ import annotations

import json

import jsii
from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.agent_spec import MODEL_REASON, foundation_models_finding, invoke_model_statements
from infra.config import DeploymentConfig
from infra.function import LOG_RETENTION, JourneyFunction, Observability, _allow_logs_to_encrypt
from infra.monitoring import alarms_to
from infra.nag import acknowledge, logical_id
from infra.storage import QUARANTINE_PREFIX, JourneyStorage
from journey.resources import (
    API_IDEMPOTENCY,
    CONTEXT_ANALYSES,
    EXIT_RISK_MODELS_PREFIX,
    IDENTITIES,
    INTERVENTIONS,
    PRIVACY_AUDIT,
    ROUTES,
    STRUGGLE_SIGNALS,
    TENANT_DAY_INDEX,
    USER_EVENTS,
    USER_STATE,
    Env,
)

API_SERVICE_NAME = "journey-api"  # its own Powertools service: its metrics never mix with the processor's
# the back-end principals (IAM ARNs, or "*") and the tenant each acts for (the API's settings, JSON)
SERVER_TENANTS_VARIABLE = "JOURNEY_API__SERVER_TENANTS"
TENANT_ATTRIBUTE = "tenant"  # custom:tenant in the user's tokens, set by the tenant's back end at user creation
USER_ID_ATTRIBUTE = "user_id"  # custom:user_id: the app's own user id, when it is not the username
TENANT_MAX_LENGTH = 63  # ^[a-z0-9][a-z0-9_-]{0,62}$
USER_ID_MAX_LENGTH = 256
CORS_HEADERS = ["authorization", "content-type", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"]

# One JSON line per request. The route key (`GET /v1/users/{userId}/insights`) is logged, not the path,
# so no app user id reaches the access log; the caller's IP is kept for security review, a month.
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integration.latency",
    "integrationStatus": "$context.integration.status",
    "integrationErrorMessage": "$context.integrationErrorMessage",
    "authorizerError": "$context.authorizer.error",
    "errorMessage": "$context.error.message",
}

_METHODS = {method.value: method for method in apigwv2.HttpMethod}
_CORS_METHODS = [apigwv2.CorsHttpMethod[method] for method in sorted({route.method for route in ROUTES})]


class JourneyApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        key: kms.IKey,
        storage: JourneyStorage,
        stream: kinesis.IStream,
        alarm_topic: sns.ITopic,
        metrics_namespace: str,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.user_pool, self.client = self._user_pool(config, removal_policy)
        environment = {
            **storage.table_environment(),
            Env.EVENT_STREAM_NAME: stream.stream_name,
            Env.QUARANTINE_BUCKET: storage.quarantine.bucket_name,
            Env.PSEUDONYM_SECRET_ARN: storage.pseudonym_key.secret_arn,
            Env.DEFAULT_TENANT: config.default_tenant,
            # the trained exit-risk models, to explain their scores in the insights (docs/exit-risk.md)
            Env.MODELS_BUCKET: storage.models.bucket_name,
        }
        if config.context_analysis:  # Amazon Nova's context analysis of a user (insights); off: the variable is absent
            environment[Env.CONTEXT_MODEL_ID] = config.context_model_id
        if config.server_tenants:
            environment[SERVER_TENANTS_VARIABLE] = json.dumps(config.server_tenants, sort_keys=True)
        self.handler = JourneyFunction(
            self,
            "ApiFunction",
            code="api",
            description="HTTPS API: ingest, inbox and outcomes, insights, analytics, consent, export, erasure",
            environment=environment,
            observability=Observability(API_SERVICE_NAME, metrics_namespace, trace_aws_calls=config.trace_aws_calls),
            log_key=key,
            removal_policy=removal_policy,
            memory_mb=1024,
            timeout=Duration.seconds(28),  # under the HTTP API integration's 30 s ceiling
        )
        self.function = self.handler.function
        self._grant_least_privilege(key, storage, stream)
        if config.context_analysis:
            self._grant_context_analysis(config.context_model_id, storage)

        self.api = apigwv2.HttpApi(
            self,
            "HttpApi",
            api_name=f"{Stack.of(self).stack_name}-api",
            description="Intelligent User Journey Orchestrator: events, inbox, insights, analytics, privacy",
            create_default_stage=False,  # the stage below carries throttling and access logs
            cors_preflight=_cors(config.cors_origins),
        )
        # Request size: HTTP APIs accept payloads up to 10 MB (a hard limit); the handler answers 413 above
        # 1 MB and 400 above 500 events (POST /v1/events), so a batch always fits PutRecords' limits.
        integration = integrations.HttpLambdaIntegration("ApiIntegration", self.function)
        jwt = authorizers.HttpJwtAuthorizer(
            "AppUserAuthorizer",
            f"https://cognito-idp.{Stack.of(self).region}.amazonaws.com/{self.user_pool.user_pool_id}",
            # matched against aud (ID tokens) or client_id (access tokens); custom:tenant and custom:user_id
            # are claims of the ID token, so apps send their ID token as the bearer token
            jwt_audience=[self.client.user_pool_client_id],
            authorizer_name="app-user-jwt",
        )
        route_authorizers: dict[str, apigwv2.IHttpRouteAuthorizer] = {"jwt": jwt, "iam": authorizers.HttpIamAuthorizer()}
        self.routes: dict[str, apigwv2.HttpRoute] = {}
        for route in ROUTES:
            if route.auth not in route_authorizers:
                raise ValueError(f"{route.method} {route.path}: unknown auth '{route.auth}' (jwt or iam)")
            (self.routes[f"{route.method} {route.path}"],) = self.api.add_routes(
                path=route.path,
                methods=[_METHODS[route.method]],
                integration=integration,
                authorizer=route_authorizers[route.auth],
            )

        self.access_logs = self._access_log_group(key, removal_policy)
        self.stage = apigwv2.HttpStage(
            self,
            "DefaultStage",
            http_api=self.api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=config.api_rate_limit, burst_limit=config.api_burst_limit),
            access_log_settings=_AccessLogSettings(
                apigwv2.LogGroupLogDestination(self.access_logs),
                apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS, separators=(",", ":"))),
            ),
        )
        self.alarms = self._alarms(alarm_topic)

        CfnOutput(Stack.of(self), "ApiUrl", value=self.stage.url)
        CfnOutput(Stack.of(self), "UserPoolId", value=self.user_pool.user_pool_id)
        CfnOutput(Stack.of(self), "UserPoolClientId", value=self.client.user_pool_client_id)

    def _user_pool(
        self, config: DeploymentConfig, removal_policy: RemovalPolicy
    ) -> tuple[cognito.UserPool, cognito.UserPoolClient]:
        """App users: created by their tenant's back end (no self sign-up) with the tenant, and optionally the
        app's own user id, as immutable attributes, so a user can never move to another tenant or identity."""
        plus = config.user_pool_feature_plan == "plus"
        pool = cognito.UserPool(
            self,
            "UserPool",
            self_sign_up_enabled=False,
            # usernames only: an email alias must be unique in the pool, and one person may use two tenants' apps
            sign_in_aliases=cognito.SignInAliases(username=True),
            sign_in_case_sensitive=False,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            custom_attributes={
                TENANT_ATTRIBUTE: cognito.StringAttribute(min_len=1, max_len=TENANT_MAX_LENGTH, mutable=False),
                USER_ID_ATTRIBUTE: cognito.StringAttribute(min_len=1, max_len=USER_ID_MAX_LENGTH, mutable=False),
            },
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            # an authenticator app (TOTP): no SMS role, no per-message cost
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
            feature_plan=cognito.FeaturePlan.PLUS if plus else cognito.FeaturePlan.ESSENTIALS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION if plus else None,
            deletion_protection=removal_policy == RemovalPolicy.RETAIN,
            removal_policy=removal_policy,
        )
        if not plus:
            acknowledge(
                pool,
                "AwsSolutions-COG8",
                "The deployment chose the Essentials feature plan (-c userPoolFeaturePlan=essentials): no threat "
                "protection; MFA is still required and the password policy still applies.",
            )
        client = pool.add_client(
            "AppClient",
            generate_secret=False,  # a public client: mobile and web apps cannot keep a secret
            auth_flows=cognito.AuthFlow(user_srp=True),
            disable_o_auth=True,  # no hosted UI; apps sign in with SRP
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            id_token_validity=Duration.hours(1),
            access_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(30),
            read_attributes=cognito.ClientAttributes()
            .with_standard_attributes(email=True, email_verified=True)
            .with_custom_attributes(TENANT_ATTRIBUTE, USER_ID_ATTRIBUTE),
            write_attributes=cognito.ClientAttributes().with_standard_attributes(email=True),
        )
        return pool, client

    def _grant_least_privilege(self, key: kms.IKey, storage: JourneyStorage, stream: kinesis.IStream) -> None:
        """Read the read models, put records, own the identity items; no write on what the processor owns."""
        fn = self.function
        read_models = [storage.table(spec) for spec in (USER_STATE, USER_EVENTS, STRUGGLE_SIGNALS, INTERVENTIONS)]
        statements = [
            iam.PolicyStatement(
                actions=["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"],
                resources=[table.table_arn for table in read_models],
            ),
            iam.PolicyStatement(
                actions=["dynamodb:Query"],
                resources=[
                    f"{storage.table(spec).table_arn}/index/{TENANT_DAY_INDEX}" for spec in (STRUGGLE_SIGNALS, INTERVENTIONS)
                ],
            ),
            # the mapping of a pseudonym back to the app's user id: the API writes it on a user's first ingest
            iam.PolicyStatement(
                actions=["dynamodb:GetItem", "dynamodb:PutItem"], resources=[storage.table(IDENTITIES).table_arn]
            ),
            iam.PolicyStatement(
                actions=["dynamodb:GetItem", "dynamodb:Query"], resources=[storage.table(PRIVACY_AUDIT).table_arn]
            ),
            # the API's own record of the answers it gave to event requests (Powertools idempotency)
            iam.PolicyStatement(
                actions=["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
                resources=[storage.table(API_IDEMPOTENCY).table_arn],
            ),
            iam.PolicyStatement(actions=["kinesis:PutRecords"], resources=[stream.stream_arn]),
            # export: the user's quarantined records, listed under quarantine/<owner hash>/
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[storage.quarantine.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{QUARANTINE_PREFIX}*"]}},
            ),
            iam.PolicyStatement(
                actions=["s3:GetObject"], resources=[storage.quarantine.arn_for_objects(f"{QUARANTINE_PREFIX}*")]
            ),
            iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=[storage.pseudonym_key.secret_arn]),
            # insights: the exit-risk model version that scored a user, to explain that score (read only, model files only)
            iam.PolicyStatement(
                actions=["s3:GetObject"], resources=[storage.models.arn_for_objects(f"{EXIT_RISK_MODELS_PREFIX}*")]
            ),
        ]
        for statement in statements:
            fn.add_to_role_policy(statement)
        # tables, stream, quarantine objects and the secret are all encrypted with the data key
        key.grant(fn, "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey")
        acknowledge(
            fn,
            f"AwsSolutions-IAM5[Resource::<{logical_id(storage.quarantine)}.Arn>/{QUARANTINE_PREFIX}*]",
            "Export reads a user's quarantined records under quarantine/<owner hash>/; their keys are not known in "
            "advance (GetObject only).",
        )
        acknowledge(
            fn,
            f"AwsSolutions-IAM5[Resource::<{logical_id(storage.models)}.Arn>/{EXIT_RISK_MODELS_PREFIX}*]",
            "The insights explain a trained model's score with the model version that scored it "
            "(models/exit-risk/<version>/model.json); versions are published after deployment, so their keys are not "
            "known when the policy is written. Read only.",
        )

    def _grant_context_analysis(self, model_id: str, storage: JourneyStorage) -> None:
        """The context analysis: Converse with its model (bedrock:InvokeModel), and the API's own cache of
        the answers (ContextAnalyses, expiring by TTL; its key is granted with the tables')."""
        fn = self.function
        for statement in invoke_model_statements(self, model_id, ["bedrock:InvokeModel"]):
            fn.add_to_role_policy(statement)
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:GetItem", "dynamodb:PutItem"], resources=[storage.table(CONTEXT_ANALYSES).table_arn]
            )
        )
        if finding := foundation_models_finding(model_id):
            acknowledge(fn, finding, MODEL_REASON)

    def _access_log_group(self, key: kms.IKey, removal_policy: RemovalPolicy) -> logs.LogGroup:
        stack = Stack.of(self)
        # a name known at synth lets the key policy name this log group without a dependency cycle
        name = f"/aws/apigateway/{stack.stack_name}/{self.node.path[len(stack.node.path) + 1 :]}/access"
        group = logs.LogGroup(
            self,
            "AccessLogs",
            log_group_name=name,
            retention=LOG_RETENTION,
            encryption_key=key,
            removal_policy=removal_policy,
        )
        _allow_logs_to_encrypt(self, key, name)
        return group

    def _alarms(self, topic: sns.ITopic) -> list[cloudwatch.Alarm]:
        specs = {
            "ApiServerErrorsAlarm": (
                "The HTTPS API answers 5xx (runbook: api errors)",
                self.api.metric_server_error(period=Duration.minutes(5), statistic="Sum"),
                5,
            ),
            "ApiFunctionErrorsAlarm": (
                "API function invocations failing (runbook: api errors)",
                self.function.metric_errors(period=Duration.minutes(5)),
                0,
            ),
        }
        return alarms_to(self, topic, specs)


def _cors(origins: tuple[str, ...]) -> apigwv2.CorsPreflightOptions | None:
    """CORS only where origins are configured (-c corsOrigins=...): browsers' apps; none by default."""
    if not origins:
        return None
    return apigwv2.CorsPreflightOptions(
        allow_origins=list(origins),
        allow_methods=_CORS_METHODS,
        allow_headers=CORS_HEADERS,
        max_age=Duration.hours(1),
        allow_credentials=False,  # bearer tokens, never cookies
    )


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogSettings:
    """Access log settings of a stage (an interface in aws-cdk-lib, not a struct: Python implements it)."""

    def __init__(self, destination: apigwv2.IAccessLogDestination, log_format: apigw.AccessLogFormat) -> None:
        self._destination = destination
        self._format = log_format

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return self._format
