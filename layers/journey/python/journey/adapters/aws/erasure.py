"""Erasure on AWS: every item of a user in every table, every version of their quarantined records,
their identity mapping; then the audit record. The stream processor carries it out (DESIGN.md rule 1:
it is the one writer of the user's items), when it folds the user's erase command.

Each table is read by its partition key (Query, keys only) and cleared with BatchWriteItem deletes
(25 a call, unprocessed items retried). The quarantine bucket is versioned, so each object version
and delete marker under the user's prefix (:func:`journey.adapters.aws.s3.owner_prefix`) is deleted
by version (DeleteObjects, 1,000 a call). Everything here is idempotent: a replayed erase command
finds less to remove and writes the same audit record (keyed by the request id), with the counts of
the last run."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from journey.adapters.aws.clients import as_transient, batch_write, client, query_all
from journey.adapters.aws.codecs.user_state import state_item
from journey.adapters.aws.dynamodb import TableNames
from journey.adapters.aws.s3 import owner_prefix
from journey.app.ports import ErasureRequest
from journey.errors import TransientError
from journey.resources import (
    CONTEXT_ANALYSES,
    IDENTITIES,
    INTERVENTIONS,
    PRIVACY_AUDIT,
    STRUGGLE_SIGNALS,
    USER_EVENTS,
    USER_STATE,
    Env,
)
from journey.users.state import UserState

DELETE_LIMIT = 25  # BatchWriteItem
S3_DELETE_LIMIT = 1000  # DeleteObjects


@dataclass(frozen=True)
class PrivacyTables:
    identities: str
    audit: str
    context_analyses: str = ""  # the API's cached context analyses ("": none deployed)

    @classmethod
    def from_env(cls) -> PrivacyTables:
        return cls(
            identities=os.environ[IDENTITIES.env],
            audit=os.environ[PRIVACY_AUDIT.env],
            context_analyses=os.environ.get(CONTEXT_ANALYSES.env, ""),
        )


class AwsEraser:
    def __init__(
        self,
        tables: TableNames | None = None,
        privacy: PrivacyTables | None = None,
        bucket: str | None = None,
        dynamodb=None,
        s3=None,
        clock: Callable[[], float] = time.time,
    ):
        self.tables = tables or TableNames.from_env()
        self.privacy = privacy or PrivacyTables.from_env()
        self.bucket = bucket if bucket is not None else os.environ[Env.QUARANTINE_BUCKET]
        self._ddb = dynamodb
        self._s3 = s3
        self.clock = clock

    @property
    def ddb(self):
        if self._ddb is None:
            self._ddb = client("dynamodb")
        return self._ddb

    @property
    def s3(self):
        if self._s3 is None:
            self._s3 = client("s3")
        return self._s3

    def erase(self, request: ErasureRequest, tombstone: UserState) -> dict[str, int]:
        """The tombstone first (from then on the API refuses the user's events and writes no identity
        for them), the identity mapping last (an ingest that read the state just before the tombstone
        could re-create it meanwhile)."""
        t = self.tables
        self._batch_write(t.state, [{"PutRequest": {"Item": state_item(tombstone, 0)}}])
        removed = {
            USER_STATE.logical_id: 1,  # replaced by the tombstone
            USER_EVENTS.logical_id: self._clear(t.events, USER_EVENTS.key_names, request.user_id),
            STRUGGLE_SIGNALS.logical_id: self._clear(t.signals, STRUGGLE_SIGNALS.key_names, request.user_id),
            INTERVENTIONS.logical_id: self._clear(t.interventions, INTERVENTIONS.key_names, request.user_id),
            "quarantine": self._clear_quarantine(request.user_id),
        }
        if self.privacy.context_analyses:  # what Nova wrote about the user
            key = [{"userId": {"S": request.user_id}}]
            removed[CONTEXT_ANALYSES.logical_id] = self._delete_keys(self.privacy.context_analyses, key)
        removed[IDENTITIES.logical_id] = self._delete_keys(self.privacy.identities, [{"userId": {"S": request.user_id}}])
        self._audit(request, removed)
        return removed

    # --- DynamoDB ----------------------------------------------------------------------
    def _keys(self, table: str, key_names: tuple[str, ...], user_id: str) -> Iterator[dict[str, Any]]:
        names = {f"#k{i}": name for i, name in enumerate(key_names)}
        query: dict[str, Any] = {
            "TableName": table,
            "KeyConditionExpression": "#k0 = :u",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {":u": {"S": user_id}},
            "ProjectionExpression": ", ".join(names),
            "ConsistentRead": True,
        }
        return query_all(self.ddb, **query)

    def _clear(self, table: str, key_names: tuple[str, ...], user_id: str) -> int:
        return self._delete_keys(table, [{k: item[k] for k in key_names} for item in self._keys(table, key_names, user_id)])

    def _delete_keys(self, table: str, keys: list[dict[str, Any]]) -> int:
        """Delete the items (an absent key is no error); return how many keys were asked."""
        self._batch_write(table, [{"DeleteRequest": {"Key": key}} for key in keys])
        return len(keys)

    def _batch_write(self, table: str, requests: list[dict[str, Any]]) -> None:
        for start in range(0, len(requests), DELETE_LIMIT):
            batch_write(self.ddb, {table: requests[start : start + DELETE_LIMIT]})

    # --- S3 ----------------------------------------------------------------------------
    def _clear_quarantine(self, user_id: str) -> int:
        """Delete every version and delete marker of the user's quarantined records; return how many
        records (keys) there were."""
        if not self.bucket:
            return 0
        prefix = owner_prefix(user_id)
        versions: list[dict[str, str]] = []
        keys: set[str] = set()
        try:
            for page in self.s3.get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=prefix):
                for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                    versions.append({"Key": entry["Key"], "VersionId": entry["VersionId"]})
                    keys.add(entry["Key"])
            for start in range(0, len(versions), S3_DELETE_LIMIT):
                chunk = versions[start : start + S3_DELETE_LIMIT]
                response = self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": chunk, "Quiet": True})
                if response.get("Errors"):
                    first = response["Errors"][0]
                    raise TransientError(
                        f"erasure: S3 kept {len(response['Errors'])} versions ({first.get('Code')}: {first.get('Message')})"
                    )
        except TransientError:
            raise
        except Exception as exc:
            raise as_transient(exc) from exc
        return len(keys)

    # --- audit -------------------------------------------------------------------------
    def _audit(self, request: ErasureRequest, removed: dict[str, int]) -> None:
        item = {
            "requestId": {"S": request.request_id},
            "kind": {"S": "erasure"},
            "tenant": {"S": request.tenant or "-"},
            "requestedBy": {"S": request.requested_by or "-"},
            "requestedAt": {"N": str(request.requested_at)},
            "completedAt": {"N": str(int(self.clock() * 1000))},
            "removed": {"M": {name: {"N": str(count)} for name, count in removed.items()}},
        }
        self._batch_write(self.privacy.audit, [{"PutRequest": {"Item": item}}])  # the processor's grant: BatchWriteItem
