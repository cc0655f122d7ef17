"""The HTTPS API's world on moto: the tables (from ``journey.resources``, with the tenant's day index),
the event stream, the quarantine bucket, and the local ASGI app over the real adapters; plus a
writer of the items the stream processor writes (its codecs), to read them back through the API."""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field
from typing import Any

import boto3
import orjson

from journey.adapters.aws.codecs.interventions import decision_item, outcome_item
from journey.adapters.aws.codecs.journal import journal_items
from journey.adapters.aws.codecs.signals import signal_item
from journey.adapters.aws.codecs.user_state import state_item
from journey.adapters.aws.dynamodb import TableNames
from journey.adapters.aws.s3 import owner_prefix
from journey.app.api_ports import ApiPorts
from journey.detection.signals import Severity, SignalType, StruggleSignal
from journey.interventions.catalog import Channel
from journey.interventions.ledger import Delivery
from journey.interventions.outcomes import EpisodeOutcome
from journey.interventions.policy import Decision, Outcome
from journey.kernel.tenancy import pseudonym, tenant_day
from journey.resources import (
    IDENTITIES,
    INTERVENTIONS,
    STRUGGLE_SIGNALS,
    TABLES,
    TENANT_DAY_ATTRIBUTE,
    TENANT_DAY_INDEX,
    USER_EVENTS,
    USER_STATE,
)
from journey.users.state import UserState
from localrt.api_local import LocalApi, api_ports_on, local_api

REGION = "us-east-1"
KEY = b"test-pseudonym-key-0123456789abcdef"
STREAM = "journey-events"
BUCKET = "journey-quarantine"
EXPIRES = 4_102_444_800


