"""In-memory stand-ins for the low-level AWS clients the adapters call, counting every call.

Used by the benchmark (calls and DynamoDB write units are counted, not timed) and by unit tests
(fakes over mocks). Only the operations the adapters use are implemented, with AWS's limits:
BatchWriteItem refuses more than 25 items (moto accepts 26) and rejects the whole call when one
item breaks a limit (a key over its bytes, an item over 400 KB, a duplicate key, over 16 MB in all:
:mod:`journey.adapters.aws.limits`), BatchGetItem more than 100 keys, PublishBatch more than 10
entries, WriteRecords more than 100 records. ``Query`` (the deadline timer's, on the state table's
sparse due index; the base tables too) follows DynamoDB: key conditions only, ascending sort-key order,
``Limit`` and ``ExclusiveStartKey``/``LastEvaluatedKey`` paging, a keys-only index projection.
"""

from __future__ import annotations

import io
import math
import operator
import re
import threading
import time
from collections import Counter
from typing import Any

from botocore.exceptions import ClientError

from journey.adapters.aws.limits import (
    BATCH_GET_KEYS,
    BATCH_WRITE_ITEMS,
    BATCH_WRITE_REQUEST_BYTES,
    item_size,
    key_problem,
    size_problem,
)
from journey.resources import (
    DUE_INDEX,
    INTERVENTIONS,
    STRUGGLE_SIGNALS,
    TENANT_DAY_ATTRIBUTE,
    TENANT_DAY_INDEX,
    USER_STATE,
)

