"""Redrive: put records that were given up or quarantined back through the stream processor, and
report honestly what became of each.

    python -m ops.redrive failures   --queue-url URL --stream NAME --function NAME [--reapply] [--dry-run]
                                     [--events-table NAME] [--bucket NAME] [--format F] [--max-record-bytes N]
    python -m ops.redrive quarantine --bucket NAME --stream NAME [--code CODE ...] [--prefix P] [--dry-run]

``failures``: each message on the event source mapping's on-failure queue carries only batch
metadata (``KinesisBatchInfo``: shard, first and last sequence number). The records are re-read
from the stream while it still retains them and the function is invoked with them, in Lambda's
event shape and with their original sequence numbers, so the processor's exactly-once rules hold.
What "applied" means is decided by the users' event journal (the ``UserEvents`` table), read
before and after the invocation; every record is reported as one of:

* ``applied``: in its user's journal now, not before: this run applied it;
* ``already_applied``: in the journal before this run (applied by an earlier attempt): fine;
* ``rejected`` (by code): quarantined with its reason (read the same way the processor reads it,
  and found in the quarantine bucket when one is known); redrive those with ``quarantine``;
* ``not_applied``: not in the journal after the run: the processor skipped it because its user's
  state had moved past its sequence number (later records of the same user were applied while the
  batch waited on the queue). Their event ids are listed. With ``--reapply`` they are put back on
  the stream as new records (same data, same partition key), and the processor applies them as
  new, late events (``reapplied``);
* ``failed``: the function failed again on them; ``expired``: the stream no longer retains them.

A message is deleted only when every record of its batch is accounted for: applied (now or
before), quarantined, or put back with ``--reapply``. The summary line (on stderr) and the exit
code (1) say when any record is left unaccounted. The table, the quarantine bucket and the input
format are read from the function's configuration unless given.

``quarantine``: rejected records are kept in S3 with their reason, one JSON object per record
(``quarantine/<owner>/<date>/<shard>/<sequence>.json``, the owner a hash of the partition key; older
objects, ``quarantine/<date>/...``, hold one record or a batch as JSON lines, and are read too). After a fix is deployed (a new normalizer, a raised limit, a store that can write the
user again: code ``unstorable``), their original bytes are written to the stream again as new
records and take the normal path; those that fail again are quarantined again with the new reason.
Each replayed object is tagged ``redriven=<timestamp>`` and skipped by later runs.

Both work on AWS (the default clients) and on the local runtime (pass its clients; tests do).
This module needs only the standard library to start (``--help``); the library's readers are
imported where they are used.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from journey.lambda_kit.kinesis_shape import lambda_record
from journey.resources import USER_EVENTS, Env

PUT_RECORDS_LIMIT = 500
PUT_ATTEMPTS = 8
REDRIVEN_TAG = "redriven"
RECEIVE_VISIBILITY_S = 900  # the messages stay with this run while it works through them
DEFAULT_MAX_RECORD_BYTES = 65_536  # the processor's default (JOURNEY_MAX_RECORD_BYTES)
MAX_RECORD_BYTES_ENV = "JOURNEY_MAX_RECORD_BYTES"


@dataclass
class RedriveReport:
    dry_run: bool = False
    batches: int = 0  # on-failure messages, or quarantine objects, read
    records: int = 0
    applied: int = 0  # failures: applied by this run
    already_applied: int = 0  # failures: applied before this run (a redelivery)
    rejected: Counter = field(default_factory=Counter)  # failures: quarantined, by code
    not_applied: int = 0  # failures: not in the journal (their users had moved past them)
    reapplied: int = 0  # failures --reapply: of those, put back on the stream as new records
    pending: int = 0  # failures --dry-run: not in the journal yet (what a run would invoke the function with)
    replayed: int = 0  # quarantine: put back on the stream
    failed: int = 0  # failures: the function failed again; quarantine: not replayable or not put
    expired: int = 0  # failures: the stream no longer retains them
    missing: int = 0  # failures: rejected on reading, yet not in the quarantine bucket
    skipped: int = 0  # quarantine: objects redriven before, records of other codes
    messages_deleted: int = 0
    messages_kept: int = 0
    not_applied_events: list[dict] = field(default_factory=list)  # shardId, sequenceNumber, userId, eventId
    problems: list[str] = field(default_factory=list)

    @property
    def unaccounted(self) -> int:
        """Records neither applied (now or before), nor quarantined, nor put back on the stream."""
        return self.not_applied - self.reapplied + self.failed + self.expired + self.missing

    def as_dict(self) -> dict:
        out = dict(self.__dict__)
        out["rejected"] = dict(self.rejected)
        out["unaccounted"] = self.unaccounted
        return out

    def summary(self, command: str) -> str:
        tail = f"{self.unaccounted} unaccounted" if self.unaccounted else "every record accounted for"
        if command == "quarantine":
            return (
                f"quarantine{' (dry run)' if self.dry_run else ''}: {self.batches} objects, {self.records} records: {self.replayed} put back on the stream, "
                f"{self.skipped} skipped, {self.failed} not replayed; {tail}"
            )
        rejected = ", ".join(f"{code} {n}" for code, n in sorted(self.rejected.items())) or "0"
        head = f"failures: {self.batches} batches, {self.records} records: "
        if self.dry_run:
            head += f"{self.already_applied} applied before, {self.pending} to process (dry run)"
        else:
            head += (
                f"{self.applied} applied now, {self.already_applied} applied before, quarantined {rejected}, "
                f"{self.not_applied} NOT applied ({self.reapplied} put back on the stream), {self.failed} failed again"
            )
        hint = " (rerun with --reapply to apply the not-applied ones as late events)" if self.not_applied > self.reapplied else ""
        return (
            f"{head}, {self.expired} expired, {self.missing} missing from quarantine; {tail}{hint}; "
            f"messages: {self.messages_deleted} deleted, {self.messages_kept} kept"
        )


@dataclass
class Record:
    """One stream record as redrive sees it: its bytes, and what the processor reads from it."""

    shard: str
    sequence: str
    partition_key: str
    data: bytes
    arrival: float
    user_id: str | None = None  # of the decoded event; None when reading rejects the record
    event_id: str | None = None
    code: str | None = None  # the rejection code when reading rejects the record

    def entry(self) -> dict[str, Any]:
        return {"PartitionKey": self.partition_key, "Data": self.data}

    def describe(self) -> dict[str, str | None]:
        return {"shardId": self.shard, "sequenceNumber": self.sequence, "userId": self.user_id, "eventId": self.event_id}


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


def read_records(shard: str, event: dict, max_bytes: int, fmt: str | None) -> list[Record]:
    """Each record of a Lambda event, read as the processor reads it (same reader, limit and format)."""
    from journey.events.records import Accepted
    from journey.lambda_kit.kinesis import read_kinesis_records

    out = []
    for raw, item in zip(event["Records"], read_kinesis_records(event["Records"], max_bytes, fmt), strict=True):
        payload = raw["kinesis"]
        record = Record(
            shard,
            payload["sequenceNumber"],
            payload["partitionKey"],
            base64.b64decode(payload["data"]),
            float(payload["approximateArrivalTimestamp"]),
        )
        if isinstance(item, Accepted):
            record.user_id, record.event_id = item.event.userId, item.event.eventId
        else:
            record.code = item.rejection.code.value
        out.append(record)
    return out


def journal_event_ids(dynamodb, table: str, user_ids: Iterable[str]) -> dict[str, set[str]]:
    """The ids of the events in each user's journal: every item of the user (the processor may write
    a batch as several), every page."""
    from journey.adapters.aws.codecs.journal import journaled_event_ids

    user_key = USER_EVENTS.key_names[0]
    found: dict[str, set[str]] = {}
    for user_id in sorted(set(user_ids)):
        ids = found[user_id] = set()
        query: dict[str, Any] = {
            "TableName": table,
            "KeyConditionExpression": "#user = :user",
            "ExpressionAttributeNames": {"#user": user_key},
            "ExpressionAttributeValues": {":user": {"S": user_id}},
            "ConsistentRead": True,
        }
        while True:
            page = dynamodb.query(**query)
            for item in page.get("Items", []):
                ids.update(journaled_event_ids(item))
            if not page.get("LastEvaluatedKey"):
                break
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return found


def redrive_failures(
    sqs,
    kinesis,
    dynamodb,
    queue_url: str,
    stream_name: str,
    events_table: str,
    invoke: Callable[[dict], dict],
    region: str,
    *,
    s3=None,
    bucket: str | None = None,
    reapply: bool = False,
    fmt: str | None = None,
    max_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    dry_run: bool = False,
) -> RedriveReport:
    """Redrive every message of the on-failure queue (see the module's docstring).

    All the queue's messages are read first and their batches redriven in stream order per shard
    (the queue keeps no order), so a user's earlier batch goes through before their later one; the
    messages kept are made visible again at the end, for the next run."""
    run = FailureRedrive(
        kinesis, dynamodb, stream_name, events_table, invoke, region, s3, bucket, reapply, fmt, max_bytes, dry_run
    )
    messages: list[dict] = []
    while True:
        page = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, VisibilityTimeout=RECEIVE_VISIBILITY_S
        ).get("Messages", [])
        if not page:
            break
        messages.extend(page)
    batches: list[tuple[dict, dict]] = []
    kept: list[dict] = []
    for message in messages:
        info = json.loads(message["Body"]).get("KinesisBatchInfo")
        if info:
            batches.append((info, message))
        else:
            kept.append(message)
            run.report.problems.append(f"message {message['MessageId']} has no KinesisBatchInfo; left on the queue")
    batches.sort(key=lambda pair: (pair[0]["shardId"], int(pair[0]["startSequenceNumber"])))
    done = 0
    try:
        for info, message in batches:
            if run.batch(info):
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                run.report.messages_deleted += 1
            else:
                kept.append(message)
            done += 1
    finally:  # kept, or not reached because the run stopped on an error: visible again for the next run
        for message in kept + [message for _, message in batches[done:]]:
            sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    run.report.messages_kept += len(kept)
    return run.report


@dataclass
class FailureRedrive:
    kinesis: Any
    dynamodb: Any
    stream_name: str
    events_table: str
    invoke: Callable[[dict], dict]
    region: str
    s3: Any = None
    bucket: str | None = None
    reapply: bool = False
    fmt: str | None = None
    max_bytes: int = DEFAULT_MAX_RECORD_BYTES
    dry_run: bool = False
    report: RedriveReport = field(default_factory=RedriveReport)

    def __post_init__(self) -> None:
        self.report.dry_run = self.dry_run

    def batch(self, info: dict) -> bool:
        """Redrive one given-up batch; True when every record of it is accounted for (the message may go)."""
        report = self.report
        where = f"{info['shardId']} {info['startSequenceNumber']}.."
        report.batches += 1
        raw, complete = read_batch(self.kinesis, self.stream_name, info)
        report.records += len(raw)
        if not complete:
            report.expired += max(0, int(info.get("batchSize", 0)) - len(raw))
            report.problems.append(f"{where}: the stream no longer retains all of it; those records are lost")
        if not raw:
            return False
        shard = info["shardId"]
        event = lambda_event(shard, raw, info["streamArn"], self.region)
        records = read_records(shard, event, self.max_bytes, self.fmt)
        users = {r.user_id for r in records if r.user_id}
        before = journal_event_ids(self.dynamodb, self.events_table, users)
        if self.dry_run:
            done_before = sum(1 for r in records if r.user_id and r.event_id in before[r.user_id])
            report.already_applied += done_before
            report.pending += len(records) - done_before
            return False
        try:
            response = self.invoke(event) or {}
        except Exception as exc:  # noqa: BLE001 - reported, the message stays for the next run
            report.failed += len(records)
            report.problems.append(f"{where}: the function failed again ({exc}); message kept")
            return False
        failures = response.get("batchItemFailures") or []
        failed_from: int | None = None
        if failures:
            try:
                failed_from = min(int(f["itemIdentifier"]) for f in failures)
            except (KeyError, TypeError, ValueError):
                failed_from = -1  # an identifier Lambda cannot read fails the whole batch
            report.problems.append(f"{where}: {len(failures)} records failed again; message kept")
        done = [r for r in records if failed_from is None or int(r.sequence) < failed_from]
        report.failed += len(records) - len(done)

        after = journal_event_ids(self.dynamodb, self.events_table, users)
        lost: list[Record] = []
        missing = 0
        for record in done:
            if record.user_id and record.event_id in before[record.user_id]:
                report.already_applied += 1
            elif record.user_id and record.event_id in after[record.user_id]:
                report.applied += 1
            else:
                code = self.quarantined_code(record)
                if code is not None:
                    report.rejected[code] += 1
                elif record.code is not None:
                    missing += 1
                    report.problems.append(
                        f"{where}: {record.sequence} is rejected on reading ({record.code}) but not in s3://{self.bucket}: lost"
                    )
                else:
                    lost.append(record)
        report.missing += missing
        report.not_applied += len(lost)
        report.not_applied_events.extend(r.describe() for r in lost)
        settled = failed_from is None and not missing  # the rest of the batch needs no further run
        unput: list[dict] = []
        if lost and self.reapply and settled:
            entries = [r.entry() for r in lost]
            unput = put_all(self.kinesis, self.stream_name, entries)
            report.reapplied += len(entries) - len(unput)
            if unput:
                report.problems.append(f"{where}: {len(unput)} records could not be put back on the stream; message kept")
        elif lost and self.reapply:
            report.problems.append(f"{where}: {len(lost)} records not applied, not put back until the batch goes through")
        elif lost:
            report.problems.append(
                f"{where}: {len(lost)} records not applied (their users had moved past them); message kept, rerun with --reapply"
            )
        return complete and settled and (not lost or (self.reapply and not unput))

    def quarantined_code(self, record: Record) -> str | None:
        """The code a record was quarantined with: its object in the bucket when one is known, else
        the code reading it gives (the processor reads it the same way)."""
        if self.s3 is None or not self.bucket:
            return record.code
        from journey.adapters.aws.s3 import quarantine_key

        key = quarantine_key(record.shard, record.sequence, record.arrival, record.partition_key)
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except self.s3.exceptions.NoSuchKey:
            return None
        code: str = json.loads(body)["code"]
        return code


# --- quarantine ------------------------------------------------------------------------------
def quarantined_records(key: str, body: bytes) -> list[dict]:
    """The records of one quarantine object: one JSON object (``.json``), or JSON lines (``.jsonl``,
    one object per batch, as written before)."""
    text = body.decode()
    if key.endswith(".json"):
        return [json.loads(text)]
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def redrive_quarantine(
    s3, kinesis, bucket: str, stream_name: str, codes: set[str] | None = None, prefix: str = "", dry_run: bool = False
) -> RedriveReport:
    report = RedriveReport(dry_run=dry_run)
    waiting: list[tuple[str, bool, list[dict]]] = []  # (object key, whole object chosen, its entries) not yet put

    def flush() -> None:
        entries = [entry for _, _, object_entries in waiting for entry in object_entries]
        unput = {id(entry) for entry in put_all(kinesis, stream_name, entries)}
        report.replayed += len(entries) - len(unput)
        report.failed += len(unput)
        for key, whole, object_entries in waiting:
            if any(id(entry) in unput for entry in object_entries):
                report.problems.append(f"{key}: some records could not be put on the stream; not tagged, a later run retries")
            elif whole:  # partly replayed objects stay untagged: a later run with other codes can take the rest
                s3.put_object_tagging(
                    Bucket=bucket, Key=key, Tagging={"TagSet": [{"Key": REDRIVEN_TAG, "Value": str(int(time.time()))}]}
                )
        waiting.clear()

    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            key = obj["Key"]
            if not key.endswith((".json", ".jsonl")):
                continue
            tags = {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=bucket, Key=key).get("TagSet", [])}
            if REDRIVEN_TAG in tags:
                report.skipped += 1
                continue
            report.batches += 1
            lines = quarantined_records(key, s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            chosen = [line for line in lines if not codes or line["code"] in codes]
            report.skipped += len(lines) - len(chosen)
            entries = []
            for line in chosen:
                try:
                    data = base64.b64decode(line["data"], validate=True)
                except ValueError:
                    report.failed += 1
                    report.problems.append(
                        f"{key} {line['sequenceNumber']}: the record's data is not base64; it cannot be replayed"
                    )
                    continue
                entries.append({"PartitionKey": line["partitionKey"], "Data": data})
            report.records += len(chosen)
            if dry_run or not chosen:
                continue
            waiting.append((key, len(chosen) == len(lines), entries))
            if sum(len(e) for _, _, e in waiting) >= PUT_RECORDS_LIMIT:
                flush()
    if waiting:
        flush()
    return report


def put_all(kinesis, stream_name: str, records: list[dict]) -> list[dict]:
    """PutRecords, 500 a call, retrying the entries Kinesis reports as failed; returns those still
    failing after :data:`PUT_ATTEMPTS` attempts (none, normally)."""
    given_up: list[dict] = []
    for start in range(0, len(records), PUT_RECORDS_LIMIT):
        pending = records[start : start + PUT_RECORDS_LIMIT]
        for attempt in range(PUT_ATTEMPTS):
            response = kinesis.put_records(StreamName=stream_name, Records=pending)
            pending = [r for r, result in zip(pending, response["Records"], strict=True) if result.get("ErrorCode")]
            if not pending:
                break
            if attempt + 1 < PUT_ATTEMPTS:
                time.sleep(min(0.1 * 2**attempt, 5))
        given_up.extend(pending)
    return given_up


# --- command line ---------------------------------------------------------------------------
def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    failures = sub.add_parser("failures", help="redrive batches from the on-failure queue")
    failures.add_argument("--queue-url", required=True)
    failures.add_argument("--stream", required=True)
    failures.add_argument("--function", required=True, help="the stream processor's function name or ARN")
    failures.add_argument(
        "--reapply", action="store_true", help="put records not applied (their users moved on) back on the stream as new records"
    )
    failures.add_argument("--events-table", help=f"the event journal table (default: the function's {USER_EVENTS.env})")
    failures.add_argument("--bucket", help=f"the quarantine bucket (default: the function's {Env.QUARANTINE_BUCKET})")
    failures.add_argument("--format", help=f"the input format (default: the function's {Env.INPUT_FORMAT})")
    failures.add_argument(
        "--max-record-bytes", type=int, help=f"the record size limit (default: the function's {MAX_RECORD_BYTES_ENV})"
    )
    quarantine = sub.add_parser("quarantine", help="replay quarantined records onto the stream")
    quarantine.add_argument("--bucket", required=True)
    quarantine.add_argument("--stream", required=True)
    quarantine.add_argument("--code", action="append", help="only records rejected with this code (repeatable), e.g. unstorable")
    quarantine.add_argument(
        "--prefix", default="", help="only objects under this key prefix (e.g. quarantine/<owner>/2026/11/23/)"
    )
    for command in (failures, quarantine):
        command.add_argument("--dry-run", action="store_true", help="read and count, change nothing")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    import boto3

    session = boto3.session.Session()
    kinesis = session.client("kinesis")
    if args.command == "failures":
        lambda_ = session.client("lambda")
        try:
            configured = (
                lambda_.get_function_configuration(FunctionName=args.function).get("Environment", {}).get("Variables", {})
            )
        except Exception as exc:  # noqa: BLE001 - the options can say it all
            configured = {}
            print(f"could not read the function's configuration ({exc}); using the options only", file=sys.stderr)
        events_table = args.events_table or configured.get(USER_EVENTS.env)
        if not events_table:
            print("the event journal table is not known: pass --events-table", file=sys.stderr)
            return 2

        def invoke(event: dict) -> dict:
            response = lambda_.invoke(FunctionName=args.function, Payload=json.dumps(event).encode())
            payload = json.loads(response["Payload"].read() or b"{}")
            if response.get("FunctionError"):
                raise RuntimeError(f"the function failed: {payload}")
            return payload

        report = redrive_failures(
            session.client("sqs"),
            kinesis,
            session.client("dynamodb"),
            args.queue_url,
            args.stream,
            events_table,
            invoke,
            session.region_name,
            s3=session.client("s3"),
            bucket=args.bucket or configured.get(Env.QUARANTINE_BUCKET),
            reapply=args.reapply,
            fmt=args.format or configured.get(Env.INPUT_FORMAT) or os.environ.get(Env.INPUT_FORMAT),
            max_bytes=args.max_record_bytes or int(configured.get(MAX_RECORD_BYTES_ENV) or DEFAULT_MAX_RECORD_BYTES),
            dry_run=args.dry_run,
        )
    else:
        report = redrive_quarantine(
            session.client("s3"), kinesis, args.bucket, args.stream, set(args.code or ()), args.prefix, args.dry_run
        )
    print(json.dumps(report.as_dict(), indent=2))
    print(report.summary(args.command), file=sys.stderr)
    return exit_code(report)


def exit_code(report: RedriveReport) -> int:
    """1 when any record is left unaccounted for (lost, not applied, not put back) or anything else
    needs a person; 0 otherwise."""
    return 1 if report.unaccounted or report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
