"""In-memory stand-ins for the low-level AWS clients the adapters call, counting every call.

Used by the benchmark (calls and DynamoDB write units are counted, not timed) and by unit tests
(fakes over mocks). Only the operations the adapters use are implemented, with AWS's limits:
BatchWriteItem refuses more than 25 items (moto accepts 26), BatchGetItem more than 100 keys,
PublishBatch more than 10 entries, WriteRecords more than 100 records.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from typing import Any


def attribute_size(value: dict) -> int:
    """DynamoDB's item-size rules, close enough to bill by: UTF-8 bytes of names and values."""
    ((kind, raw),) = value.items()
    if kind == "S":
        return len(raw.encode())
    if kind == "N":
        return (len(raw.strip("-").replace(".", "").lstrip("0")) + 1) // 2 + 1
    if kind == "BOOL" or kind == "NULL":
        return 1
    if kind == "B":
        return len(raw)
    if kind == "M":
        return 3 + sum(len(k.encode()) + attribute_size(v) + 1 for k, v in raw.items())
    if kind == "L":
        return 3 + sum(attribute_size(v) + 1 for v in raw)
    return len(str(raw))


def item_size(item: dict[str, dict]) -> int:
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


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
        if keys > 100:
            raise ValueError(f"BatchGetItem takes at most 100 keys, got {keys}")
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
        if count > 25:
            raise ValueError(f"BatchWriteItem takes at most 25 items, got {count}")
        for table, requests in RequestItems.items():
            for request in requests:
                item = request["PutRequest"]["Item"]
                self.meter.write_units += write_units(item)
                self.meter.items_written += 1
                if table in self.retain:
                    self.tables[table][self._key(table, item)] = item
        return {"UnprocessedItems": {}}


class MemorySNS:
    def __init__(self, meter: Meter):
        self.meter = meter
        self.published: list[dict] = []

    @metered
    def publish_batch(self, TopicArn: str, PublishBatchRequestEntries: list[dict]) -> dict:
        self.meter.calls["sns.PublishBatch"] += 1
        if len(PublishBatchRequestEntries) > 10:
            raise ValueError("PublishBatch takes at most 10 entries")
        self.published.extend(PublishBatchRequestEntries)
        return {"Successful": [{"Id": e["Id"], "MessageId": e["Id"]} for e in PublishBatchRequestEntries], "Failed": []}

    @metered
    def publish(self, **kwargs) -> dict:
        self.meter.calls["sns.Publish"] += 1
        self.published.append(kwargs)
        return {"MessageId": str(len(self.published))}


class MemoryS3:
    def __init__(self, meter: Meter):
        self.meter = meter
        self.objects: dict[str, bytes] = {}

    @metered
    def put_object(self, Bucket: str, Key: str, Body: bytes, **_: Any) -> dict:
        self.meter.calls["s3.PutObject"] += 1
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
