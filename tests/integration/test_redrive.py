"""Both redrive paths on the local runtime: the on-failure queue's batches, and quarantined records.

What redrive reports is checked against the users' event journal, the truth of what was applied."""

from __future__ import annotations

import base64
import json
import os
from collections import Counter

import pytest

from journey.adapters.aws.codecs.journal import journaled_event_ids
from journey.adapters.aws.s3 import quarantine_key
from localrt.esm import LambdaContext
from localrt.runtime import local_runtime
from ops.redrive import exit_code, redrive_failures, redrive_quarantine
from tests.builders import T0, event, tap

pytestmark = pytest.mark.network_local


def _records(events):
    return [(e["userId"], json.dumps(e).encode(), e["eventId"]) for e in events]


def _journal(rt) -> list[str]:
    return [event_id for item in rt.scan("EVENTS_TABLE") for event_id in journaled_event_ids(item)]


def _journaled(rt) -> set[str]:
    return set(_journal(rt))


def _redrive(rt, **options):
    """``ops.redrive failures`` against the local runtime: the function is invoked as the mapping
    invokes it (one invocation at a time)."""
    mapping = rt.mappings[0]

    def invoke(event_):
        context = LambdaContext("F", "arn:aws:lambda:us-east-1:123456789012:function:F", 1024, 60)
        with mapping.invoke_lock:
            return rt.handler(event_, context)

    return redrive_failures(
        rt.clients["sqs"],
        rt.clients["kinesis"],
        rt.clients["dynamodb"],
        rt.on_failure_queue_url,
        rt.stream_name,
        rt.tables["EVENTS_TABLE"],
        invoke,
        "us-east-1",
        s3=rt.clients["s3"],
        bucket=rt.quarantine_bucket,
        **options,
    )


def _break_until_fixed(rt, broken: dict) -> None:
    """A bug that fails every batch (a function error), until ``broken["on"]`` is cleared."""
    mapping = rt.mappings[0]
    handler = mapping.invoke

    def buggy(event_, context):
        if broken["on"] and broken["fails"](event_):
            raise RuntimeError("bug: cannot process this batch")
        return handler(event_, context)

    mapping.invoke = buggy


def test_batches_given_up_to_the_on_failure_queue_are_reread_and_reprocessed_once(tmp_path):
    good = [tap(T0 + i * 300, user="u-good") for i in range(3)]
    bad = [tap(T0 + i * 300, user="u-bad") for i in range(3)]
    with local_runtime(tmp_path / "function.log") as rt:
        broken = {"on": True, "fails": lambda e: any(r["kinesis"]["partitionKey"] == "u-bad" for r in e["Records"])}
        _break_until_fixed(rt, broken)
        rt.start_polling()
        rt.put_records(_records(good + bad))
        assert rt.wait_until_drained(timeout_s=120)
        assert rt.on_failure_messages() >= 1
        assert {e["eventId"] for e in good} <= _journaled(rt) and not {e["eventId"] for e in bad} & _journaled(rt)

        broken["on"] = False  # the fix is deployed
        report = _redrive(rt)
        assert report.applied == 3 and report.already_applied == report.records - 3
        assert report.failed == report.not_applied == report.unaccounted == 0 and not report.problems
        assert exit_code(report) == 0 and report.messages_kept == 0
        assert {e["eventId"] for e in good + bad} <= _journaled(rt)
        assert rt.on_failure_messages() == 0
        again = _redrive(rt)
        assert again.batches == 0
        journal = _journal(rt)
        assert len(journal) == len(set(journal))  # nothing applied twice


def test_records_skipped_because_their_users_moved_on_are_reported_not_applied_and_reapplied_on_request(tmp_path):
    """The reproduced defect: a batch went to the on-failure queue, later events of the same users
    were applied, and a redrive said "reprocessed 16, failed 0" while 13 records stayed lost."""
    moved_on = [tap(T0 + i * 60_000, user="u1") for i in range(7)] + [tap(T0 + i * 60_000, user="u2") for i in range(6)]
    still = [tap(T0 + i * 60_000, user="u3") for i in range(3)]
    later = [tap(T0 + 3_600_000 + i * 60_000, user=user) for user in ("u1", "u2") for i in range(2)]
    wave = {e["eventId"] for e in moved_on + still}
    with local_runtime(tmp_path / "function.log") as rt:

        def holds_the_first_wave(event_):
            return any(
                r["kinesis"]["partitionKey"] == "u4" or json.loads(base64.b64decode(r["kinesis"]["data"]))["eventId"] in wave
                for r in event_["Records"]
            )

        broken = {"on": True, "fails": holds_the_first_wave}
        _break_until_fixed(rt, broken)
        rt.start_polling()
        rt.put_records([*_records(moved_on + still), ("u4", b"{not json", None)])
        assert rt.wait_until_drained(timeout_s=120)
        given_up = rt.on_failure_messages()
        assert given_up >= 1 and not wave & _journaled(rt)

        broken["on"] = False  # the fix is deployed, and the users carry on
        rt.put_records(_records(later))
        assert rt.wait_until_drained(timeout_s=60)
        assert {e["eventId"] for e in later} <= _journaled(rt)

        report = _redrive(rt)
        assert report.records == 17
        assert report.applied == 3  # u3 had not moved on
        assert dict(report.rejected) == {"not_json": 1}
        assert report.not_applied == 13 and report.reapplied == 0
        assert Counter(e["userId"] for e in report.not_applied_events) == {"u1": 7, "u2": 6}
        assert {e["eventId"] for e in report.not_applied_events} == {e["eventId"] for e in moved_on}
        assert report.unaccounted == 13 and exit_code(report) == 1
        assert "13 NOT applied" in report.summary("failures") and "13 unaccounted" in report.summary("failures")
        assert report.messages_kept >= 1 and rt.on_failure_messages() == report.messages_kept  # kept, and visible again
        assert not {e["eventId"] for e in moved_on} & _journaled(rt)

        reapplied = _redrive(rt, reapply=True)
        assert reapplied.not_applied == reapplied.reapplied == 13
        assert reapplied.applied == 0 and reapplied.unaccounted == 0 and exit_code(reapplied) == 0
        assert rt.on_failure_messages() == 0
        assert rt.wait_until_drained(timeout_s=60)
        assert wave <= _journaled(rt)  # applied as new, late events
        journal = _journal(rt)
        assert len(journal) == len(set(journal))
        assert _redrive(rt).batches == 0


