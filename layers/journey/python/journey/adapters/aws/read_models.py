"""The HTTPS API's read side on AWS: what the stream processor wrote, read back with the tables' own
codecs (GetItem and Query only: the API never writes what the processor owns).

Per user: the state item, the user's partition of the interventions, signals and journal tables.
Per tenant and day: the ``TenantDayIndex`` of the signals and interventions tables (the analytics).
The quarantine: the objects under the user's owner prefix (:func:`journey.adapters.aws.s3.owner_prefix`)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

from journey.adapters.aws.clients import as_transient, client, query_all
from journey.adapters.aws.codecs.interventions import ESCALATION_PREFIX, OUTCOME_PREFIX, REPORT_PREFIX, intervention_record
from journey.adapters.aws.codecs.journal import journal_entries
from journey.adapters.aws.codecs.signals import signal_record
from journey.adapters.aws.codecs.user_state import risk_summary, state_from_item
from journey.adapters.aws.dynamodb import TableNames
from journey.adapters.aws.s3 import owner_prefix
from journey.resources import TENANT_DAY_ATTRIBUTE, TENANT_DAY_INDEX, Env
from journey.users.state import UserState

MAX_QUARANTINED = 1000  # records an export lists at most
MAX_QUARANTINED_BYTES = 3_000_000  # their bytes at most (the whole answer must fit Lambda's 6 MB)
MAX_RECORD_DATA = 64_000  # a record's own data above this is left out of the answer (its size and reason stay)


def classified(record: dict[str, Any]) -> dict[str, Any]:
    """An Interventions record (plain values) with ``kind`` (``decision``, ``outcome``: a later success
    resolved the episode, ``report``: what the app reported, ``escalation``: a hard case the agent was
    asked about) and ``of``: the intervention (or escalation) it concerns."""
    key = str(record["interventionId"])
    if key.startswith(OUTCOME_PREFIX):
        return {**record, "kind": "outcome", "of": key.removeprefix(OUTCOME_PREFIX)}
    if key.startswith(REPORT_PREFIX):
        of = record.get("reportOf") or key.removeprefix(REPORT_PREFIX).rsplit("#", 1)[0]
        return {**record, "kind": "report", "of": str(of)}
    if key.startswith(ESCALATION_PREFIX):  # an escalation's provenance (journey.agent.escalation.EscalationRecord)
        return {**record, "kind": "escalation", "of": key.removeprefix(ESCALATION_PREFIX)}
    return {**record, "kind": "decision", "of": key}


class DynamoReadModels:
    """The user read model and the analytics read model of ``journey.app.api_ports``."""

    def __init__(self, tables: TableNames | None = None, dynamodb: Any = None):
        self.tables = tables or TableNames.from_env()
        self._ddb = dynamodb

    @property
    def ddb(self) -> Any:
        if self._ddb is None:
            self._ddb = client("dynamodb")
        return self._ddb

    def _get(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        try:
            item = self.ddb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
        except Exception as exc:
            raise as_transient(exc) from exc
        return item or None

    def _partition(self, table: str, user_id: str) -> Iterator[dict[str, Any]]:
        return query_all(
            self.ddb,
            TableName=table,
            KeyConditionExpression="#u = :u",
            ExpressionAttributeNames={"#u": "userId"},
            ExpressionAttributeValues={":u": {"S": user_id}},
        )

    # --- one user ----------------------------------------------------------------------------
    def state(self, user_id: str) -> UserState | None:
        item = self._get(self.tables.state, {"userId": {"S": user_id}})
        return state_from_item(item) if item else None

    def state_item(self, user_id: str) -> dict[str, Any] | None:
        item = self._get(self.tables.state, {"userId": {"S": user_id}})
        return risk_summary(item) if item else None

    def interventions(self, user_id: str) -> list[dict[str, Any]]:
        return [classified(intervention_record(item)) for item in self._partition(self.tables.interventions, user_id)]

    def intervention(self, user_id: str, intervention_id: str) -> dict[str, Any] | None:
        if intervention_id.startswith((OUTCOME_PREFIX, REPORT_PREFIX, ESCALATION_PREFIX)):
            return None
        item = self._get(self.tables.interventions, {"userId": {"S": user_id}, "interventionId": {"S": intervention_id}})
        return intervention_record(item) if item else None

    def signals(self, user_id: str) -> list[dict[str, Any]]:
        return [signal_record(item) for item in self._partition(self.tables.signals, user_id)]

    def journal(self, user_id: str) -> list[list[Any]]:
        return [entry for item in self._partition(self.tables.events, user_id) for entry in journal_entries(item)]

    # --- one tenant's day --------------------------------------------------------------------
    def _day(self, table: str, tenant_day: str) -> Iterator[dict[str, Any]]:
        return query_all(
            self.ddb,
            TableName=table,
            IndexName=TENANT_DAY_INDEX,
            KeyConditionExpression="#d = :d",
            ExpressionAttributeNames={"#d": TENANT_DAY_ATTRIBUTE},
            ExpressionAttributeValues={":d": {"S": tenant_day}},
        )

    def signals_on(self, tenant_day: str) -> list[dict[str, Any]]:
        return [signal_record(item) for item in self._day(self.tables.signals, tenant_day)]

    def interventions_on(self, tenant_day: str) -> list[dict[str, Any]]:
        return [classified(intervention_record(item)) for item in self._day(self.tables.interventions, tenant_day)]


class S3QuarantineReader:
    """The quarantined records of a user: every object under their owner prefix, with its reason."""

    def __init__(self, bucket: str | None = None, s3: Any = None, limit: int = MAX_QUARANTINED):
        self.bucket = bucket if bucket is not None else os.environ[Env.QUARANTINE_BUCKET]
        self._s3 = s3
        self.limit = limit

    @property
    def s3(self) -> Any:
        if self._s3 is None:
            self._s3 = client("s3")
        return self._s3

    def records_of(self, user_id: str) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        request: dict[str, Any] = {"Bucket": self.bucket, "Prefix": owner_prefix(user_id)}
        size = 0
        try:
            while len(records) < self.limit and size < MAX_QUARANTINED_BYTES:
                page = self.s3.list_objects_v2(**request)
                for listed in page.get("Contents", []):
                    body = self.s3.get_object(Bucket=self.bucket, Key=listed["Key"])["Body"].read()
                    record = {"key": listed["Key"], **json.loads(body)}
                    data = record.get("data")
                    if isinstance(data, str) and len(data) > MAX_RECORD_DATA:
                        record["data"] = None
                        record["dataLeftOut"] = f"{len(data):,} characters of base64: too large for this answer"
                    size += len(json.dumps(record))
                    records.append(record)
                    if len(records) >= self.limit or size >= MAX_QUARANTINED_BYTES:
                        break
                if not page.get("IsTruncated"):
                    break
                request["ContinuationToken"] = page["NextContinuationToken"]
        except Exception as exc:
            raise as_transient(exc) from exc
        return records
