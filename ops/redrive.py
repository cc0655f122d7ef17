"""Redrive: put records that were given up or quarantined back through the stream processor.

    python -m ops.redrive failures   --queue-url URL --stream NAME --function NAME [--dry-run]
    python -m ops.redrive quarantine --bucket NAME --stream NAME [--code CODE ...] [--prefix P] [--dry-run]

``failures``: each message on the event source mapping's on-failure queue carries only batch
metadata (``KinesisBatchInfo``: shard, first and last sequence number). The records are re-read
from the stream while it still retains them and the function is invoked with them, in Lambda's
event shape and with their original sequence numbers, so the processor's exactly-once rules hold:
records already applied are skipped, sends already in the ledger are not repeated. A message is
deleted only when its batch went through without failures; records the stream no longer retains
are reported as expired.

``quarantine``: rejected records are kept in S3 as JSON lines with their reason. After a fix is
deployed (a new normalizer, a raised limit), their original bytes are written to the stream again
as new records and take the normal path; those that fail again are quarantined again with the new
reason. Each replayed object is tagged ``redriven=<timestamp>`` and skipped by later runs.

Both work on AWS (the default clients) and on the local runtime (pass its clients; tests do).
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from journey.lambda_kit.kinesis_shape import lambda_record

PUT_RECORDS_LIMIT = 500
REDRIVEN_TAG = "redriven"


@dataclass
class RedriveReport:
    batches: int = 0
    records: int = 0
    reprocessed: int = 0
    failed: int = 0
    expired: int = 0
    skipped: int = 0
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


# --- the on-failure destination ---------------------------------------------------------------
def read_batch(kinesis, stream_name: str, info: dict) -> tuple[list[dict], bool]:
    """The records of one given-up batch, and whether the stream still had all of them."""
    start, end, size = info["startSequenceNumber"], info["endSequenceNumber"], int(info.get("batchSize", 0))
    try:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream_name, ShardId=info["shardId"], ShardIteratorType="AT_SEQUENCE_NUMBER", StartingSequenceNumber=start
        )["ShardIterator"]
    except kinesis.exceptions.InvalidArgumentException:
        return [], False  # trimmed: past the stream's retention
    records: list[dict] = []
    while iterator:
        page = kinesis.get_records(ShardIterator=iterator, Limit=min(10_000, max(size, 100)))
        for record in page["Records"]:
            if int(record["SequenceNumber"]) > int(end):
                return records, bool(records) and records[0]["SequenceNumber"] == start
            records.append(record)
        if not page["Records"] and page.get("MillisBehindLatest", 0) == 0:
            break
        iterator = page.get("NextShardIterator")
    return records, bool(records) and records[0]["SequenceNumber"] == start


def lambda_event(shard_id: str, records: list[dict], stream_arn: str, region: str) -> dict:
    return {"Records": [lambda_record(shard_id, r, stream_arn, region) for r in records]}


def redrive_failures(
    sqs, kinesis, queue_url: str, stream_name: str, invoke: Callable[[dict], dict], region: str, dry_run: bool = False
) -> RedriveReport:
    report = RedriveReport()
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, VisibilityTimeout=300).get(
            "Messages", []
        )
        if not messages:
            return report
        for message in messages:
            body = json.loads(message["Body"])
            info = body.get("KinesisBatchInfo")
            if not info:
                report.problems.append(f"message {message['MessageId']} has no KinesisBatchInfo; left on the queue")
                continue
            report.batches += 1
            records, complete = read_batch(kinesis, stream_name, info)
            report.records += len(records)
            if not complete:
                report.expired += max(0, int(info.get("batchSize", 0)) - len(records))
                report.problems.append(
                    f"{info['shardId']} {info['startSequenceNumber']}..: the stream no longer retains all of it"
                )
            if dry_run or not records:
                continue
            try:
                response = invoke(lambda_event(info["shardId"], records, info["streamArn"], region)) or {}
            except Exception as exc:  # noqa: BLE001 - reported, the message stays for the next run
                report.failed += len(records)
                report.problems.append(
                    f"{info['shardId']} {info['startSequenceNumber']}..: the function failed again ({exc}); message kept"
                )
                continue
            failures = response.get("batchItemFailures") or []
            if failures:
                report.failed += len(records) - sum(
                    1 for r in records if int(r["SequenceNumber"]) < min(int(f["itemIdentifier"]) for f in failures)
                )
                report.problems.append(
                    f"{info['shardId']} {info['startSequenceNumber']}..: {len(failures)} records failed again; message kept"
                )
                continue
            report.reprocessed += len(records)
            if complete:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        if dry_run:
            return report


# --- quarantine ------------------------------------------------------------------------------
def redrive_quarantine(
    s3, kinesis, bucket: str, stream_name: str, codes: set[str] | None = None, prefix: str = "", dry_run: bool = False
) -> RedriveReport:
    report = RedriveReport()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            tags = {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=bucket, Key=obj["Key"]).get("TagSet", [])}
            if REDRIVEN_TAG in tags:
                report.skipped += 1
                continue
            report.batches += 1
            lines = [
                json.loads(line)
                for line in s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().decode().splitlines()
                if line.strip()
            ]
            chosen = [line for line in lines if not codes or line["code"] in codes]
            report.skipped += len(lines) - len(chosen)
            records = []
            for line in chosen:
                try:
                    data = base64.b64decode(line["data"], validate=True)
                except ValueError:
                    report.failed += 1
                    report.problems.append(
                        f"{obj['Key']} {line['sequenceNumber']}: the record's data is not base64; it cannot be replayed"
                    )
                    continue
                records.append({"PartitionKey": line["partitionKey"], "Data": data})
            report.records += len(records)
            if dry_run:
                continue
            report.reprocessed += put_all(kinesis, stream_name, records)
            if len(chosen) == len(lines):  # partly replayed objects stay untagged: a later run with other codes can take the rest
                s3.put_object_tagging(
                    Bucket=bucket, Key=obj["Key"], Tagging={"TagSet": [{"Key": REDRIVEN_TAG, "Value": str(int(time.time()))}]}
                )
    return report


def put_all(kinesis, stream_name: str, records: list[dict]) -> int:
    for start in range(0, len(records), PUT_RECORDS_LIMIT):
        pending = records[start : start + PUT_RECORDS_LIMIT]
        for attempt in range(8):
            response = kinesis.put_records(StreamName=stream_name, Records=pending)
            pending = [r for r, result in zip(pending, response["Records"], strict=False) if result.get("ErrorCode")]
            if not pending:
                break
            time.sleep(min(0.1 * 2**attempt, 5))
        else:
            raise RuntimeError(f"{len(pending)} records still failing after 8 PutRecords attempts")
    return len(records)


# --- command line ---------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    import boto3

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    failures = sub.add_parser("failures", help="redrive batches from the on-failure queue")
    failures.add_argument("--queue-url", required=True)
    failures.add_argument("--stream", required=True)
    failures.add_argument("--function", required=True, help="the stream processor's function name or ARN")
    quarantine = sub.add_parser("quarantine", help="replay quarantined records onto the stream")
    quarantine.add_argument("--bucket", required=True)
    quarantine.add_argument("--stream", required=True)
    quarantine.add_argument("--code", action="append", help="only records rejected with this code (repeatable)")
    quarantine.add_argument("--prefix", default="", help="only objects under this key prefix (e.g. a date)")
    for command in (failures, quarantine):
        command.add_argument("--dry-run", action="store_true", help="read and count, change nothing")
    args = parser.parse_args(argv)
    session = boto3.session.Session()
    kinesis = session.client("kinesis")
    if args.command == "failures":
        lambda_ = session.client("lambda")

        def invoke(event: dict) -> dict:
            response = lambda_.invoke(FunctionName=args.function, Payload=json.dumps(event).encode())
            payload = json.loads(response["Payload"].read() or b"{}")
            if response.get("FunctionError"):
                raise RuntimeError(f"the function failed: {payload}")
            return payload

        report = redrive_failures(
            session.client("sqs"), kinesis, args.queue_url, args.stream, invoke, session.region_name, args.dry_run
        )
    else:
        report = redrive_quarantine(
            session.client("s3"), kinesis, args.bucket, args.stream, set(args.code or ()), args.prefix, args.dry_run
        )
    print(json.dumps(report.as_dict(), indent=2))
    return 0 if not report.failed else 1


if __name__ == "__main__":
    sys.exit(main())
