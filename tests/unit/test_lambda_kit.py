"""Kinesis batch glue: read ▸ run ▸ report ▸ partial batch response, as Lambda and Powertools define it."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from journey.events.records import Accepted, Quarantined
from journey.lambda_kit.kinesis import EntireBatchFailed, batch_key, handle_kinesis_batch
from tests.builders import event, kinesis_event, kinesis_record


@dataclass
class Outcome:
    failed_sequences: set[str] = field(default_factory=set)


def batch(*users: str) -> dict:
    return kinesis_event(*(kinesis_record(event(user=u), partition_key=u) for u in users))


def test_every_record_is_read_in_order_and_a_bad_one_is_quarantined_not_raised():
    records = batch("u1", "u2")
    records["Records"].insert(1, kinesis_record(b"{not json", "u3"))
    seen: list = []
    response = handle_kinesis_batch(records, lambda items, key: seen.extend(items) or Outcome(), lambda o: None, 65_536)
    assert response == {"batchItemFailures": []}
    assert [type(i) for i in seen] == [Accepted, Quarantined, Accepted]


def test_failed_records_go_back_in_stream_order_and_the_outcome_is_reported():
    records = batch("u1", "u2", "u3")
    sequences = [r["kinesis"]["sequenceNumber"] for r in records["Records"]]
    reported: list = []
    response = handle_kinesis_batch(records, lambda items, key: Outcome({sequences[2], sequences[0]}), reported.append, 65_536)
    assert response == {"batchItemFailures": [{"itemIdentifier": sequences[0]}, {"itemIdentifier": sequences[2]}]}
    assert len(reported) == 1


def test_a_batch_in_which_every_record_failed_raises_before_anything_is_reported():
    records = batch("u1", "u2")
    every = {r["kinesis"]["sequenceNumber"] for r in records["Records"]}
    reported: list = []
    with pytest.raises(EntireBatchFailed):
        handle_kinesis_batch(records, lambda items, key: Outcome(set(every)), reported.append, 65_536)
    assert reported == []  # Lambda retries the whole batch: it is reported when it goes through


def test_the_batch_key_names_shard_and_sequence_range():
    records = batch("u1", "u2")["Records"]
    first, last = records[0]["kinesis"]["sequenceNumber"], records[-1]["kinesis"]["sequenceNumber"]
    assert batch_key(records) == f"shardId-000000000000/{first}-{last}"