# table -> index name -> (partition key, sort key): the deployed indexes the fakes answer Query on
DEFAULT_INDEXES: dict[str, dict[str, tuple[str, str]]] = {
    USER_STATE.logical_id: {DUE_INDEX.name: (DUE_INDEX.partition_key, DUE_INDEX.sort_key)},
    STRUGGLE_SIGNALS.logical_id: {TENANT_DAY_INDEX: (TENANT_DAY_ATTRIBUTE, "sk")},
    INTERVENTIONS.logical_id: {TENANT_DAY_INDEX: (TENANT_DAY_ATTRIBUTE, "interventionId")},
}
PROJECT_ALL = frozenset({TENANT_DAY_INDEX})  # indexes that project every attribute (the others: keys only)
QUERY_PAGE_BYTES = 1024 * 1024  # a Query returns at most 1 MB of items per call
_COMPARISONS = {"=": operator.eq, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_CLAUSE = re.compile(r"^\s*([#\w.-]+)\s*(=|<=|<|>=|>)\s*(:\w+)\s*$")
_BETWEEN = re.compile(r"^\s*([#\w.-]+)\s+BETWEEN\s+(:\w+)\s+AND\s+(:\w+)\s*$", re.IGNORECASE)


def write_units(item: dict[str, dict]) -> int:
    return units_of(item_size(item))


def units_of(size: int) -> int:
    """Write units billed for an item of ``size`` bytes: one per KB started."""
    return max(1, math.ceil(size / 1024))


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

    def __init__(
        self,
        meter: Meter,
        key_schema: dict[str, tuple[str, ...]],
        retain: set[str] | None = None,
        indexes: dict[str, dict[str, tuple[str, str]]] | None = None,
    ):
        self.meter = meter
        self.key_schema = key_schema  # table -> key attribute names
        self.retain = set(key_schema) if retain is None else retain
        self.tables: dict[str, dict[tuple, dict]] = {name: {} for name in key_schema}
        source = DEFAULT_INDEXES if indexes is None else indexes
        self.indexes = {table: dict(found) for table, found in source.items() if table in key_schema}

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
        total, sizes = 0, []  # each item's size, computed once: checked, summed and billed
        for table, requests in RequestItems.items():  # AWS checks everything first: one bad item rejects the call
            seen = set()
            for request in requests:
                item = request["PutRequest"]["Item"] if "PutRequest" in request else request["DeleteRequest"]["Key"]
                size = item_size(item)
                problem = key_problem(item, self.key_schema[table]) or size_problem(size)
                if problem:
                    raise validation_error("BatchWriteItem", problem)
                key = self._key(table, item)
                if key in seen:
                    raise validation_error("BatchWriteItem", "Provided list of item keys contains duplicates")
                seen.add(key)
                total += size
                sizes.append(size)
        if total > BATCH_WRITE_REQUEST_BYTES:
            raise validation_error("BatchWriteItem", f"the request is {total:,} bytes, BatchWriteItem allows 16 MB")
        sized = iter(sizes)
        for table, requests in RequestItems.items():
            for request in requests:
                size = next(sized)
                if "DeleteRequest" in request:
                    self.meter.write_units += 1
                    self.tables[table].pop(self._key(table, request["DeleteRequest"]["Key"]), None)
                    continue
                item = request["PutRequest"]["Item"]
                self.meter.write_units += units_of(size)
                self.meter.items_written += 1
                if table in self.retain:
                    self.tables[table][self._key(table, item)] = item
        return {"UnprocessedItems": {}}

    @metered
    def query(
        self,
        TableName: str,
        KeyConditionExpression: str,
        ExpressionAttributeValues: dict[str, dict],
        IndexName: str | None = None,
        ExpressionAttributeNames: dict[str, str] | None = None,
        Limit: int | None = None,
        ExclusiveStartKey: dict[str, dict] | None = None,
        ScanIndexForward: bool = True,
        ProjectionExpression: str | None = None,
        ConsistentRead: bool = False,
        **unsupported: Any,
    ) -> dict:
        self.meter.calls["dynamodb.Query"] += 1
        if unsupported:
            raise NotImplementedError(f"MemoryDynamoDB.query does not support {sorted(unsupported)}")
        table_keys = self.key_schema[TableName]
        if IndexName is None:
            partition, sort = table_keys[0], (table_keys[1] if len(table_keys) > 1 else None)
        elif IndexName in self.indexes.get(TableName, {}):
            partition, sort = self.indexes[TableName][IndexName]
        else:
            raise validation_error("Query", f"The table does not have the specified index: {IndexName}")
        if Limit is not None and Limit < 1:
            raise validation_error("Query", "Limit must be at least 1")
        conditions = _key_conditions(KeyConditionExpression, ExpressionAttributeNames or {}, ExpressionAttributeValues)
        if conditions.get(partition, (None,))[0] != "=":
            raise validation_error("Query", f"Query condition missed key schema element: {partition}")
        if set(conditions) - {partition, sort}:
            raise validation_error("Query", f"Query key condition not supported on {sorted(set(conditions) - {partition, sort})}")

        def matches(item: dict) -> bool:
            return all(name in item and _holds(item[name], test) for name, test in conditions.items())

        found = [item for item in self.tables[TableName].values() if partition in item and (sort is None or sort in item)]
        found = [item for item in found if matches(item)]
        key_names = (*table_keys, *((partition, sort) if IndexName else ()))
        order = lambda item: (_sortable(item[sort]) if sort else 0, self._key(TableName, item))  # noqa: E731
        found.sort(key=order, reverse=not ScanIndexForward)
        if ExclusiveStartKey is not None:
            start = order(ExclusiveStartKey)
            found = [item for item in found if (order(item) < start if not ScanIndexForward else order(item) > start)]
        page, size = [], 0
        for item in found:
            if (Limit is not None and len(page) >= Limit) or size >= QUERY_PAGE_BYTES:
                break
            page.append(item)
            size += item_size(item)
        stopped = (Limit is not None and len(page) >= Limit) or size >= QUERY_PAGE_BYTES
        keys_only = IndexName is not None and IndexName not in PROJECT_ALL
        projected = [{name: item[name] for name in key_names if name in item} if keys_only else dict(item) for item in page]
        if ProjectionExpression:
            wanted = [(ExpressionAttributeNames or {}).get(n.strip(), n.strip()) for n in ProjectionExpression.split(",")]
            projected = [{name: item[name] for name in wanted if name in item} for item in projected]
        response: dict[str, Any] = {"Items": projected, "Count": len(projected), "ScannedCount": len(projected)}
        if page and stopped:  # as DynamoDB: a page cut by Limit has a next key, even when nothing follows
            response["LastEvaluatedKey"] = {name: page[-1][name] for name in key_names}
        return response

    @metered
    def get_item(self, TableName: str, Key: dict, ConsistentRead: bool = False, **_: Any) -> dict:
        self.meter.calls["dynamodb.GetItem"] += 1
        problem = key_problem(Key, self.key_schema[TableName])
        if problem:
            raise validation_error("GetItem", problem)
        item = self.tables[TableName].get(self._key(TableName, Key))
        return {"Item": dict(item)} if item is not None else {}

    @metered
    def put_item(self, TableName: str, Item: dict, ConditionExpression: str | None = None, **_: Any) -> dict:
        """``ConditionExpression``: only ``attribute_not_exists(<a key attribute>)`` (a first write)."""
        self.meter.calls["dynamodb.PutItem"] += 1
        size = item_size(Item)
        problem = key_problem(Item, self.key_schema[TableName]) or size_problem(size)
        if problem:
            raise validation_error("PutItem", problem)
        key = self._key(TableName, Item)
        if ConditionExpression is not None:
            if not re.fullmatch(r"\s*attribute_not_exists\(\s*[#\w]+\s*\)\s*", ConditionExpression):
                raise NotImplementedError(
                    f"MemoryDynamoDB.put_item supports only attribute_not_exists, not {ConditionExpression!r}"
                )
            if key in self.tables[TableName]:
                raise ClientError(
                    {"Error": {"Code": "ConditionalCheckFailedException", "Message": "The conditional request failed"}},
                    "PutItem",
                )
        self.meter.write_units += units_of(size)
        self.tables[TableName][key] = Item
        return {}


def _key_conditions(expression: str, names: dict[str, str], values: dict[str, dict]) -> dict[str, tuple]:
    """attribute -> ("=" | "<" | ... , value) or ("BETWEEN", low, high), from a key condition expression."""

    def name_of(token: str) -> str:
        if token.startswith("#"):
            if token not in names:
                raise validation_error("Query", f"An expression attribute name used in the document path is not defined: {token}")
            return names[token]
        return token

    def value_of(token: str) -> dict:
        if token not in values:
            raise validation_error("Query", f"An expression attribute value used in expression is not defined: {token}")
        return values[token]

    conditions: dict[str, tuple] = {}
    parts = re.split(r"\s+AND\s+", expression.strip(), flags=re.IGNORECASE)
    index = 0
    while index < len(parts):
        part = parts[index]
        if re.search(r"\sBETWEEN\s", part, re.IGNORECASE) and index + 1 < len(parts):
            part = f"{part} AND {parts[index + 1]}"
            index += 1
        index += 1
        between = _BETWEEN.match(part)
        clause = _CLAUSE.match(part)
        if between:
            conditions[name_of(between[1])] = ("BETWEEN", value_of(between[2]), value_of(between[3]))
        elif clause:
            conditions[name_of(clause[1])] = (clause[2], value_of(clause[3]))
        else:
            raise validation_error("Query", f"Invalid KeyConditionExpression (not supported by the fake): {part.strip()!r}")
    return conditions


def _sortable(value: dict) -> Any:
    ((kind, raw),) = value.items()
    return float(raw) if kind == "N" else raw


def _holds(value: dict, test: tuple) -> bool:
    if test[0] == "BETWEEN":
        return _sortable(test[1]) <= _sortable(value) <= _sortable(test[2])
    if value.keys() != test[1].keys():
        return False  # a different type never matches
    return _COMPARISONS[test[0]](_sortable(value), _sortable(test[1]))


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


class MemorySQS:
    """``SendMessageBatch`` with SQS's limits (10 entries, 256 KiB in all, ids unique); ``failing``
    makes every call raise (the queue down)."""

    MAX_BATCH_BYTES = 262_144

    def __init__(self, meter: Meter):
        self.meter = meter
        self.sent: list[dict] = []
        self.failing: Exception | None = None

    @metered
    def send_message_batch(self, QueueUrl: str, Entries: list[dict]) -> dict:
        self.meter.calls["sqs.SendMessageBatch"] += 1
        if not 1 <= len(Entries) <= 10:
            raise ValueError("SendMessageBatch takes 1 to 10 entries (AWS.SimpleQueueService.TooManyEntriesInBatchRequest)")
        if len({e["Id"] for e in Entries}) != len(Entries):
            raise ValueError("SendMessageBatch entry ids must be unique (BatchEntryIdsNotDistinct)")
        if sum(len(e["MessageBody"].encode()) for e in Entries) > self.MAX_BATCH_BYTES:
            raise ValueError("SendMessageBatch bodies exceed 256 KiB in all (BatchRequestTooLong)")
        if self.failing is not None:
            raise self.failing
        self.sent.extend({"QueueUrl": QueueUrl, **e} for e in Entries)
        return {"Successful": [{"Id": e["Id"], "MessageId": e["Id"]} for e in Entries], "Failed": []}


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

    def list_objects_v2(self, Bucket: str, Prefix: str = "", **_: Any) -> dict:
        with self._lock:
            keys = sorted(k for k in self.objects if k.startswith(Prefix))
        return {"Contents": [{"Key": k, "Size": len(self.objects[k])} for k in keys], "KeyCount": len(keys), "IsTruncated": False}

    def get_object(self, Bucket: str, Key: str, **_: Any) -> dict:
        with self._lock:
            if Key not in self.objects:
                raise ClientError({"Error": {"Code": "NoSuchKey", "Message": "The specified key does not exist."}}, "GetObject")
            return {"Body": io.BytesIO(self.objects[Key])}

    def list_object_versions(self, Bucket: str, Prefix: str = "", **_: Any) -> dict:
        """Unversioned in memory: each object is its one version, ``null``."""
        with self._lock:
            keys = sorted(k for k in self.objects if k.startswith(Prefix))
        return {"Versions": [{"Key": k, "VersionId": "null", "IsLatest": True} for k in keys], "IsTruncated": False}

    def get_paginator(self, operation: str):
        method = getattr(self, operation)

        class _Pages:
            def paginate(self, **kwargs: Any):
                yield method(**kwargs)

        return _Pages()

    def delete_objects(self, Bucket: str, Delete: dict, **_: Any) -> dict:
        if len(Delete["Objects"]) > 1000:
            raise validation_error(
                "DeleteObjects", "The XML you provided was not well-formed or did not validate (over 1,000 keys)"
            )
        with self._lock:
            for entry in Delete["Objects"]:
                self.objects.pop(entry["Key"], None)
        return {"Deleted": [{"Key": e["Key"]} for e in Delete["Objects"]], "Errors": []}


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
