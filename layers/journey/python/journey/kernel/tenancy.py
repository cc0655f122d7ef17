"""Tenants (the apps one deployment serves) and the pseudonymous user ids that keep them apart.

An app's own user id never travels on the stream: the HTTPS API replaces it with
:func:`pseudonym` of (tenant, user id), a keyed hash. Two tenants' user "bob" are two pseudonyms, so
every item keyed by the user is scoped by tenant without a tenant in its key; the key (a secret) makes
the pseudonym impossible to recompute without it, and the mapping back to the app's user id lives in
one deletable place (the Identities table). ``tenantDay`` keys the analytics read models by tenant."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

DEFAULT_TENANT = "default"  # the tenant of events that name none (a back end writing to the stream itself)
PSEUDONYM_PREFIX = "p-"


def pseudonym(key: bytes, tenant: str, user_id: str) -> str:
    """The pseudonymous id of the tenant's user: ``p-`` and 32 base32 characters (160 bits of an
    HMAC-SHA256 of tenant and user id). The same inputs always give the same id."""
    if not key:
        raise ValueError("the pseudonym key is empty")
    mac = hmac.new(key, f"{tenant}\x1f{user_id}".encode(), hashlib.sha256).digest()
    return PSEUDONYM_PREFIX + base64.b32encode(mac[:20]).decode().lower()


def tenant_day(tenant: str, at_ms: int) -> str:
    """``<tenant>#<YYYY-MM-DD>`` (UTC) of a time: the partition of the tenant's analytics by day."""
    return f"{tenant}#{time.strftime('%Y-%m-%d', time.gmtime(max(0, at_ms) / 1000))}"
