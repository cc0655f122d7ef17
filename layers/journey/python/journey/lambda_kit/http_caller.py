"""Who is calling the HTTPS API, from the authorizer's context of an API Gateway HTTP API event
(payload 2.0): the one function every route asks, in Lambda and in the local runtime alike.

* ``jwt`` routes: API Gateway's JWT authorizer (the Cognito user pool) verified the token and put its
  claims at ``requestContext.authorizer.jwt.claims``. The tenant is ``custom:tenant``; the app's user
  id is ``custom:user_id``, else the username (``username`` in access tokens, ``cognito:username`` in
  ID tokens), else ``sub``.
* ``iam`` routes: API Gateway verified the SigV4 signature and put the principal at
  ``requestContext.authorizer.iam`` (``userArn``...). The tenant it acts for is looked up in the
  ``api.server_tenants`` setting: the ARN itself, then (for an assumed-role session) its role's ARN,
  then ``"*"``. A principal in none is refused.

The local runtime verifies its own tokens and puts the same claims, or the same IAM context, in the
same place (``localrt.api_local``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from journey.app.api_ports import Caller, Forbidden, Unauthorized
from journey.events.identity import normalize_user_id
from journey.events.model import MAX_USER_ID_LENGTH, TENANT_PATTERN

_TENANT = re.compile(TENANT_PATTERN)
_ASSUMED_ROLE = re.compile(r"^arn:(aws[\w-]*):sts::(\d{12}):assumed-role/([^/]+)/.+$")
USER_ID_CLAIMS = ("custom:user_id", "username", "cognito:username", "sub")


def authorizer_of(event: Mapping[str, Any]) -> Mapping[str, Any]:
    context = event.get("requestContext") or {}
    authorizer = context.get("authorizer") if isinstance(context, Mapping) else None
    return authorizer if isinstance(authorizer, Mapping) else {}


def caller_of(event: Mapping[str, Any], auth: str, server_tenants: Mapping[str, str]) -> Caller:
    """The caller of a route authorized by ``auth`` (``jwt`` or ``iam``)."""
    authorizer = authorizer_of(event)
    if auth == "jwt":
        jwt = authorizer.get("jwt")
        claims = jwt.get("claims") if isinstance(jwt, Mapping) else None
        if not isinstance(claims, Mapping) or not claims:
            raise Unauthorized("this route needs an app user's token (Authorization: Bearer <JWT>)")
        return caller_from_claims(claims)
    iam = authorizer.get("iam")
    principal = iam.get("userArn") if isinstance(iam, Mapping) else None
    if not isinstance(principal, str) or not principal:
        raise Unauthorized("this route needs a request signed with AWS SigV4 (IAM)")
    tenant = server_tenant(principal, server_tenants)
    if tenant is None:
        raise Forbidden("this principal acts for no tenant (setting JOURNEY_API__SERVER_TENANTS)")
    # who asked, as the audit keeps it: a role session's name (often a person's e-mail under SSO) left out
    assumed = _ASSUMED_ROLE.match(principal)
    if assumed:
        partition, account, role = assumed.groups()
        principal = f"arn:{partition}:sts::{account}:assumed-role/{role}"
    return Caller(kind="iam", tenant=tenant, principal=principal)


def caller_from_claims(claims: Mapping[str, Any]) -> Caller:
    tenant = claims.get("custom:tenant")
    if not isinstance(tenant, str) or not _TENANT.match(tenant):
        raise Forbidden("the token names no tenant (claim custom:tenant, lowercase letters, digits, - and _)")
    user_id = next((value for name in USER_ID_CLAIMS if isinstance(value := claims.get(name), str) and value.strip()), None)
    if user_id is None:
        raise Forbidden("the token names no user (custom:user_id, username or sub)")
    try:  # the one spelling of the id, as events and paths are read (docs/data-model.md "User ids")
        user_id = normalize_user_id(user_id)
    except ValueError as exc:
        raise Forbidden(f"the token's user id is not one a user can have: {exc}") from exc
    if not user_id or len(user_id) > MAX_USER_ID_LENGTH:
        raise Forbidden(f"the token's user id must have 1 to {MAX_USER_ID_LENGTH} characters")
    client = claims.get("client_id") or claims.get("aud") or "app"
    return Caller(kind="jwt", tenant=tenant, principal=f"app:{str(client)[:128]}", user_id=user_id)


def server_tenant(principal: str, server_tenants: Mapping[str, str]) -> str | None:
    """The tenant a back end acts for: its ARN's, else its role's (an assumed-role session), else ``*``'s."""
    if principal in server_tenants:
        return server_tenants[principal]
    assumed = _ASSUMED_ROLE.match(principal)
    if assumed:
        partition, account, role = assumed.groups()
        # a session ARN names its role without the role's path: match a configured role ARN by its name
        prefix = f"arn:{partition}:iam::{account}:role/"
        for arn, tenant in server_tenants.items():
            if arn.startswith(prefix) and arn.rsplit("/", 1)[-1] == role:
                return tenant
    return server_tenants.get("*")
