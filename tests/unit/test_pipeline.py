"""The batch pipeline against in-memory AWS (fakes over mocks): exactly-once, duplicates, poison, failures."""

import base64
import json

import pytest

from journey.adapters.aws.codecs.journal import journaled_event_ids
from journey.app.stream_batch import process_batch
from journey.errors import TransientError
from journey.events.records import read_record
from journey.interventions.catalog import DEFAULT_CATALOG
from journey.settings import PolicySettings, Settings
from localrt.memory_ports import memory_aws
from tests.builders import T0, event, next_sequence, tap

SETTINGS = Settings(policy=PolicySettings(holdout_percent=0))


def records(*payloads, sequences=None):
    out = []
    for n, payload in enumerate(payloads):
        data = payload if isinstance(payload, str) else base64.b64encode(json.dumps(payload).encode()).decode()
        out.append(read_record(sequences[n] if sequences else next_sequence(), "pk", data, 0.0, 65_536))
    return out


def rage(user, t=T0):
    return [tap(t, user=user), tap(t + 200, user=user), tap(t + 400, user=user)]


def run(aws, items, settings=SETTINGS):
    return process_batch(items, aws.ports, settings, DEFAULT_CATALOG, "shard/batch")


def test_a_rage_tap_is_detected_decided_delivered_and_persisted():
    aws = memory_aws()
    result = run(aws, records(*rage("u1")))
    assert result.applied == 3 and not result.failed_sequences
    assert [s.signalType.value for s in result.signals] == ["rage_tap"]
    assert [d.channel.value for d in result.delivered] == ["in_app"]
    assert len(aws.sns.published) == 1
    attributes = aws.sns.published[0]["MessageAttributes"]
    assert attributes["signalType"]["StringValue"] == "rage_tap" and attributes["channel"]["StringValue"] == "in_app"
    tables = aws.dynamodb.tables
    assert len(tables["UserState"]) == 1 and len(tables["StruggleSignals"]) == 1 and len(tables["Interventions"]) == 1
    assert len(tables["UserEvents"]) == 1  # one journal chunk for the user's batch


def test_a_redelivered_batch_changes_nothing_and_sends_nothing_twice():
    aws = memory_aws()
    batch = records(*rage("u1"), *rage("u2"))
    run(aws, batch)
    state_before = {k: dict(v) for k, v in aws.dynamodb.tables["UserState"].items()}
    again = run(aws, batch)
    assert again.replayed == 6 and again.applied == 0 and again.signals == [] and again.delivered == []
    assert len(aws.sns.published) == 2
    assert {k: dict(v) for k, v in aws.dynamodb.tables["UserState"].items()} == state_before


def test_producer_duplicates_with_new_sequence_numbers_are_dropped():
    aws = memory_aws()
    first = event(feature="upload", attemptCount=3, t=T0)
    run(aws, records(first))
    again = run(aws, records(first, first))  # retried by the producer: same event, new sequence numbers
    assert again.duplicates == 2 and again.applied == 0 and again.signals == []


def test_poison_records_are_quarantined_with_reasons_and_never_fail_the_batch():
    aws = memory_aws()
    good = tap(T0)
    result = run(aws, records("%%%not-base64", base64.b64encode(b"{oops").decode(), {"hello": "x"}, good))
    assert result.applied == 1 and not result.failed_sequences
    assert dict(result.rejected) == {"bad_base64": 1, "not_json": 1, "unknown_format": 1}
    lines = sorted((json.loads(body) for body in aws.s3.objects.values()), key=lambda q: int(q["sequenceNumber"]))
    assert [line["code"] for line in lines] == ["bad_base64", "not_json", "unknown_format"]  # one object per record
    assert all(line["reason"] and line["data"] for line in lines)


def test_a_redelivered_poison_record_is_kept_once_and_counted_once():
    aws = memory_aws()
    batch = records(base64.b64encode(b"{oops").decode(), {"hello": "x"}, tap(T0))
    assert sum(run(aws, batch).rejected.values()) == 2
    again = run(aws, batch[1:])  # Lambda retried from the second record
    assert not again.rejected and len(aws.s3.objects) == 2


