"""The real adapters wired to in-memory clients: what unit tests and the benchmark run against."""

from __future__ import annotations

from dataclasses import dataclass

from journey.adapters.aws.dynamodb import DynamoJourneyStore, TableNames
from journey.adapters.aws.erasure import AwsEraser, PrivacyTables
from journey.adapters.aws.escalation_queue import SqsEscalationQueue
from journey.adapters.aws.notifier import ChannelNotifier
from journey.adapters.aws.s3 import S3Quarantine
from journey.adapters.aws.sns import SnsPlatformPush, SnsTopicChannel
from journey.adapters.aws.timestream import TimestreamAnalytics
from journey.app.ports import Ports
from journey.resources import (
    CONTEXT_ANALYSES,
    IDENTITIES,
    INTERVENTIONS,
    PRIVACY_AUDIT,
    STRUGGLE_SIGNALS,
    USER_EVENTS,
    USER_STATE,
)
from journey.resources import TABLES as RESOURCE_TABLES
from localrt.memory_aws import MemoryDynamoDB, MemoryS3, MemorySNS, MemorySQS, MemoryTimestream, Meter

# In memory, each table is named by its logical id; the key schemas are the deployed ones.
TABLES = TableNames(
    state=USER_STATE.logical_id,
    events=USER_EVENTS.logical_id,
    signals=STRUGGLE_SIGNALS.logical_id,
    interventions=INTERVENTIONS.logical_id,
)
PRIVACY = PrivacyTables(
    identities=IDENTITIES.logical_id, audit=PRIVACY_AUDIT.logical_id, context_analyses=CONTEXT_ANALYSES.logical_id
)
KEYS = {spec.logical_id: spec.key_names for spec in RESOURCE_TABLES}


@dataclass
class MemoryAws:
    meter: Meter
    dynamodb: MemoryDynamoDB
    sns: MemorySNS
    s3: MemoryS3
    timestream: MemoryTimestream
    ports: Ports
    sqs: MemorySQS


def memory_aws(timestream: bool = True, retain: set[str] | None = None) -> MemoryAws:
    """``retain``: tables whose items are kept (default all; the benchmark keeps only what is read)."""
    meter = Meter()
    ddb, sns, s3, ts = MemoryDynamoDB(meter, KEYS, retain), MemorySNS(meter), MemoryS3(meter), MemoryTimestream(meter)
    sqs = MemorySQS(meter)
    ports = Ports(
        store=DynamoJourneyStore(TABLES, dynamodb=ddb),
        notifier=ChannelNotifier(
            SnsTopicChannel("arn:aws:sns:us-east-1:123456789012:interventions", sns=sns), push=SnsPlatformPush(sns=sns)
        ),
        quarantine=S3Quarantine("quarantine", s3=s3),
        analytics=TimestreamAnalytics("UserJourneyAnalytics", "Events", writer=ts) if timestream else None,
        eraser=AwsEraser(TABLES, PRIVACY, "quarantine", dynamodb=ddb, s3=s3),
        escalations=SqsEscalationQueue("https://sqs.us-east-1.amazonaws.com/123456789012/escalations", sqs=sqs),
    )
    return MemoryAws(meter, ddb, sns, s3, ts, ports, sqs)
