"""The HTTPS API on this machine: the same router the Lambda function serves
(``journey.lambda_kit.http``), on Powertools' ASGI resolver (``HttpResolverLocal``), behind a local
authorizer that stands in for API Gateway's.

API Gateway verifies a request before the function runs: a JWT route needs a valid token of the user
pool (else 401 ``{"message": "Unauthorized"}``), an IAM route a SigV4 signature (else 403
``{"message": "Forbidden"}``); it then puts the token's claims, or the signer's identity, in the
event's ``requestContext.authorizer``. Locally, tokens are issued and verified here (HS256 JWTs with
PyJWT, a local issuer and audience, a secret made per run): an app user's token carries the claims a
Cognito token carries (``custom:tenant``, ``custom:user_id``), and the server credential standing in
for SigV4 is a local token with ``journey:role=server`` and ``journey:principal=<IAM ARN>``, turned
into the IAM-shaped context. The route handlers then ask the same ``caller_of`` as in Lambda.

:func:`local_api` builds the ASGI app over given ports (moto-backed clients, or in-memory ones), so
tests, ``make serve`` and the demo's simulated apps use one thing; :func:`asgi_request` calls it
in-process without a server."""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import Any

import jwt
import orjson
from aws_lambda_powertools.event_handler.http_resolver import HttpResolverLocal
from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer

from journey.adapters.aws.dynamodb import TableNames
from journey.adapters.aws.identities import DynamoIdentities
from journey.adapters.aws.kinesis import KinesisCommandStream
from journey.adapters.aws.models import models_by_version
from journey.adapters.aws.read_models import DynamoReadModels, S3QuarantineReader
from journey.app.api_ports import ApiPorts
from journey.lambda_kit.http import api_router, serve
from journey.resources import ROUTES
from journey.settings import Settings

LOCAL_ISSUER = "https://journey.local/issuer"
LOCAL_AUDIENCE = "journey-local-app"
LOCAL_CLIENT_ID = "journey-local-app"
LOCAL_ACCOUNT = "123456789012"
SERVER_ROLE = "server"
# the local back ends and the tenant each acts for (JOURNEY_API__SERVER_TENANTS in AWS)
SERVER_PRINCIPALS = {
    f"arn:aws:iam::{LOCAL_ACCOUNT}:role/journey-local-server": "demo",
    f"arn:aws:iam::{LOCAL_ACCOUNT}:role/journey-local-server-other": "other",
}
TOKEN_TTL_S = 12 * 3600