def create_tables(ddb: Any) -> None:
    for spec in TABLES:
        attributes = {spec.partition_key: "S"}
        keys = [{"AttributeName": spec.partition_key, "KeyType": "HASH"}]
        if spec.sort_key:
            attributes[spec.sort_key] = "S"
            keys.append({"AttributeName": spec.sort_key, "KeyType": "RANGE"})
        args: dict[str, Any] = {"TableName": spec.logical_id, "KeySchema": keys, "BillingMode": "PAY_PER_REQUEST"}
        if spec in (STRUGGLE_SIGNALS, INTERVENTIONS):
            attributes[TENANT_DAY_ATTRIBUTE] = "S"
            args["GlobalSecondaryIndexes"] = [
                {
                    "IndexName": TENANT_DAY_INDEX,
                    "KeySchema": [
                        {"AttributeName": TENANT_DAY_ATTRIBUTE, "KeyType": "HASH"},
                        {"AttributeName": spec.sort_key, "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ]
        args["AttributeDefinitions"] = [{"AttributeName": name, "AttributeType": kind} for name, kind in attributes.items()]
        ddb.create_table(**args)


TABLE_NAMES = TableNames(
    state=USER_STATE.logical_id,
    events=USER_EVENTS.logical_id,
    signals=STRUGGLE_SIGNALS.logical_id,
    interventions=INTERVENTIONS.logical_id,
)


@dataclass
class ApiWorld:
    """Inside ``mock_aws()``: the resources, the clients, the ports and the ASGI app."""

    session: Any
    ddb: Any
    kinesis: Any
    s3: Any
    ports: ApiPorts
    app: LocalApi
    tokens: dict[str, str] = field(default_factory=dict)
    now_ms: int = field(default_factory=lambda: int(time.time() * 1000))

    @classmethod
    def create(cls) -> ApiWorld:
        session = boto3.session.Session(region_name=REGION)
        ddb, kinesis, s3 = session.client("dynamodb"), session.client("kinesis"), session.client("s3")
        create_tables(ddb)
        kinesis.create_stream(StreamName=STREAM, ShardCount=1)
        s3.create_bucket(Bucket=BUCKET)
        ports = api_ports_on(
            ddb,
            kinesis,
            s3,
            tables=TABLE_NAMES,
            identities_table=IDENTITIES.logical_id,
            bucket=BUCKET,
            stream_name=STREAM,
            key=KEY,
        )
        app = local_api(ports)
        return cls(session, ddb, kinesis, s3, ports, app, app.tokens())

    # --- what the stream carries --------------------------------------------------------------------
    def stream_records(self) -> list[tuple[str, dict[str, Any]]]:
        """(partition key, event) of every record on the stream, in order."""
        shard = self.kinesis.describe_stream(StreamName=STREAM)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = self.kinesis.get_shard_iterator(StreamName=STREAM, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
            "ShardIterator"
        ]
        records = self.kinesis.get_records(ShardIterator=iterator, Limit=10_000)["Records"]
        return [(r["PartitionKey"], orjson.loads(r["Data"])) for r in records]

    # --- what the stream processor writes (its codecs) ------------------------------------------------
    def put(self, table: str, item: dict[str, Any]) -> None:
        self.ddb.put_item(TableName=table, Item=item)

    def save_state(self, state: UserState) -> None:
        self.put(USER_STATE.logical_id, state_item(state, EXPIRES))

    def decide(
        self,
        user: str,
        tenant: str,
        iid: str,
        *,
        status: Outcome = Outcome.SEND,
        channel: Channel | None = Channel.IN_APP,
        delivery: Delivery | None = Delivery.DELIVERED,
        signal_type: SignalType = SignalType.RAGE_TAP,
        at: int | None = None,
    ) -> Decision:
        decision = Decision(
            interventionId=iid,
            userId=user,
            signalId=f"s-{iid}",
            signalType=signal_type,
            featureId="checkout",
            severity=Severity.HIGH,
            interventionType="contextual_tip",
            outcome=status,
            channel=channel,
            reason="policy_passed" if status is Outcome.SEND else status.value,
            decidedBy="rule:contextual_tip",
            decidedAt=at or self.now_ms,
            message="Tap once and wait: payment is on its way.",
            triggerEventId=f"e-{iid}",
        )
        self.put(INTERVENTIONS.logical_id, decision_item(decision, EXPIRES, delivery, "", tenant))
        return decision

    def resolve(self, decision: Decision, tenant: str) -> None:
        outcome = EpisodeOutcome(
            userId=decision.userId,
            interventionId=decision.interventionId,
            signalId=decision.signalId,
            signalType=decision.signalType.value,
            featureId=decision.featureId,
            heldOut=decision.outcome is Outcome.HELD_OUT,
            resolvedAt=decision.decidedAt + 60_000,
            resolutionMs=60_000,
        )
        self.put(INTERVENTIONS.logical_id, outcome_item(outcome, EXPIRES, tenant))

    def report(self, user: str, tenant: str, iid: str, outcome: str, at: int | None = None) -> None:
        at = at or self.now_ms
        item = {
            "userId": {"S": user},
            "interventionId": {"S": f"report#{iid}#{outcome}"},
            "reportOf": {"S": iid},
            "outcome": {"S": outcome},
            "reportedAt": {"N": str(at)},
            "requestId": {"S": f"req-{iid}-{outcome}"},
            "tenant": {"S": tenant},
            TENANT_DAY_ATTRIBUTE: {"S": tenant_day(tenant, at)},
            "ttl": {"N": str(EXPIRES)},
        }
        self.put(INTERVENTIONS.logical_id, item)

    def signal(
        self, user: str, tenant: str, feature: str = "checkout", kind: SignalType = SignalType.RAGE_TAP, at: int | None = None
    ) -> StruggleSignal:
        found = StruggleSignal(
            user, feature, kind, Severity.HIGH, at or self.now_ms, f"e-{feature}-{kind.value}-{at}", "rule", {"taps": 4}, "sent"
        )
        self.put(STRUGGLE_SIGNALS.logical_id, signal_item(found, EXPIRES, tenant))
        return found

    def journal(self, user: str, entries: list[list[Any]]) -> None:
        events = [(str(49_000 + i), entry) for i, entry in enumerate(entries)]
        for item in journal_items(user, "shardId-000000000000", events, EXPIRES):
            self.put(USER_EVENTS.logical_id, item)

    def quarantine(self, user: str, sequence: str, reason: str = "schema_violation") -> None:
        record = {
            "sequenceNumber": sequence,
            "partitionKey": user,
            "code": reason,
            "reason": "bad",
            "data": base64.b64encode(b"{}").decode(),
        }
        self.s3.put_object(Bucket=BUCKET, Key=f"{owner_prefix(user)}2026/11/01/shard/{sequence}.json", Body=orjson.dumps(record))

    def pseudonym(self, tenant: str, user_id: str) -> str:
        return pseudonym(KEY, tenant, user_id)