def test_a_dry_run_counts_and_changes_nothing(tmp_path):
    events = [tap(T0 + i * 300, user="u-dry") for i in range(3)]
    with local_runtime(tmp_path / "function.log") as rt:
        _break_until_fixed(rt, {"on": True, "fails": lambda e: True})
        rt.start_polling()
        rt.put_records(_records(events))
        assert rt.wait_until_drained(timeout_s=120)
        messages = rt.on_failure_messages()
        report = _redrive(rt, dry_run=True)
        assert report.pending == 3 and report.applied == report.already_applied == 0 and report.unaccounted == 0
        assert rt.on_failure_messages() == messages and not {e["eventId"] for e in events} & _journaled(rt)


def test_quarantined_records_are_replayed_after_a_fix_and_only_once(tmp_path):
    small = event("page_view", "u1", T0, screen="home")
    large = event("page_view", "u2", T0, screen="x" * 500, query="y" * 500)  # over the (misconfigured) 1 KB limit
    from journey.settings import load_settings

    with local_runtime(tmp_path / "function.log", extra_env={"JOURNEY_MAX_RECORD_BYTES": "1024"}) as rt:
        load_settings.cache_clear()
        rt.start_polling()
        rt.put_records([*_records([small, large]), ("u3", b"{not json", None)])
        assert rt.wait_until_drained(timeout_s=60)
        assert {q["code"] for q in rt.quarantined()} == {"oversize", "not_json"}
        assert large["eventId"] not in _journaled(rt)

        os.environ["JOURNEY_MAX_RECORD_BYTES"] = "65536"  # the fix
        load_settings.cache_clear()
        report = redrive_quarantine(
            rt.clients["s3"], rt.clients["kinesis"], rt.quarantine_bucket, rt.stream_name, codes={"oversize"}
        )
        assert report.replayed == 1 and report.skipped == 1 and report.unaccounted == 0  # the not_json record was left alone
        assert rt.wait_until_drained(timeout_s=60)
        assert large["eventId"] in _journaled(rt)
        again = redrive_quarantine(
            rt.clients["s3"], rt.clients["kinesis"], rt.quarantine_bucket, rt.stream_name, codes={"oversize"}
        )
        assert again.replayed == 0 and again.skipped == 2  # the replayed object is tagged; the other is not chosen
        dry = redrive_quarantine(rt.clients["s3"], rt.clients["kinesis"], rt.quarantine_bucket, rt.stream_name, dry_run=True)
        assert dry.replayed == 0 and dry.records == 1  # a dry run changes nothing
    load_settings.cache_clear()


def test_unstorable_records_are_replayed_from_per_record_and_from_older_per_batch_objects(tmp_path):
    """Records of a user whose data the store could not write are quarantined with code
    ``unstorable``; once the store is fixed they are replayed like any other. Objects written before
    the quarantine kept one object per record (one per batch, JSON lines) are read too."""
    per_record = event("page_view", "u5", T0, screen="home")
    in_a_batch = event("page_view", "u6", T0, screen="home")
    other = event("page_view", "u7", T0, screen="home")

    def kept(e, sequence, code):
        data = base64.b64encode(json.dumps(e).encode()).decode()
        return {
            "sequenceNumber": sequence,
            "partitionKey": e["userId"],
            "code": code,
            "reason": "the store could not write the user's data" if code == "unstorable" else "too large",
            "data": data,
            "approximateArrivalTimestamp": T0 / 1000,
        }

    with local_runtime(tmp_path / "function.log") as rt:
        s3, bucket = rt.clients["s3"], rt.quarantine_bucket
        sequence = "49000000000000000000000000000000000000000000000000000001"
        record_key = quarantine_key("shardId-000000000000", sequence, T0 / 1000, per_record["userId"])
        s3.put_object(Bucket=bucket, Key=record_key, Body=json.dumps(kept(per_record, sequence, "unstorable")).encode())
        batch_key = "quarantine/2026/11/01/shardId-000000000000/1-3.jsonl"
        lines = [kept(in_a_batch, "2", "unstorable"), kept(other, "3", "oversize")]
        s3.put_object(Bucket=bucket, Key=batch_key, Body="".join(json.dumps(line) + "\n" for line in lines).encode())
        rt.start_polling()

        report = redrive_quarantine(s3, rt.clients["kinesis"], bucket, rt.stream_name, codes={"unstorable"})
        assert report.batches == 2 and report.replayed == 2 and report.skipped == 1 and report.unaccounted == 0
        assert rt.wait_until_drained(timeout_s=60)
        journaled = _journaled(rt)
        assert {per_record["eventId"], in_a_batch["eventId"]} <= journaled and other["eventId"] not in journaled
        tags = {key: s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"] for key in (record_key, batch_key)}
        assert tags[record_key] and not tags[batch_key]  # the batch object still holds a record of another code
