"""The quarantine keeps each rejected record once: one S3 object per record, under a key derived from
the record alone, written with a conditional write, so a redelivered record is neither kept nor
counted twice. The same tests run against moto and against the in-memory fake."""

from __future__ import annotations

import base64
import json
import threading
import time
from calendar import timegm

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from journey.adapters.aws import s3 as s3_adapter
from journey.adapters.aws.s3 import S3Quarantine, owner_prefix, quarantine_key
from journey.app.ports import QuarantineIncomplete
from journey.app.stream_batch import process_batch
from journey.errors import TransientError
from journey.events.records import Quarantined, read_record
from journey.interventions.catalog import DEFAULT_CATALOG
from journey.settings import PolicySettings, Settings
from localrt.memory_aws import MemoryS3, Meter
from localrt.memory_ports import memory_aws
from tests.builders import next_sequence, use_fake_aws_credentials

BUCKET = "quarantine-bucket"
SHARD = "shardId-000000000003"
ARRIVAL = timegm((2026, 11, 23, 23, 59, 58)) + 0.5  # 2026-11-23T23:59:58.5Z, a second before midnight


def rejected(n: int, arrival: float = ARRIVAL) -> list[Quarantined]:
    out = []
    for i in range(n):
        item = read_record(next_sequence(), f"u{i}", base64.b64encode(b"{not json %d" % i).decode(), arrival, 65_536)
        assert isinstance(item, Quarantined)
        out.append(item)
    return out


def batch_key(items: list[Quarantined]) -> str:
    return f"{SHARD}/{items[0].sequence}-{items[-1].sequence}"


class MotoS3:
    def __init__(self):
        self.client = boto3.client("s3", region_name="us-east-1")
        self.client.create_bucket(Bucket=BUCKET)

    def stored(self) -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
        return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))

    def body(self, key: str) -> bytes:
        return self.client.get_object(Bucket=BUCKET, Key=key)["Body"].read()


class FakeS3:
    def __init__(self):
        self.client = MemoryS3(Meter())

    def stored(self) -> list[str]:
        return sorted(self.client.objects)

    def body(self, key: str) -> bytes:
        return self.client.objects[key]


@pytest.fixture(params=["moto", "memory"])
def s3(request, monkeypatch):
    if request.param == "memory":
        yield FakeS3()
        return
    use_fake_aws_credentials(monkeypatch)
    with mock_aws():
        yield MotoS3()


def test_a_conditional_write_is_refused_with_412_when_the_key_is_taken(s3):
    """What the quarantine relies on: moto (as installed) and the fake honour ``IfNoneMatch="*"``."""
    s3.client.put_object(Bucket=BUCKET, Key="k", Body=b"first", IfNoneMatch="*")
    with pytest.raises(ClientError) as refused:
        s3.client.put_object(Bucket=BUCKET, Key="k", Body=b"second", IfNoneMatch="*")
    assert refused.value.response["Error"]["Code"] == "PreconditionFailed"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    assert s3.body("k") == b"first"
    s3.client.put_object(Bucket=BUCKET, Key="k", Body=b"third")  # unconditional: overwrites
    assert s3.body("k") == b"third"


def test_each_record_is_one_object_keyed_by_its_owner_arrival_date_shard_and_sequence_number(s3):
    items = rejected(3)
    kept = S3Quarantine(BUCKET, s3=s3.client).keep(batch_key(items), items)
    assert kept == items
    expected = sorted(f"{owner_prefix(item.partition_key)}2026/11/23/{SHARD}/{item.sequence}.json" for item in items)
    assert s3.stored() == expected
    assert all(owner_prefix(item.partition_key).startswith("quarantine/") for item in items)
    for item in items:
        stored = json.loads(s3.body(quarantine_key(SHARD, item.sequence, item.arrival, item.partition_key)))
        assert stored == item.as_record()
        assert stored["code"] == "not_json" and stored["reason"]


