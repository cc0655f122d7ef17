"""In-memory stand-ins for the low-level AWS clients the adapters call, counting every call.

Used by the benchmark (calls and DynamoDB write units are counted, not timed) and by unit tests
(fakes over mocks). Only the operations the adapters use are implemented, with AWS's limits:
BatchWriteItem refuses more than 25 items (moto accepts 26) and rejects the whole call when one
item breaks a limit (a key over its bytes, an item over 400 KB, a duplicate key, over 16 MB in all:
:mod:`journey.adapters.aws.limits`), BatchGetItem more than 100 keys, PublishBatch more than 10
entries, WriteRecords more than 100 records.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from typing import Any

from botocore.exceptions import ClientError

from journey.adapters.aws.limits import (
    BATCH_GET_KEYS,
    BATCH_WRITE_ITEMS,
    BATCH_WRITE_REQUEST_BYTES,
    item_problem,
    item_size,
    key_problem,
)


def write_units(item: dict[str, dict]) -> int:
    return max(1, math.ceil(item_size(item) / 1024))


class Meter:
    """Counts API calls by service and operation, DynamoDB write units, and the CPU time spent inside
    the fakes (``fake_seconds``), which the benchmark subtracts: AWS calls are counted, not timed."""

    def __init__(self) -> None:
        self.calls: Counter = Counter()
        self.write_units = 0
        self.items_written = 0
        self.fake_seconds = 0.0

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    def reset(self) -> None:
        self.calls.clear()
        self.write_units = 0
        self.items_written = 0
        self.fake_seconds = 0.0


def metered(method):
    """Counts the CPU time a fake spends, so it can be taken out of the handler's figure."""

    def wrapper(self, *args, **kwargs):
        started = time.process_time()
        try:
            return method(self, *args, **kwargs)
        finally:
            self.meter.fake_seconds += time.process_time() - started

    return wrapper


def validation_error(operation: str, message: str) -> ClientError:
    """The error AWS answers a request that breaks a limit with (HTTP 400, not retried)."""
    return ClientError(
        {"Error": {"Code": "ValidationException", "Message": message}, "ResponseMetadata": {"HTTPStatusCode": 400}},
        operation,
    )


class MemoryDynamoDB:
    """Items of the tables in ``retain`` are kept for reads; the others are only counted (the
    processor never reads them back, and keeping them would bloat the measured process's heap)."""

    def __init__(self, meter: Meter, key_schema: dict[str, tuple[str, ...]], retain: set[str] | None = None):
        self.meter = meter
        self.key_schema = key_schema  # table -> key attribute names
        self.retain = set(key_schema) if retain is None else retain
        self.tables: dict[str, dict[tuple, dict]] = {name: {} for name in key_schema}

    def _key(self, table: str, item: dict) -> tuple:
        return tuple(item[name]["S"] for name in self.key_schema[table])

    @metered
    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict:
        self.meter.calls["dynamodb.BatchGetItem"] += 1
        keys = sum(len(spec["Keys"]) for spec in RequestItems.values())
        if keys > BATCH_GET_KEYS:
            raise validation_error("BatchGetItem", f"Too many items requested for the BatchGetItem call: {keys}")
        for table, spec in RequestItems.items():
            for key in spec["Keys"]:
                problem = key_problem(key, self.key_schema[table])
                if problem:
                    raise validation_error("BatchGetItem", problem)
        responses = {}
        for table, spec in RequestItems.items():
            responses[table] = [
                dict(self.tables[table][k]) for k in (self._key(table, key) for key in spec["Keys"]) if k in self.tables[table]
            ]
        return {"Responses": responses, "UnprocessedKeys": {}}

    @metered
    def batch_write_item(self, RequestItems: dict[str, list]) -> dict:
        self.meter.calls["dynamodb.BatchWriteItem"] += 1
        count = sum(len(requests) for requests in RequestItems.values())
        if count > BATCH_WRITE_ITEMS:
            raise validation_error("BatchWriteItem", f"Too many items requested for the BatchWriteItem call: {count}")
        total = 0
        for table, requests in RequestItems.items():  # AWS checks everything first: one bad item rejects the call
            seen = set()
            for request in requests:
                item = request["PutRequest"]["Item"] if "PutRequest" in request else request["DeleteRequest"]["Key"]
                problem = key_problem(item, self.key_schema[table]) or item_problem(item, self.key_schema[table])
                if problem:
                    raise validation_error("BatchWriteItem", problem)
                key = self._key(table, item)
                if key in seen:
                    raise validation_error("BatchWriteItem", "Provided list of item keys contains duplicates")
                seen.add(key)
                total += item_size(item)
        if total > BATCH_WRITE_REQUEST_BYTES:
            raise validation_error("BatchWriteItem", f"the request is {total:,} bytes, BatchWriteItem allows 16 MB")
        for table, requests in RequestItems.items():
            for request in requests:
                if "DeleteRequest" in request:
                    self.meter.write_units += 1
                    self.tables[table].pop(self._key(table, request["DeleteRequest"]["Key"]), None)
                    continue
                item = request["PutRequest"]["Item"]
                self.meter.write_units += write_units(item)
                self.meter.items_written += 1
                if table in self.retain:
                    self.tables[table][self._key(table, item)] = item
        return {"UnprocessedItems": {}}


