"""Lambda's Kinesis event shape, built from what ``GetRecords`` returns (standard library only, so
operator tools can use it without the rest of the library's dependencies)."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any


def lambda_record(shard_id: str, record: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """One record of a Kinesis ``GetRecords`` page in the shape Lambda hands to a function (the local
    runtime's event source mapping and ``ops.redrive`` build events with it)."""
    arrival = record["ApproximateArrivalTimestamp"]
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": record["PartitionKey"],
            "sequenceNumber": record["SequenceNumber"],
            "data": base64.b64encode(record["Data"]).decode(),
            "approximateArrivalTimestamp": arrival.timestamp() if isinstance(arrival, datetime) else float(arrival),
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{record['SequenceNumber']}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/local-stream-processor",
        "awsRegion": region,
        "eventSourceARN": stream_arn,
    }