class FlakyNotifier:
    """Fails the first delivery for one user, transiently."""

    def __init__(self, inner, fail_user):
        self.inner, self.fail_user, self.failed = inner, fail_user, False

    def deliver(self, decisions, endpoints, announced=frozenset()):
        failures = {}
        ok = []
        for d in decisions:
            if d.userId == self.fail_user and not self.failed:
                failures[d.interventionId] = "ThrottlingException"
            else:
                ok.append(d)
        self.failed = self.failed or bool(failures)
        report = self.inner.deliver(ok, endpoints, announced)
        report.failed.update(failures)
        return report


def test_a_transient_delivery_failure_fails_only_that_users_records_then_replays_exactly_once():
    aws = memory_aws()
    aws.ports.notifier = FlakyNotifier(aws.ports.notifier, "u2")
    batch = records(*rage("u1"), *rage("u2"))
    result = run(aws, batch)
    u2_sequences = {r.sequence for r in batch[3:]}
    assert result.failed_sequences == u2_sequences
    assert "u2" not in {k[0] for k in aws.dynamodb.tables["UserState"]}  # not persisted: it will be replayed
    replay = [r for r in batch if r.sequence >= min(u2_sequences, key=int)]  # Kinesis replays from the lowest failure
    second = run(aws, replay)
    assert not second.failed_sequences and second.applied == 3
    published = [json.loads(m["Message"])["userId"] for m in aws.sns.published]
    assert sorted(published) == ["u1", "u2"]  # each user helped exactly once


def test_a_store_outage_raises_so_the_whole_batch_is_retried():
    aws = memory_aws()

    def broken(**_):
        raise TransientError("ProvisionedThroughputExceededException")

    aws.dynamodb.batch_get_item = broken
    with pytest.raises(TransientError):
        run(aws, records(tap(T0)))


def test_analytics_failure_never_fails_the_batch():
    aws = memory_aws()

    def broken(**_):
        raise RuntimeError("Timestream rejected the records")

    aws.timestream.write_records = broken
    result = run(aws, records(*rage("u1")))
    assert result.analytics_failed and not result.failed_sequences and result.delivered


def test_without_analytics_everything_else_works():
    aws = memory_aws(timestream=False)
    result = run(aws, records(*rage("u1")))
    assert result.delivered and aws.meter.calls["timestream.WriteRecords"] == 0


