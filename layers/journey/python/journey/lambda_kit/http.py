"""The HTTPS API's routes on Powertools' event handler: one ``Router`` holding every route of
``journey.resources.ROUTES`` with pydantic request and response models (validated, and the source of
the OpenAPI document), the caller from the authorizer's context, and the one place the library's
errors become HTTP answers (:func:`answer`).

The same router serves API Gateway (``functions/api``: ``APIGatewayHttpResolver``) and the local
runtime (``localrt.api_local``: ``HttpResolverLocal``, ASGI). A router belongs to one resolver, so
:func:`api_router` builds a new one each time, over the ports it is given."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import content_types
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver, Response, Router
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType, RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn, HTTPBearer
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer, IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
)
from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer
from pydantic import BaseModel

from journey.app.analytics import Hotspots, UpliftReport, hotspots, uplift
from journey.app.api_ports import ApiError, ApiPorts, Caller
from journey.app.context_analysis import AnalysisResult
from journey.app.inbox import Inbox, OutcomeReport, RequestAccepted, inbox, report_outcome
from journey.app.ingest import IngestRequest, IngestResult, ingest
from journey.app.insights import Insights, user_insights
from journey.app.privacy import ConsentChange, UserExport, change_consent, export_user, request_erasure
from journey.errors import TransientError
from journey.lambda_kit.http_caller import caller_of
from journey.resources import ROUTES
from journey.settings import Settings, load_settings

log = logging.getLogger(__name__)

TITLE = "Intelligent User Journey Orchestrator API"
VERSION = "1.0.0"
JWT_SCHEME, IAM_SCHEME = "appUserJwt", "serverSigV4"
SECURITY: dict[str, list[dict[str, list[str]]]] = {"jwt": [{JWT_SCHEME: []}], "iam": [{IAM_SCHEME: []}]}
SECURITY_SCHEMES: dict[str, Any] = {
    JWT_SCHEME: HTTPBearer(
        bearerFormat="JWT",
        description="An app user's token from the Cognito user pool (claims custom:tenant, and custom:user_id or "
        "the username): the user acts on their own data only.",
    ),
    IAM_SCHEME: APIKey(
        name="Authorization",
        in_=APIKeyIn.header,
        description="A back end's request signed with AWS Signature Version 4 (IAM); it acts for the tenant its "
        "principal is mapped to (JOURNEY_API__SERVER_TENANTS).",
        **{"x-amazon-apigateway-authtype": "awsSigv4"},
    ),
}
AUTH = {(route.method, route.path): route.auth for route in ROUTES}
SUMMARY = {(route.method, route.path): route.summary for route in ROUTES}


class ErrorBody(BaseModel):
    """The API's own refusals carry all three; API Gateway's (a missing or invalid token: 401, a
    missing signature: 403) carry ``message`` only."""

    message: str
    code: str | None = None
    statusCode: int | None = None


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {content_types.APPLICATION_JSON: {"model": ErrorBody}}}


ERRORS = {
    400: _error("the request is not one the API can carry out (the message says why)"),
    401: _error("no credentials (a token or a signature)"),
    403: _error("the credentials do not allow this (another user's data, a principal without a tenant)"),
    404: _error("no such user, or no such intervention of the signed-in user"),
    409: _error("the same request is being carried out (send it again once it has its answer)"),
    413: _error("the body is over the limit (1 MB)"),
    415: _error("the body is not application/json"),
    503: _error("a dependency failed for now: send the same request again"),
}
# an event request's answer is kept an hour: a client that lost it (a timeout) sends the request again
ANSWERS_KEPT = IdempotencyConfig(expires_after_seconds=3600, raise_on_no_idempotency_key=True)
SUCCESS = {200: "the answer", 202: "accepted: on the user's stream, carried out within seconds (requestId names it)"}


def rule(path: str) -> str:
    """API Gateway's ``{name}`` as Powertools' ``<name>``."""
    return re.sub(r"\{(\w+)\}", r"<\1>", path)


def answer(exc: Exception) -> Response:
    """The one mapping of errors to HTTP answers: the library's, Powertools' own (a request that fits
    no route or not its schema), anything else as a logged 500."""
    if isinstance(exc, RequestValidationError):  # Powertools' own answer (422, where and what, no input echoed)
        detail = [{"loc": error["loc"], "type": error["type"]} for error in exc.errors()]
        return Response(status_code=422, content_type=content_types.APPLICATION_JSON, body={"statusCode": 422, "detail": detail})
    if isinstance(exc, IdempotencyAlreadyInProgressError):
        status, code, message = 409, "in_progress", "the same request is being carried out: wait for its answer, then ask again"
    elif isinstance(exc, IdempotencyPersistenceLayerError):
        status, code, message = 503, "unavailable", "a dependency failed for now: send the same request again"
        log.warning("idempotency store failed: %s", exc)
    elif isinstance(exc, RequestUnsupportedContentType):
        status, code, message = 415, "unsupported_media_type", "send the body as application/json"
    elif isinstance(exc, (RecursionError, UnicodeDecodeError, json.JSONDecodeError)):
        # a body nested past the parser's depth, not UTF-8, not JSON: the client's to fix, never a 500
        status, code, message = 400, "bad_body", f"the body is not JSON the API can read ({type(exc).__name__})"
    elif isinstance(exc, ServiceError):
        status, code, message = exc.status_code, "not_found" if exc.status_code == 404 else "refused", str(exc.msg)
    elif isinstance(exc, ApiError):
        status, code, message = exc.status, exc.code, exc.message
    elif isinstance(exc, TransientError):
        status, code, message = 503, "unavailable", "a dependency failed for now: send the same request again"
        log.warning("transient failure: %s", exc)
    else:
        status, code, message = 500, "internal_error", "the API failed; the error is logged"
        log.exception("unexpected error", exc_info=exc)
    body = ErrorBody(message=message, code=code, statusCode=status).model_dump()
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


UserIdPath = Annotated[str, Path(min_length=1, max_length=1024, description="the app's own id of the user")]


def api_router(
    ports: Callable[[], ApiPorts],
    settings: Callable[[], Settings] = load_settings,
    on_ingest: Callable[[IngestResult], None] | None = None,
    answers: Callable[[], BasePersistenceLayer | None] | None = None,
    on_analysis: Callable[[AnalysisResult], None] | None = None,
) -> Router:
    """Every route of ``ROUTES``, over ``ports`` (built on first use) and ``settings``. ``answers``:
    where the answers to event requests are kept (Powertools idempotency): the same request sent
    again by the same caller gets the first answer, and its events are not appended again.
    ``on_ingest`` / ``on_analysis``: told each ingest's result and each context analysis' latency and
    cost (the function's metrics: ContextAnalysisLatency, ContextAnalysisCost)."""
    router = Router()
    router.exception_handler(Exception)(answer)

    def caller(method: str, path: str) -> Caller:
        return caller_of(router.current_event.raw_event, AUTH[(method, path)], settings().api.server_tenants)

    def route(method: str, path: str, *more: int, status: int = 200) -> Callable[[Any], Any]:
        responses: dict[int, Any] = {status: {"description": SUCCESS[status]}}
        codes = {400, 401, 403, 503, *more} | ({415} if method in ("POST", "PUT") else set())
        responses.update({code: ERRORS[code] for code in sorted(codes)})
        return router.route(
            rule(path),
            method,
            summary=SUMMARY[(method, path)],
            security=SECURITY[AUTH[(method, path)]],
            responses=responses,
            tags=["apps" if AUTH[(method, path)] == "jwt" else "back ends"],
            status_code=status,
        )

    @route("POST", "/v1/events", 409, 413)
    def post_events(request: Annotated[IngestRequest, Body()]) -> IngestResult:
        who, config = caller("POST", "/v1/events"), settings()
        event = router.current_event
        body = (event.decoded_body or "").encode() if event.body else b""

        def run(request_key: dict[str, str]) -> IngestResult:
            return ingest(
                request, who, ports(), config.api.max_events, config.max_record_bytes, len(body), config.api.max_body_bytes
            )

        store = answers() if answers is not None else None
        if store is not None:
            context = router.lambda_context  # a request in progress past the function's timeout is not "in progress"
            if hasattr(context, "get_remaining_time_in_millis"):
                ANSWERS_KEPT.register_lambda_context(context)
            run = idempotent_function(
                data_keyword_argument="request_key",
                persistence_store=store,
                config=ANSWERS_KEPT,
                output_serializer=PydanticSerializer(IngestResult),
            )(run)
        request_key = {"tenant": who.tenant, "user": who.user_id or who.principal, "body": hashlib.sha256(body).hexdigest()}
        result = run(request_key=request_key)
        if on_ingest is not None:
            on_ingest(result)
        return result

    @route("GET", "/v1/users/{userId}/interventions", 404)
    def get_inbox(userId: UserIdPath, status: Annotated[Literal["pending", "all"], Query()] = "pending") -> Inbox:
        return inbox(caller("GET", "/v1/users/{userId}/interventions"), userId, ports(), status)

    @route("POST", "/v1/interventions/{interventionId}/outcome", 404, status=202)
    def post_outcome(
        interventionId: Annotated[str, Path(min_length=1, max_length=128)], report: Annotated[OutcomeReport, Body()]
    ) -> RequestAccepted:
        return report_outcome(caller("POST", "/v1/interventions/{interventionId}/outcome"), interventionId, report, ports())

    @route("PUT", "/v1/users/{userId}/consent", 404, status=202)
    def put_consent(userId: UserIdPath, change: Annotated[ConsentChange, Body()]) -> RequestAccepted:
        return change_consent(caller("PUT", "/v1/users/{userId}/consent"), userId, change, ports())

    @route("GET", "/v1/users/{userId}/insights", 404)
    def get_insights(
        userId: UserIdPath,
        analysis: Annotated[
            bool, Query(description="true: add Amazon Nova's context analysis (cached per user; never fails the request)")
        ] = False,
    ) -> Insights:
        config = settings()
        return user_insights(
            caller("GET", "/v1/users/{userId}/insights"),
            userId,
            ports(),
            config.api.recent_interventions,
            config.api.open_signals,
            analysis=config.agent if analysis else None,
            on_analysis=on_analysis,
        )

    @route("GET", "/v1/analytics/hotspots")
    def get_hotspots(
        days: Annotated[int, Query(ge=1, le=366, description="the last days, today included")] = 7,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> Hotspots:
        max_days = settings().api.analytics_max_days
        return hotspots(caller("GET", "/v1/analytics/hotspots"), ports(), days, limit, max_days)

    @route("GET", "/v1/analytics/uplift")
    def get_uplift(days: Annotated[int, Query(ge=1, le=366, description="the last days, today included")] = 28) -> UpliftReport:
        return uplift(caller("GET", "/v1/analytics/uplift"), ports(), days, settings().api.analytics_max_days)

    @route("GET", "/v1/users/{userId}/export", 404)
    def get_export(userId: UserIdPath) -> UserExport:
        return export_user(caller("GET", "/v1/users/{userId}/export"), userId, ports())

    @route("DELETE", "/v1/users/{userId}", 404, status=202)
    def delete_user(userId: UserIdPath) -> RequestAccepted:
        return request_erasure(caller("DELETE", "/v1/users/{userId}"), userId, ports())

    return router


def serve(app: ApiGatewayResolver, router: Router) -> ApiGatewayResolver:
    """The router on a resolver, with the API's OpenAPI description (title, security schemes)."""
    app.include_router(router)
    app.configure_openapi(
        title=TITLE,
        version=VERSION,
        description="Events in (native, Firebase/GA4 rows, Segment calls), the in-app inbox and its outcomes, "
        "insights, analytics and privacy requests. docs/api.md explains each route.",
        security_schemes=SECURITY_SCHEMES,
    )
    return app


def openapi_json(app: ApiGatewayResolver) -> str:
    return app.get_openapi_json_schema(title=TITLE, version=VERSION, security_schemes=SECURITY_SCHEMES)


def openapi_document() -> str:
    """The API's OpenAPI document (``docs/openapi.json``), from the resolver the function serves."""
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

    def no_ports() -> ApiPorts:
        raise RuntimeError("the OpenAPI document needs no ports")

    return openapi_json(serve(APIGatewayHttpResolver(enable_validation=True), api_router(no_ports))) + "\n"