class MemorySNS:
    """The topic (``PublishBatch``) and push (``Publish``). ``faults`` scripts failures: the n-th call
    of an operation (counted from 1) raises the exception keyed ``(operation, n)`` and publishes
    nothing (for AWS's own errors, :meth:`localrt.faults.CallFault.client_error`); ``failed_entries``
    makes ``PublishBatch`` report the entries whose ``Message`` contains a key as ``Failed`` with the
    given ``BatchResultErrorEntry`` fields (``Code``, ``SenderFault``, ``Message``), unpublished."""

    def __init__(self, meter: Meter):
        self.meter = meter
        self.published: list[dict] = []
        self.faults: dict[tuple[str, int], Exception] = {}
        self.failed_entries: dict[str, dict] = {}
        self._calls: Counter = Counter()

    def _scripted(self, operation: str) -> None:
        self._calls[operation] += 1
        fault = self.faults.get((operation, self._calls[operation]))
        if fault is not None:
            raise fault

    @metered
    def publish_batch(self, TopicArn: str, PublishBatchRequestEntries: list[dict]) -> dict:
        self.meter.calls["sns.PublishBatch"] += 1
        if len(PublishBatchRequestEntries) > 10:
            raise ValueError("PublishBatch takes at most 10 entries")
        self._scripted("PublishBatch")
        successful, failed = [], []
        for entry in PublishBatchRequestEntries:
            error = next((e for key, e in self.failed_entries.items() if key in entry["Message"]), None)
            if error is None:
                self.published.append(entry)
                successful.append({"Id": entry["Id"], "MessageId": entry["Id"]})
            else:
                failed.append({"Id": entry["Id"], **error})
        return {"Successful": successful, "Failed": failed}

    @metered
    def publish(self, **kwargs) -> dict:
        self.meter.calls["sns.Publish"] += 1
        self._scripted("Publish")
        self.published.append(kwargs)
        return {"MessageId": str(len(self.published))}


class MemoryS3:
    """``PutObject`` honours a conditional write as S3 does: with ``IfNoneMatch="*"`` and the key
    taken, it raises botocore's 412 ``PreconditionFailed`` and leaves the object as it was. Thread
    safe (the quarantine writes a batch's records concurrently)."""

    def __init__(self, meter: Meter):
        self.meter = meter
        self.objects: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def put_object(self, Bucket: str, Key: str, Body: bytes, **kwargs: Any) -> dict:
        with self._lock:  # one call at a time, so the meter's counts and CPU time stay whole
            return self._put_object(Bucket, Key, Body, **kwargs)

    @metered
    def _put_object(self, Bucket: str, Key: str, Body: bytes, IfNoneMatch: str | None = None, **_: Any) -> dict:
        self.meter.calls["s3.PutObject"] += 1
        if IfNoneMatch is not None and IfNoneMatch != "*":
            raise ValueError("PutObject's IfNoneMatch takes only '*'")
        if IfNoneMatch == "*" and Key in self.objects:
            raise ClientError(
                {
                    "Error": {
                        "Code": "PreconditionFailed",
                        "Message": "At least one of the pre-conditions you specified did not hold",
                        "Condition": "If-None-Match",
                    },
                    "ResponseMetadata": {"HTTPStatusCode": 412, "HTTPHeaders": {}, "RetryAttempts": 0},
                },
                "PutObject",
            )
        self.objects[Key] = Body
        return {}


class MemoryTimestream:
    def __init__(self, meter: Meter):
        self.meter = meter
        self.records = 0

    @metered
    def write_records(self, DatabaseName: str, TableName: str, Records: list, **_: Any) -> dict:
        self.meter.calls["timestream.WriteRecords"] += 1
        if len(Records) > 100:
            raise ValueError("WriteRecords takes at most 100 records")
        self.records += len(Records)
        return {"RecordsIngested": {"Total": len(Records)}}
