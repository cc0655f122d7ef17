"""Commands (and the HTTPS API's events) onto the event stream: PutRecords (at most 500 records and
5 MB a call), partition key = the user id, so a record lands in its user's shard, in order with the
user's events.

botocore's retry mode (``journey.adapters.aws.clients``) retries a call that fails as a whole (what
still fails after it is reported, not retried again here: a run has 50 s, and the next run, a minute
later, appends the same commands again). PutRecords also succeeds *partly*, reporting
``FailedRecordCount`` and an ``ErrorCode`` on each record it refused
(``ProvisionedThroughputExceededException``, ``InternalFailure``, KMS errors): only those records are
put again, with backoff, up to ``attempts`` calls. What is left is reported (by user id to the
deadline timer, per event to the HTTPS API), never raised: one user's record never fails the others'."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator

import orjson

from journey.adapters.aws.clients import client, failure_of
from journey.resources import Env

log = logging.getLogger(__name__)

PUT_RECORDS_LIMIT = 500
PUT_RECORDS_BYTES = 5 * 1024 * 1024  # data and partition keys of one call
RECORD_BYTES = 1024 * 1024  # data and partition key of one record
PARTITION_KEY_CHARS = 256


class KinesisCommandStream:
    def __init__(
        self,
        stream_name: str | None = None,
        kinesis=None,
        attempts: int = 5,
        backoff_s: float = 0.1,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.stream_name = stream_name or os.environ[Env.EVENT_STREAM_NAME]
        self._kinesis = kinesis
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.sleep = sleep

    @property
    def kinesis(self):
        if self._kinesis is None:
            self._kinesis = client("kinesis")
        return self._kinesis

    def append(self, events: list[dict]) -> list[str]:
        """The ``CommandStream`` port: the user ids whose command could still not be appended."""
        return [event["userId"] for event, refusal in zip(events, self.append_each(events), strict=True) if refusal]

    def append_each(self, events: list[dict]) -> list[str]:
        """Append each event to its user's shard (partition key = ``userId``), in calls of at most 500
        records and 5 MB, putting again what Kinesis refused; return, per event, why it could still not
        be appended ("" when it was)."""
        refusals = [""] * len(events)
        records: list[tuple[int, dict]] = []
        for index, event in enumerate(events):
            user_id = event["userId"]
            record = {"Data": orjson.dumps(event), "PartitionKey": user_id}
            problem = _record_problem(record)
            if problem:
                log.error("record for %r not appended: %s", user_id[:64], problem)
                refusals[index] = problem
            else:
                records.append((index, record))
        for chunk in _chunks(records):
            for index, reason in self._put(chunk).items():
                refusals[index] = reason
        return refusals

    def _put(self, records: list[tuple[int, dict]]) -> dict[int, str]:
        """Put one call's worth; return the records left unput (their index among the events) and why."""
        pending = records
        reasons: dict[int, str] = {}
        for attempt in range(self.attempts):
            if attempt:
                self.sleep(min(self.backoff_s * 2 ** (attempt - 1), 2.0))
            try:
                response = self.kinesis.put_records(StreamName=self.stream_name, Records=[record for _, record in pending])
            except Exception as exc:  # noqa: BLE001 - reported per record below, never raised for the others
                # the call failed as a whole after botocore's own retries: the caller tries these again
                failure = failure_of(exc)
                reasons = {index: failure.reason for index, _ in pending}
                break
            if not response.get("FailedRecordCount"):
                return {}
            retry = []
            for (index, record), result in zip(pending, response["Records"], strict=True):
                if result.get("ErrorCode"):
                    retry.append((index, record))
                    reasons[index] = f"{result['ErrorCode']}: {result.get('ErrorMessage', '')}"
            pending = retry
            if not pending:
                return {}
        for index, record in pending:
            log.warning("record for %r not appended: %s", record["PartitionKey"][:64], reasons.get(index))
        return {index: reasons.get(index) or "not appended" for index, _ in pending}


def _size(record: dict) -> int:
    return len(record["Data"]) + len(record["PartitionKey"].encode())


def _record_problem(record: dict) -> str | None:
    key = record["PartitionKey"]
    if not 1 <= len(key) <= PARTITION_KEY_CHARS:
        return f"partition key is {len(key)} characters (Kinesis allows 1 to {PARTITION_KEY_CHARS})"
    if _size(record) > RECORD_BYTES:
        return f"record is {_size(record):,} bytes (Kinesis allows {RECORD_BYTES:,})"
    return None


def _chunks(records: list[tuple[int, dict]]) -> Iterator[list[tuple[int, dict]]]:
    """Calls of at most 500 records and 5 MB."""
    chunk: list[tuple[int, dict]] = []
    size = 0
    for indexed in records:
        record_size = _size(indexed[1])
        if chunk and (len(chunk) == PUT_RECORDS_LIMIT or size + record_size > PUT_RECORDS_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(indexed)
        size += record_size
    if chunk:
        yield chunk
