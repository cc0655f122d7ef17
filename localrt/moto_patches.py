"""Speed fixes for moto's Kinesis and DynamoDB, applied wherever the local runtime runs moto.

Kinesis: moto numbers each shard's records 1, 2, 3, ... but its ``Shard.get_records`` walks the
shard from the first record on every call, and every put copies the shard's keys to find the last
one, so both slow down as the stream grows (100k records: most of the CPU), even a poll at the shard's
end, which finds nothing. These read forward from the iterator's position and take the ends of the
ordered dict directly; same results.

DynamoDB: moto's ``Table.query`` on a table's own key gathers and sorts every item of the table,
then keeps the one partition asked for, so each Query costs the whole table (the demo's API reads a
user's interventions and signals: at 2,000 users, half of moto's CPU). The query is handed a view of
the table whose items are that partition's only; moto's own code does the rest, same results.

Every request: moto's server lists its own package folder to route a request (about a hundred
``isdir`` calls, under a lock). The listing does not change while it runs: it is read once.
"""

from __future__ import annotations

from functools import cache
from typing import Any


class _Partition:
    """A moto DynamoDB table seen through one partition: ``all_items`` is that partition's items
    (``Table.query`` sorts them by sort key); everything else is the table's."""

    def __init__(self, table: Any, hash_key: Any) -> None:
        self._table = table
        self._hash_key = hash_key

    def all_items(self) -> list:
        found = self._table.items.get(self._hash_key)
        if found is None:
            return []
        return list(found.values()) if self._table.range_key_attr else [found]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)


def _patch_dynamodb_query() -> None:
    from moto.dynamodb.models.table import Table

    if getattr(Table.query, "_journey_patched", False):
        return
    original = Table.query

    def query(
        self,
        hash_key,
        range_comparison,
        range_objs,
        limit,
        exclusive_start_key,
        scan_index_forward,
        projection_expressions,
        index_name=None,
        *args,
        **kwargs,
    ):
        table = self if index_name or hash_key is None else _Partition(self, hash_key)
        return original(
            table,
            hash_key,
            range_comparison,
            range_objs,
            limit,
            exclusive_start_key,
            scan_index_forward,
            projection_expressions,
            index_name,
            *args,
            **kwargs,
        )

    query._journey_patched = True
    query.__wrapped__ = original
    Table.query = query


def _patch_module_listing() -> None:
    from moto import backends

    if getattr(backends.list_of_moto_modules, "_journey_patched", False):
        return
    original = backends.list_of_moto_modules
    modules = cache(lambda: tuple(original()))

    def list_of_moto_modules():
        return modules()

    list_of_moto_modules._journey_patched = True
    list_of_moto_modules.__wrapped__ = original
    backends.list_of_moto_modules = list_of_moto_modules


def apply() -> None:
    _patch_dynamodb_query()
    _patch_kinesis()
    _patch_module_listing()


def _patch_kinesis() -> None:
    from moto.kinesis.models import Shard

    if getattr(Shard.get_records, "_journey_patched", False):
        return
    original = Shard.get_records

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

    def get_min_sequence_number(self) -> int:
        return next(iter(self.records)) if self.records else 0

    def get_max_sequence_number(self) -> int:
        return next(reversed(self.records)) if self.records else 0

    get_records._journey_patched = True
    get_records.__wrapped__ = original
    Shard.get_records = get_records
    Shard.get_min_sequence_number = get_min_sequence_number
    Shard.get_max_sequence_number = get_max_sequence_number


if __name__ == "__main__":  # python -m localrt.moto_patches <moto.server arguments>: moto's server, patched
    import sys

    from moto.server import main

    apply()
    main(sys.argv[1:])