def test_a_redelivered_record_is_not_kept_or_returned_again_however_the_batch_is_cut_or_whenever(s3, monkeypatch):
    quarantine = S3Quarantine(BUCKET, s3=s3.client)
    items = rejected(4)
    assert quarantine.keep(batch_key(items), items) == items
    before = {key: s3.body(key) for key in s3.stored()}

    assert quarantine.keep(batch_key(items), items) == []  # Lambda retries the batch whole
    assert quarantine.keep(batch_key(items[2:]), items[2:]) == []  # a bisected half, with another batch key
    monkeypatch.setattr(s3_adapter, "time", DaysLater())  # redelivered days later (a redrive)
    one_more = rejected(1)
    assert quarantine.keep(batch_key([*items[1:], *one_more]), [*items[1:], *one_more]) == one_more  # cut differently

    assert len(s3.stored()) == 5
    assert {key: s3.body(key) for key in before} == before  # nothing rewritten


class DaysLater:
    """The time module, three days on."""

    def __getattr__(self, name):
        return getattr(time, name)

    @staticmethod
    def time() -> float:
        return time.time() + 3 * 86_400

    @staticmethod
    def gmtime(secs: float | None = None) -> time.struct_time:
        return time.gmtime(time.time() + 3 * 86_400 if secs is None else secs)


def test_a_batch_of_500_rejects_is_written_concurrently_and_all_kept(s3):
    class Tracking:
        """Counts how many PutObject calls are in flight at once."""

        def __init__(self, inner):
            self.inner, self.now, self.most = inner, 0, 0
            self.lock = threading.Lock()

        def put_object(self, **kwargs):
            with self.lock:
                self.now += 1
                self.most = max(self.most, self.now)
            try:
                time.sleep(0.002)
                return self.inner.put_object(**kwargs)
            finally:
                with self.lock:
                    self.now -= 1

    tracking = Tracking(s3.client)
    items = rejected(500)
    kept = S3Quarantine(BUCKET, s3=tracking).keep(batch_key(items), items)
    assert kept == items and len(s3.stored()) == 500
    assert 1 < tracking.most <= 8


def _error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "PutObject")


class Failing:
    """Fails the writes of the given sequence numbers with the given error."""

    def __init__(self, inner, sequences: set[str], error: ClientError):
        self.inner, self.sequences, self.error = inner, sequences, error

    def put_object(self, **kwargs):
        if kwargs["Key"].rsplit("/", 1)[-1].removesuffix(".json") in self.sequences:
            raise self.error
        return self.inner.put_object(**kwargs)


@pytest.mark.parametrize(
    "error", [_error("SlowDown", 503), _error("InternalError", 500), _error("ConditionalRequestConflict", 409)]
)
def test_a_transient_failure_raises_naming_what_was_kept_and_what_to_retry(s3, error):
    items = rejected(5)
    flaky = {items[1].sequence, items[3].sequence}
    with pytest.raises(QuarantineIncomplete) as incomplete:
        S3Quarantine(BUCKET, s3=Failing(s3.client, flaky, error)).keep(batch_key(items), items)
    assert isinstance(incomplete.value, TransientError)  # the caller's retry path
    assert incomplete.value.kept == [items[0], items[2], items[4]]
    assert incomplete.value.failed == [items[1], items[3]]
    # the retry keeps the two that failed, and only those are new
    assert S3Quarantine(BUCKET, s3=s3.client).keep(batch_key(items), items) == [items[1], items[3]]


def test_a_permanent_failure_is_raised_as_it_is(s3):
    items = rejected(3)
    denied = _error("AccessDenied", 403)
    with pytest.raises(ClientError) as raised:
        S3Quarantine(BUCKET, s3=Failing(s3.client, {items[0].sequence}, denied)).keep(batch_key(items), items)
    assert raised.value is denied and not isinstance(raised.value, TransientError)


def test_a_redelivered_poison_batch_adds_no_object():
    aws = memory_aws()
    settings = Settings(policy=PolicySettings(holdout_percent=0))
    items = rejected(3)
    process_batch(items, aws.ports, settings, DEFAULT_CATALOG, batch_key(items))
    process_batch(items[1:], aws.ports, settings, DEFAULT_CATALOG, batch_key(items[1:]))  # redelivered, cut differently
    assert len(aws.s3.objects) == 3
    assert aws.meter.calls["s3.PutObject"] == 5  # each attempt asked; the conditional write kept each record once
