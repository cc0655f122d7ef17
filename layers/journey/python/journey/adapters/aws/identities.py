"""The Identities table: the one place a pseudonymous user id maps back to the app's own user id
(``{userId: <pseudonym>, tenant, externalId, firstSeenAt}``). The HTTPS API writes an item the first
time it ingests for a user (a conditional put: never rewritten); erasure deletes it."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from journey.adapters.aws.clients import as_transient, client
from journey.adapters.aws.codecs.attributes import n, plain, s
from journey.resources import IDENTITIES

KNOWN_CAP = 100_000  # pseudonyms a container remembers as written (then it starts over)
# How long a container trusts that an identity it wrote is still there: an erasure (the stream
# processor's) deletes it, and the user's next ingest after a new consent must write it again.
KNOWN_FOR_S = 300.0


def identity_item(user_id: str, tenant: str, external_id: str, at_ms: int) -> dict[str, Any]:
    return {"userId": s(user_id), "tenant": s(tenant), "externalId": s(external_id), "firstSeenAt": n(at_ms)}


class DynamoIdentities:
    def __init__(self, table: str | None = None, dynamodb: Any = None, clock: Callable[[], float] = time.monotonic):
        self.table = table or os.environ[IDENTITIES.env]
        self._ddb = dynamodb
        self._clock = clock
        self._known: dict[str, float] = {}  # pseudonym -> when this container wrote (or found) its item
        self._lock = threading.Lock()

    @property
    def ddb(self) -> Any:
        if self._ddb is None:
            self._ddb = client("dynamodb")
        return self._ddb

    def remember(self, user_id: str, tenant: str, external_id: str, at_ms: int) -> None:
        now = self._clock()
        written = self._known.get(user_id)
        if written is not None and now - written < KNOWN_FOR_S:
            return
        try:
            self.ddb.put_item(
                TableName=self.table,
                Item=identity_item(user_id, tenant, external_id, at_ms),
                ConditionExpression="attribute_not_exists(userId)",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise as_transient(exc) from exc
        except Exception as exc:
            raise as_transient(exc) from exc
        with self._lock:
            if len(self._known) >= KNOWN_CAP:
                self._known.clear()
            self._known[user_id] = now

    def identity(self, user_id: str) -> dict[str, Any] | None:
        try:
            item = self.ddb.get_item(TableName=self.table, Key={"userId": s(user_id)}, ConsistentRead=True).get("Item")
        except Exception as exc:
            raise as_transient(exc) from exc
        return plain(item) if item else None