def test_bulk_writes_respect_dynamodb_limits_for_a_big_batch():
    aws = memory_aws()  # the fakes refuse more than 25 items a write and 100 keys a read, as AWS does
    payloads = [e for u in range(150) for e in rage(f"user-{u}")]
    result = run(aws, records(*payloads))
    assert result.applied == 450 and len(aws.dynamodb.tables["UserState"]) == 150
    assert aws.meter.calls["dynamodb.BatchGetItem"] == 2 + 2  # states of 150 users, then the ledger of 150 sends
    assert aws.meter.calls["dynamodb.BatchWriteItem"] == -(-aws.meter.items_written // 25)


def test_a_resolution_after_an_intervention_is_recorded_as_an_outcome():
    aws = memory_aws()
    run(aws, records(*rage("u1")))
    done = event(feature="checkout", action="complete", t=T0 + 60_000)
    run(aws, records(done))
    outcomes = [v for k, v in aws.dynamodb.tables["Interventions"].items() if k[1].startswith("outcome#")]
    assert len(outcomes) == 1 and outcomes[0]["resolved"] == {"BOOL": True}


def test_an_abandoned_flow_completed_next_day_is_resolved_but_a_rage_tap_is_not():
    aws = memory_aws()
    day = 86_400_000
    run(aws, records(event(feature="booking", action="start", t=T0), event("app_lifecycle", action="background", t=T0 + 20_000)))
    run(aws, records(*rage("u1", t=T0 + 20_000 + 11 * 60_000)))  # back after the grace period: the flow was abandoned
    run(
        aws,
        records(
            event(feature="booking", action="complete", t=T0 + day), event(feature="checkout", action="complete", t=T0 + day)
        ),
    )
    outcomes = [v["signalType"]["S"] for k, v in aws.dynamodb.tables["Interventions"].items() if k[1].startswith("outcome#")]
    assert outcomes == ["abandonment"]


def _effects(aws) -> tuple:
    tables = aws.dynamodb.tables
    signals = sorted(item["sk"]["S"] for item in tables["StruggleSignals"].values())
    decisions = sorted(item["interventionId"]["S"] for item in tables["Interventions"].values())
    sent = sorted(json.loads(p["Message"])["interventionId"] for p in aws.sns.published)
    journaled = sorted(event_id for item in tables["UserEvents"].values() for event_id in journaled_event_ids(item))
    return signals, decisions, sent, journaled


def _mixed_stream(user="u1"):
    """A journey with out-of-order and clock-skewed events: taps, errors, a skewed late error, a help screen."""
    return [
        tap(T0, user=user),
        tap(T0 + 200, user=user),
        tap(T0 + 100, user=user),  # out of order
        tap(T0 + 400, user=user),
        tap(T0 + 600, user=user),
        event("error", user, T0 + 1_000, feature="checkout", errorType="card_declined"),
        event("error", user, T0 - 3_600_000, feature="checkout", errorType="skewed"),  # an hour behind
        event("error", user, T0 + 2_000, feature="checkout", errorType="card_declined"),
        event("screen_view", user, T0 + 3_000, screen="help_center"),
        event("feature_interaction", user, T0 + 4_000, feature="search", attemptCount=4),
    ]


def test_events_are_applied_in_stream_order_and_late_ones_skip_detection():
    aws = memory_aws()
    late = event("error", "u1", T0 - 3_600_000, feature="checkout", errorType="skewed")
    result = run(
        aws, records(event("error", "u1", T0, feature="checkout"), late, event("error", "u1", T0 + 1000, feature="checkout"))
    )
    assert result.late == 1 and result.applied == 3
    (signal,) = result.signals
    assert signal.context["errorsEncountered"] == ["error", "error"]  # the skewed error is not part of the pattern
    journaled = [event_id for item in aws.dynamodb.tables["UserEvents"].values() for event_id in journaled_event_ids(item)]
    assert late["eventId"] in journaled  # kept in the journal all the same


@pytest.mark.parametrize("cut", range(1, 10))
def test_a_retry_that_cuts_the_batch_elsewhere_has_the_same_effects(cut):
    """Kinesis replays from the lowest failed record and bisection halves batches: wherever the stream
    is cut, and even when the first attempt's writes (all but the state) landed, the effects match."""
    payloads = _mixed_stream()
    sequences = [next_sequence() for _ in payloads]
    whole = memory_aws()
    run(whole, records(*payloads, sequences=sequences))

    cut_up = memory_aws()
    crashed = memory_aws()  # a first attempt whose writes landed but whose state write did not
    run(crashed, records(*payloads, sequences=sequences))
    for table in ("StruggleSignals", "Interventions", "UserEvents"):
        cut_up.dynamodb.tables[table].update(crashed.dynamodb.tables[table])
    cut_up.sns.published.extend(crashed.sns.published)
    run(cut_up, records(*payloads[:cut], sequences=sequences[:cut]))
    run(cut_up, records(*payloads[cut:], sequences=sequences[cut:]))
    run(cut_up, records(*payloads, sequences=sequences))  # and the whole batch once more

    signals, decisions, sent, journaled = _effects(cut_up)
    assert (signals, decisions) == _effects(whole)[:2]
    assert len(sent) == len(set(sent)) == len(_effects(whole)[2])
    assert sorted(journaled) == sorted(p["eventId"] for p in payloads)


def _ledger(aws) -> dict:
    return {
        k[1]: item.get("delivery", {}).get("S")
        for k, item in aws.dynamodb.tables["Interventions"].items()
        if not k[1].startswith("outcome#")
    }


def test_a_crash_after_publishing_and_before_recording_never_sends_twice():
    """The ledger entry is written as pending before publishing; a replay that finds it pending does
    not publish again (at most once) and records the send as unconfirmed."""
    aws = memory_aws()
    store = aws.ports.store
    persist, crashed = store.persist, []

    def crash_once(writes):
        if not crashed:
            crashed.append(True)
            raise RuntimeError("sandbox ended between publishing and recording")
        return persist(writes)

    store.persist = crash_once
    batch = records(*rage("u1"))
    with pytest.raises(RuntimeError):
        run(aws, batch)
    assert list(_ledger(aws).values()) == ["pending"] and len(aws.sns.published) == 1
    replay = run(aws, batch)
    assert replay.unconfirmed == 1 and replay.delivered == [] and len(aws.sns.published) == 1
    assert list(_ledger(aws).values()) == ["unconfirmed"]


def test_when_recording_the_intent_fails_nothing_is_sent_and_the_user_is_retried():
    aws = memory_aws()
    store = aws.ports.store

    def throttled(decisions):
        raise TransientError("ProvisionedThroughputExceededException")

    store.record_intent = throttled
    batch = records(*rage("u1"), tap(T0, user="u2"))
    result = run(aws, batch)
    assert result.failed_sequences == {r.sequence for r in batch[:3]} and aws.sns.published == []
    del store.record_intent
    again = run(aws, batch[:3])
    assert len(again.delivered) == 1 and len(aws.sns.published) == 1 and list(_ledger(aws).values()) == ["delivered"]


class PushFailsOnce:
    """The topic announcement succeeds; the push after it fails transiently the first time."""

    def __init__(self, inner):
        self.inner, self.calls = inner, []

    def deliver(self, decisions, endpoints, announced=frozenset()):
        self.calls.append(set(announced))
        report = self.inner.deliver(decisions, endpoints, announced)
        if len(self.calls) == 1:
            report.failed.update({d.interventionId: "push: ThrottlingException" for d in decisions})
        return report


def test_a_push_that_fails_after_the_topic_announcement_is_retried_without_announcing_again():
    aws = memory_aws()
    notifier = aws.ports.notifier = PushFailsOnce(aws.ports.notifier)
    batch = records(*rage("u1"))
    first = run(aws, batch)
    assert first.failed_sequences and list(_ledger(aws).values()) == ["announced"]
    second = run(aws, batch)
    (iid,) = _ledger(aws)
    assert notifier.calls == [set(), {iid}]  # the retry knows the topic already has it
    assert len(aws.sns.published) == 1 and not second.failed_sequences and _ledger(aws)[iid] == "delivered"


def test_unprocessed_items_are_retried_and_an_empty_remainder_ends_the_rounds():
    """BatchWriteItem/BatchGetItem return what they left undone; only that is sent again (a table
    listed with nothing left is not a call: AWS rejects an empty list)."""
    from journey.adapters.aws.dynamodb import DynamoJourneyStore, TableNames

    class PartlyThrottled:
        def __init__(self):
            self.writes: list[dict] = []

        def batch_write_item(self, RequestItems):
            assert all(RequestItems.values()), f"an empty request list was sent: {RequestItems}"
            self.writes.append(RequestItems)
            if len(self.writes) == 1:
                table, requests = next(iter(RequestItems.items()))
                return {"UnprocessedItems": {table: requests[1:], "Other": []}}
            return {"UnprocessedItems": {"Other": []}}

    ddb = PartlyThrottled()
    store = DynamoJourneyStore(TableNames("S", "E", "G", "I"), dynamodb=ddb)
    items = [("S", {"userId": {"S": f"u{n}"}}) for n in range(3)]
    store._write(items)
    assert [sum(len(r) for r in call.values()) for call in ddb.writes] == [3, 2]