_AUTHORIZER: ContextVar[dict[str, Any] | None] = ContextVar("local_authorizer", default=None)
_ROUTES = [
    (route.method, re.compile("^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(route.path)) + "$"), route.auth) for route in ROUTES
]


# --- tokens ----------------------------------------------------------------------------------------------


def issue_token(secret: str, tenant: str, user_id: str, ttl_s: int = TOKEN_TTL_S) -> str:
    """A local app user's token, with the claims a Cognito ID token of the user pool carries."""
    now = int(time.time())
    claims = {
        "iss": LOCAL_ISSUER,
        "aud": LOCAL_AUDIENCE,
        "sub": f"local-{tenant}-{user_id}",
        "token_use": "id",
        "cognito:username": user_id,
        "custom:tenant": tenant,
        "custom:user_id": user_id,
        "iat": now,
        "exp": now + ttl_s,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def issue_server_token(secret: str, principal: str, ttl_s: int = TOKEN_TTL_S) -> str:
    """The local stand-in for a SigV4 signature: a token naming the IAM principal of a back end."""
    now = int(time.time())
    claims = {
        "iss": LOCAL_ISSUER,
        "aud": LOCAL_AUDIENCE,
        "sub": principal,
        "journey:role": SERVER_ROLE,
        "journey:principal": principal,
        "iat": now,
        "exp": now + ttl_s,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def local_tokens(secret: str) -> dict[str, str]:
    """The tokens ``make serve`` hands out: three app users (two of tenant demo, one of tenant other)
    and a back end of each tenant."""
    demo_server, other_server = SERVER_PRINCIPALS
    return {
        "app_user": issue_token(secret, "demo", "demo-user-1"),
        "other_user": issue_token(secret, "demo", "demo-user-2"),
        "other_tenant": issue_token(secret, "other", "other-user-1"),
        "server": issue_server_token(secret, demo_server),
        "other_server": issue_server_token(secret, other_server),
    }


def verify(secret: str, token: str) -> dict[str, Any] | None:
    """The token's claims when it is a valid local token (signature, issuer, audience, expiry)."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            audience=LOCAL_AUDIENCE,
            issuer=LOCAL_ISSUER,
            options={"require": ["exp", "iss", "aud"]},
        )
    except jwt.PyJWTError:
        return None
    return claims


def authorizer_context(claims: Mapping[str, Any]) -> dict[str, Any]:
    """What API Gateway puts in ``requestContext.authorizer`` for these verified claims: the IAM
    identity for the server credential, else the JWT's claims (as strings, as API Gateway gives them)."""
    if claims.get("journey:role") == SERVER_ROLE:
        principal = str(claims.get("journey:principal", ""))
        return {"iam": {"userArn": principal, "accountId": LOCAL_ACCOUNT, "callerId": principal, "userId": principal}}
    return {"jwt": {"claims": {name: str(value) for name, value in claims.items()}, "scopes": None}}


# --- the ASGI app -------------------------------------------------------------------------------------------


class _AuthorizedResolver(HttpResolverLocal):
    """Powertools' ASGI resolver, given the authorizer's context the local authorizer verified."""

    def _to_proxy_event(self, event: dict) -> Any:
        authorizer = _AUTHORIZER.get()
        if authorizer is not None:
            context = dict(event.get("requestContext") or {})
            context["authorizer"] = authorizer
            event = {**event, "requestContext": context}
        return super()._to_proxy_event(event)


class LocalApi:
    """ASGI app: the local authorizer in front of the API's router."""

    def __init__(self, resolver: HttpResolverLocal, secret: str):
        self.resolver = resolver
        self.secret = secret

    def tokens(self) -> dict[str, str]:
        return local_tokens(self.secret)

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        if scope.get("type") != "http":
            await self.resolver(scope, receive, send)
            return
        auth = next((kind for method, path, kind in _ROUTES if method == scope["method"] and path.match(scope["path"])), None)
        if auth is None:  # not a route: the resolver answers (404)
            await self.resolver(scope, receive, send)
            return
        header = next((value.decode() for name, value in scope.get("headers", []) if name.lower() == b"authorization"), "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
        claims = verify(self.secret, token) if token else None
        is_server = claims is not None and claims.get("journey:role") == SERVER_ROLE
        if auth == "jwt" and (claims is None or is_server):
            await _refuse(send, 401, "Unauthorized")
            return
        if auth == "iam" and not is_server:
            await _refuse(send, 403, "Forbidden")
            return
        assert claims is not None
        # Powertools runs a synchronous route on the event loop: one request at a time, each waiting on
        # its AWS calls. A thread per request (as Lambda runs many sandboxes) lets requests overlap.
        body = await _body_of(receive)
        for message in await asyncio.to_thread(self._resolve, scope, body, authorizer_context(claims)):
            await send(message)

    def _resolve(self, scope: dict[str, Any], body: bytes, authorizer: dict[str, Any]) -> list[dict[str, Any]]:
        binding = _AUTHORIZER.set(authorizer)
        try:
            return call_once(self.resolver, scope, body)
        finally:
            _AUTHORIZER.reset(binding)


def call_once(app: Callable, scope: dict[str, Any], body: bytes) -> list[dict[str, Any]]:
    """One HTTP request to an ASGI app with its whole body, on a new event loop: the messages it sent."""
    sent: list[dict[str, Any]] = []
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


async def _body_of(receive: Callable) -> bytes:
    body = b""
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return body
        body += message.get("body", b"")
        if not message.get("more_body", False):
            return body


async def _refuse(send: Callable, status: int, message: str) -> None:
    body = orjson.dumps({"message": message})
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


def local_settings(settings: Settings | None = None) -> Settings:
    """The settings with the local back ends mapped to their tenants."""
    base = settings or Settings()
    api = base.api.model_copy(update={"server_tenants": {**SERVER_PRINCIPALS, **base.api.server_tenants}})
    return base.model_copy(update={"api": api})


def local_api(
    ports: ApiPorts, settings: Settings | None = None, secret: str | None = None, answers: BasePersistenceLayer | None = None
) -> LocalApi:
    """The API's ASGI app over ``ports``; its tokens are signed with ``secret`` (a new one by default);
    ``answers``: where answers to event requests are kept (idempotency; None: not kept)."""
    config = local_settings(settings)
    resolver = _AuthorizedResolver(enable_validation=True)
    serve(resolver, api_router(lambda: ports, lambda: config, answers=lambda: answers))
    return LocalApi(resolver, secret or secrets.token_urlsafe(32))


def api_ports_on(
    dynamodb: Any,
    kinesis: Any,
    s3: Any,
    *,
    tables: TableNames,
    identities_table: str,
    bucket: str,
    stream_name: str,
    key: bytes,
    clock_ms: Callable[[], int] | None = None,
    analyst: Any = None,
    analysis_cache: Any = None,
    models_bucket: str = "",
) -> ApiPorts:
    """The API's ports on the real adapters, over the given clients (moto's, or in-memory ones)."""
    reads = DynamoReadModels(tables, dynamodb=dynamodb)
    counter = iter(range(1, 1 << 62))
    return ApiPorts(
        stream=KinesisCommandStream(stream_name, kinesis=kinesis, sleep=lambda _: None),
        users=reads,
        analytics=reads,
        identities=DynamoIdentities(identities_table, dynamodb=dynamodb),
        quarantine=S3QuarantineReader(bucket, s3=s3),
        pseudonym_key=lambda: key,
        clock_ms=clock_ms or (lambda: int(time.time() * 1000)),
        new_request_id=lambda: f"req-local-{next(counter):06d}-{secrets.token_hex(4)}",
        analyst=analyst,
        analysis_cache=analysis_cache,
        exit_risk_models=models_by_version(models_bucket, s3),  # read as the API function reads them
    )


# --- calling it in-process -------------------------------------------------------------------------------


def asgi_request(
    app: Callable,
    method: str,
    path: str,
    *,
    token: str | None = None,
    body: Any = None,
    raw: bytes | None = None,
    query: str = "",
) -> tuple[int, Any]:
    """One request to an ASGI app, in-process: (status, the JSON body or the text)."""
    data = raw if raw is not None else (b"" if body is None else orjson.dumps(body))
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "headers": headers,
        "scheme": "http",
        "server": ("127.0.0.1", 80),
    }
    sent = call_once(app, scope, data)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    payload = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    try:
        return status, orjson.loads(payload) if payload else None
    except orjson.JSONDecodeError:
        return status, payload.decode(errors="replace")
