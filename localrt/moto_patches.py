"""A speed fix for moto's Kinesis, applied wherever the local runtime runs moto.

moto numbers each shard's records 1, 2, 3, ... but its ``Shard.get_records`` walks the shard from
the first record on every call, and every put copies the shard's keys to find the last one, so
both slow down as the stream grows (100k records: most of the CPU). These read forward from the
iterator's position and take the ends of the ordered dict directly; same results.
"""

from __future__ import annotations


def apply() -> None:
    from moto.kinesis.models import Shard

    if getattr(Shard.get_records, "_journey_patched", False):
        return
    original = Shard.get_records

    def get_records(self, last_sequence_id, limit):
        last = int(last_sequence_id)
        records = self.records
        if not records or (last + 1) not in records:
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
    Shard.get_records = get_records
    Shard.get_min_sequence_number = get_min_sequence_number
    Shard.get_max_sequence_number = get_max_sequence_number


if __name__ == "__main__":  # python -m localrt.moto_patches <moto.server arguments>: moto's server, patched
    import sys

    from moto.server import main

    apply()
    main(sys.argv[1:])
