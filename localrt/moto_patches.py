"""Speed fixes for moto's Kinesis and DynamoDB, applied wherever the local runtime runs moto.

Kinesis: moto numbers each shard's records 1, 2, 3, ... but its ``Shard.get_records`` walks the
shard from the first record on every call, and every put copies the shard's keys to find the last
one, so both slow down as the stream grows (100k records: most of the CPU), even a poll at the shard's
end, which finds nothing. These read forward from the iterator's position and take the ends of the
ordered dict directly; same results.

DynamoDB: moto's ``Table.query`` gathers and sorts every item of the table, then keeps the
partition asked for, so each Query costs the whole table (the demo's API reads a user's
interventions and signals: at 2,000 users, half of moto's CPU). The query is handed a view of the
table whose items are that partition's only; on an index (the deadline timer's due users), every
item unsorted, since moto sorts the index's matches itself. moto's own code does the rest, same
results.

A Scan page sorts the whole table with a Python comparison per pair, then steps over the earlier
pages' items one comparison at a time: exporting a table of 50,000 items in 22 pages took about 25
s of sorting and stepping. The page is handed a view that sorts on the keys' values and bisects to
its start.

Every request: moto's server lists its own package folder to route a request (about a hundred
``isdir`` calls, under a lock). The listing does not change while it runs: it is read once.
"""

from __future__ import annotations

import inspect
from bisect import bisect_right
from collections.abc import Callable
from functools import cache
from operator import itemgetter
from typing import Any


class _QueryView:
    """A moto DynamoDB table as one Query needs it: ``all_items`` is one partition's items (a query on
    the table's key), or every item unsorted (a query on an index, whose code sorts what it keeps);
    ``Table.query`` sorts either. Everything else is the table's."""

    def __init__(self, table: Any, partition: Any = None) -> None:
        self._table = table
        self._partition = partition

    def all_items(self) -> list:
        ranged = bool(self._table.range_key_attr)
        if self._partition is None:
            return [item for found in self._table.items.values() for item in (found.values() if ranged else (found,))]
        found = self._table.items.get(self._partition)
        if found is None:
            return []
        return list(found.values()) if ranged else [found]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)


class _ScanView:
    """A moto DynamoDB table as one Scan page needs it: ``all_items`` is the table's items in moto's
    order (partition key, then sort key), from the first one after the page's start key. moto sorts
    with a Python comparison per pair and then steps over every earlier page's item with another;
    this sorts on the keys' values (what those comparisons compare) and bisects. The rest is the
    table's."""

    def __init__(self, table: Any, start: dict[str, Any] | None) -> None:
        self._table = table
        self._start = start

    def _key(self, hash_value: Any, range_value: Any) -> Any:
        return (hash_value, range_value) if self._table.range_key_attr else hash_value

    def all_items(self) -> list:
        from moto.dynamodb.models.dynamo_type import DynamoType

        table = self._table
        ranged = bool(table.range_key_attr)
        keyed = sorted(
            ((self._key(item.hash_key.cast_value, item.range_key.cast_value if ranged else None), item)
             for found in table.items.values() for item in (found.values() if ranged else (found,))),
            key=itemgetter(0),
        )  # fmt: skip
        if self._start is None:
            return [item for _, item in keyed]
        start = self._key(
            DynamoType(self._start[table.hash_key_attr]).cast_value,
            DynamoType(self._start[table.range_key_attr]).cast_value if ranged else None,
        )
        first = bisect_right(keyed, start, key=itemgetter(0))
        return [item for _, item in keyed[first:]]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)


def _replace(owner: Any, name: str, make: Callable[[Any], Any]) -> None:
    """Set ``owner.name`` to ``make(original)``, marked so that applying twice changes nothing, and
    with the original kept as ``__wrapped__`` (the tests ask both)."""
    original = getattr(owner, name)
    if getattr(original, "_journey_patched", False):
        return
    patched = make(original)
    patched._journey_patched = True
    patched.__wrapped__ = original
    setattr(owner, name, patched)


def _scan(original):
    signature = inspect.signature(original)

    def scan(self, *args, **kwargs):
        call = signature.bind(self, *args, **kwargs).arguments
        start = call.get("exclusive_start_key")
        keys = [self.hash_key_attr, *([self.range_key_attr] if self.range_key_attr else [])]
        usable = not call.get("index_name") and (start is None or all(name in start for name in keys))
        return original(_ScanView(self, start) if usable else self, *args, **kwargs)

    return scan


def _query(original):
    signature = inspect.signature(original)

    def query(self, *args, **kwargs):
        call = signature.bind(self, *args, **kwargs).arguments
        if call.get("index_name"):
            table = _QueryView(self)
        elif call.get("hash_key") is not None:
            table = _QueryView(self, call["hash_key"])
        else:
            table = self
        return original(table, *args, **kwargs)

    return query


def _module_listing(original):
    modules = cache(lambda: tuple(original()))

    def list_of_moto_modules():
        return modules()

    return list_of_moto_modules


def _get_records(original):
    def get_records(self, last_sequence_id, limit):
        last = int(last_sequence_id)
        records = self.records
        if not records or last >= next(reversed(records)):
            return [], last, 0  # at the shard's end: nothing newer (moto would walk the shard to say so)
        if (last + 1) not in records:
            return original(self, last_sequence_id, limit)
        newest = records[next(reversed(records))]
        results = []
        position = last + 1
        while position in records and (limit is None or len(results) < limit):
            results.append(records[position])
            last = position
            position += 1
        millis_behind = int((newest.created_at - results[-1].created_at) * 1000) if results else 0
        return results, last, millis_behind

    return get_records


def _first_sequence_number(_original):
    def get_min_sequence_number(self) -> int:
        return next(iter(self.records)) if self.records else 0

    return get_min_sequence_number


def _last_sequence_number(_original):
    def get_max_sequence_number(self) -> int:
        return next(reversed(self.records)) if self.records else 0

    return get_max_sequence_number


def apply() -> None:
    from moto import backends
    from moto.dynamodb.models.table import Table
    from moto.kinesis.models import Shard

    _replace(Table, "query", _query)
    _replace(Table, "scan", _scan)
    _replace(Shard, "get_records", _get_records)
    _replace(Shard, "get_min_sequence_number", _first_sequence_number)
    _replace(Shard, "get_max_sequence_number", _last_sequence_number)
    _replace(backends, "list_of_moto_modules", _module_listing)


if __name__ == "__main__":  # python -m localrt.moto_patches <moto.server arguments>: moto's server, patched
    import logging
    import sys

    from moto.server import main

    apply()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # a line per request costs the server 5% (to /dev/null)
    main(sys.argv[1:])
