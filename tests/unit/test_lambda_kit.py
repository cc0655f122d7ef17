"""Kinesis batch glue: read ▸ run ▸ report ▸ partial batch response, as Lambda and Powertools define it."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from aws_lambda_powertools import Metrics

from journey.app.stream_batch import BatchResult
from journey.events.records import Accepted, Quarantined
from journey.lambda_kit.kinesis import EntireBatchFailed, batch_key, handle_kinesis_batch
from journey.lambda_kit.metrics import publish_metrics
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


def emitted(result) -> dict[str, list[float]]:
    """What publish_metrics puts in a real Powertools EMF metric set, by metric name."""
    metrics = Metrics(namespace="Test", service="test")
    metrics.clear_metrics()
    publish_metrics(metrics, result)
    emitted = {name: list(entry["Value"]) for name, entry in metrics.metric_set.items()}
    metrics.clear_metrics()
    return emitted


def test_a_quiet_batch_emits_its_throughput_and_no_zero_counts():
    names = emitted(BatchResult(received=500, applied=500))
    assert names == {"EventsIn": [500.0], "EventsApplied": [500.0]}


def test_a_rare_count_is_emitted_in_the_batch_where_it_happens():
    result = BatchResult(received=10, applied=7, late=2, duplicates=1, partition_key_mismatch=3, risk_model_unavailable=True)
    result.unstorable_users["u1"] = "item too large"
    names = emitted(result)
    assert names["LateEvents"] == [2.0] and names["DuplicatesDropped"] == [1.0] and names["PartitionKeyMismatch"] == [3.0]
    assert names["UnstorableUsers"] == [1.0] and names["ExitRiskModelUnavailable"] == [1.0]
    assert "FutureDatedEvents" not in names and "AnalyticsWriteFailed" not in names
