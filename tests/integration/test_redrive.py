"""Both redrive paths on the local runtime: the on-failure queue's batches, and quarantined records."""

from __future__ import annotations

import json
import os

import pytest

from journey.adapters.aws.codecs.journal import journaled_event_ids
from localrt.esm import LambdaContext
from localrt.runtime import local_runtime
from ops.redrive import redrive_failures, redrive_quarantine
from tests.builders import T0, event, tap

pytestmark = pytest.mark.network_local


def _records(events):
    return [(e["userId"], json.dumps(e).encode(), e["eventId"]) for e in events]


def _journaled(rt) -> set[str]:
    return {event_id for item in rt.scan("EVENTS_TABLE") for event_id in journaled_event_ids(item)}


def test_batches_given_up_to_the_on_failure_queue_are_reread_and_reprocessed_once(tmp_path):
    good = [tap(T0 + i * 300, user="u-good") for i in range(3)]
    bad = [tap(T0 + i * 300, user="u-bad") for i in range(3)]
    with local_runtime(tmp_path / "function.log") as rt:
        mapping = rt.mappings[0]
        handler = mapping.invoke
        broken = {"on": True}

        def buggy(event_, context):  # a bug that fails every batch holding u-bad's records, until fixed
            if broken["on"] and any(r["kinesis"]["partitionKey"] == "u-bad" for r in event_["Records"]):
                raise RuntimeError("bug: cannot process u-bad")
            return handler(event_, context)

        mapping.invoke = buggy
        rt.start_polling()
        rt.put_records(_records(good + bad))
        assert rt.wait_until_drained(timeout_s=120)
        assert rt.on_failure_messages() >= 1
        assert {e["eventId"] for e in good} <= _journaled(rt) and not {e["eventId"] for e in bad} & _journaled(rt)

        broken["on"] = False  # the fix is deployed
        context = lambda: LambdaContext("F", "arn:aws:lambda:us-east-1:123456789012:function:F", 1024, 60)  # noqa: E731
        report = redrive_failures(
            rt.clients["sqs"],
            rt.clients["kinesis"],
            rt.on_failure_queue_url,
            rt.stream_name,
            lambda e: rt.handler(e, context()),
            "us-east-1",
        )
        assert report.failed == 0 and report.reprocessed >= 3 and not report.problems
        assert {e["eventId"] for e in good + bad} <= _journaled(rt)
        assert rt.on_failure_messages() == 0
        again = redrive_failures(
            rt.clients["sqs"],
            rt.clients["kinesis"],
            rt.on_failure_queue_url,
            rt.stream_name,
            lambda e: rt.handler(e, context()),
            "us-east-1",
        )
        assert again.batches == 0
        journal = [event_id for item in rt.scan("EVENTS_TABLE") for event_id in journaled_event_ids(item)]
        assert len(journal) == len(set(journal))  # nothing applied twice


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
        assert report.reprocessed == 1 and report.skipped == 1  # the not_json record was left alone
        assert rt.wait_until_drained(timeout_s=60)
        assert large["eventId"] in _journaled(rt)
        dry = redrive_quarantine(rt.clients["s3"], rt.clients["kinesis"], rt.quarantine_bucket, rt.stream_name, dry_run=True)
        assert dry.reprocessed == 0 and dry.records >= 1  # a dry run changes nothing
    load_settings.cache_clear()
