"""The real adapters wired to in-memory clients: what unit tests and the benchmark run against."""

from __future__ import annotations

from dataclasses import dataclass

from journey.adapters.aws.dynamodb import DynamoJourneyStore, TableNames
from journey.adapters.aws.s3 import S3Quarantine
from journey.adapters.aws.sns import ChannelNotifier, SnsPlatformPush, SnsTopicChannel
from journey.adapters.aws.timestream import TimestreamAnalytics
from journey.app.stream_batch import Ports
from localrt.memory_aws import MemoryDynamoDB, MemoryS3, MemorySNS, MemoryTimestream, Meter

TABLES = TableNames(state="UserState", events="UserEvents", signals="StruggleSignals", interventions="Interventions")
KEYS = {
    "UserState": ("userId",),
    "UserEvents": ("userId", "sk"),
    "StruggleSignals": ("userId", "sk"),
    "Interventions": ("userId", "interventionId"),
}


@dataclass
class MemoryAws:
    meter: Meter
    dynamodb: MemoryDynamoDB
    sns: MemorySNS
    s3: MemoryS3
    timestream: MemoryTimestream
    ports: Ports


def memory_aws(timestream: bool = True, retain: set[str] | None = None) -> MemoryAws:
    """``retain``: tables whose items are kept (default all; the benchmark keeps only what is read)."""
    meter = Meter()
    ddb, sns, s3, ts = MemoryDynamoDB(meter, KEYS, retain), MemorySNS(meter), MemoryS3(meter), MemoryTimestream(meter)
    ports = Ports(
        store=DynamoJourneyStore(TABLES, dynamodb=ddb),
        notifier=ChannelNotifier(
            SnsTopicChannel("arn:aws:sns:us-east-1:123456789012:interventions", sns=sns), push=SnsPlatformPush(sns=sns)
        ),
        quarantine=S3Quarantine("quarantine", s3=s3),
        analytics=TimestreamAnalytics("UserJourneyAnalytics", "Events", writer=ts) if timestream else None,
    )
    return MemoryAws(meter, ddb, sns, s3, ts, ports)
