"""Every send ends in a known state (DESIGN.md rule 5): delivered, undeliverable with its reason
(permanent: never sent again), or unknown (a crash window). The batch pipeline against in-memory AWS,
with SNS failing the way AWS fails, retried the way Kinesis retries."""

import base64
import json
from collections import Counter

import pytest

from journey.app.ports import DeliveryReport
from journey.app.stream_batch import process_batch
from journey.events.records import read_record
from journey.interventions.catalog import DEFAULT_CATALOG
from journey.settings import PolicySettings, Settings
from localrt.faults import CallFault, failing_publish, rejected_publish
from localrt.memory_ports import memory_aws
from tests.builders import T0, next_sequence, tap
from tests.builders import run_like_kinesis as retried_like_kinesis

SETTINGS = Settings(policy=PolicySettings(holdout_percent=0))
USERS = 15  # one rage tap each: 15 sends, published as PublishBatch calls of 10 and 5


def records(payloads):
    return [read_record(next_sequence(), "pk", base64.b64encode(json.dumps(p).encode()).decode(), 0.0, 65_536) for p in payloads]


def rage_taps(users=USERS, feature="checkout", t=T0):
    return [tap(t + step, user=f"u{n:02d}", feature=feature) for n in range(users) for step in (0, 200, 400)]


def run_like_kinesis(aws, batch, max_attempts=4):
    return retried_like_kinesis(aws.ports, batch, SETTINGS, max_attempts)


def ledger(aws) -> dict[str, dict]:
    return {
        key[1]: {name: value.get("S") for name, value in item.items() if name in ("delivery", "deliveryError", "status")}
        for key, item in aws.dynamodb.tables["Interventions"].items()
        if not key[1].startswith("outcome#")
    }


def topic_sends(aws) -> Counter:
    """interventionId -> how many times the topic published it (what a subscriber receives)."""
    return Counter(json.loads(e["Message"])["interventionId"] for e in aws.sns.published if "Message" in e and "Id" in e)


def publish_attempts(aws) -> int:
    return aws.meter.calls["sns.PublishBatch"]


def test_a_rejected_publish_settles_its_sends_as_undeliverable_with_the_reason_and_never_retries_them():
    """The outside tester's case: a 400 InvalidParameter on the second PublishBatch (5 of 15 sends)."""
    aws = memory_aws()
    aws.sns.faults[("PublishBatch", 2)] = rejected_publish(2).client_error()
    batch = records(rage_taps())
    first = run_like_kinesis(aws, batch)
    redelivered = run_like_kinesis(aws, batch)  # Kinesis may deliver the same records again

    assert first[0] is not None and not first[0].failed_sequences, "a permanent failure is not retried"
    assert len(first) == 1 and redelivered[0] is not None and redelivered[0].delivered == []
    states = ledger(aws)
    assert len(states) == USERS
    assert Counter(s["delivery"] for s in states.values()) == {"delivered": 10, "undeliverable": 5}
    sent = topic_sends(aws)
    for iid, state in states.items():
        if state["delivery"] == "delivered":
            assert sent[iid] == 1 and not state.get("deliveryError")
        else:
            assert sent[iid] == 0 and "InvalidParameter" in state["deliveryError"]
    assert publish_attempts(aws) == 2  # the rejected call once, and nothing again on the redelivery


def test_a_transient_publish_failure_is_retried_on_replay_and_delivered_exactly_once():
    aws = memory_aws()
    aws.sns.faults[("PublishBatch", 2)] = failing_publish(2).client_error()
    batch = records(rage_taps())
    first = run_like_kinesis(aws, batch)
    run_like_kinesis(aws, batch)

    assert len(first[0].failed_sequences) == 5 * 3 and first[-1] is not None and not first[-1].failed_sequences
    states = ledger(aws)
    assert Counter(s["delivery"] for s in states.values()) == {"delivered": USERS}
    assert not any(s.get("deliveryError") for s in states.values())
    assert set(topic_sends(aws).values()) == {1} and len(topic_sends(aws)) == USERS


@pytest.mark.parametrize(
    "fault, transient",
    [
        (CallFault("PublishBatch", 1, "Throttling", 400), True),
        (CallFault("PublishBatch", 1, "KMSThrottling", 400), True),
        (CallFault("PublishBatch", 1, "InternalError", 500), True),
        (CallFault("PublishBatch", 1, "AuthorizationError", 403), False),
        (CallFault("PublishBatch", 1, "KMSDisabled", 400), False),
    ],
)
def test_a_whole_call_error_is_classified_by_code_and_status(fault, transient):
    aws = memory_aws()
    aws.sns.faults[("PublishBatch", 1)] = fault.client_error()
    result = process_batch(records(rage_taps(users=2)), aws.ports, SETTINGS, DEFAULT_CATALOG, "shard/batch")
    states = ledger(aws)
    if transient:
        assert len(result.failed_sequences) == 6 and {s["delivery"] for s in states.values()} == {"failed"}
    else:
        assert not result.failed_sequences and {s["delivery"] for s in states.values()} == {"undeliverable"}
    assert all(fault.code in s["deliveryError"] for s in states.values())


def test_failed_entries_are_settled_per_entry_by_sender_fault():
    """PublishBatch reports each refused entry with SenderFault: true (the entry was wrong: permanent)
    or false (SNS's side: transient); the rest of the call went through."""
    aws = memory_aws()
    batch = records(rage_taps(users=3))
    aws.sns.failed_entries['"userId":"u00"'] = {"Code": "InvalidParameter", "SenderFault": True, "Message": "too long"}
    aws.sns.failed_entries['"userId":"u01"'] = {"Code": "InternalError", "SenderFault": False, "Message": "try again"}
    first = process_batch(batch, aws.ports, SETTINGS, DEFAULT_CATALOG, "shard/batch")
    by_user = {s["delivery"]: s for s in ledger(aws).values()}
    assert set(by_user) == {"undeliverable", "failed", "delivered"}
    assert "InvalidParameter" in by_user["undeliverable"]["deliveryError"]
    assert "InternalError" in by_user["failed"]["deliveryError"]
    assert {r.sequence for r in batch[3:6]} == first.failed_sequences  # only u01 is retried
    aws.sns.failed_entries.clear()
    run_like_kinesis(aws, batch)
    assert Counter(s["delivery"] for s in ledger(aws).values()) == {"delivered": 2, "undeliverable": 1}
    assert sorted(topic_sends(aws).values()) == [1, 1]


class Scripted:
    """A Notifier that reports what it is told to, per interventionId, for the sends it is given."""

    def __init__(self, **outcomes):
        self.outcomes, self.calls = outcomes, []

    def deliver(self, decisions, endpoints, announced=frozenset()):
        self.calls.append([d.interventionId for d in decisions])
        report = DeliveryReport(announced=set(announced))
        for d in decisions:
            kind, reason = self.outcomes.get(d.userId, ("ok", ""))
            if kind == "ok":
                report.announced.add(d.interventionId)
            else:
                getattr(report, kind)[d.interventionId] = reason
        return report


def test_deliver_records_each_outcome_with_its_reason_and_retries_only_the_transient():
    aws = memory_aws()
    aws.ports.notifier = Scripted(
        u00=("failed", "topic: Throttling: slow down"),
        u01=("undeliverable", "topic: InvalidParameter: bad"),
        u02=("unknown", "topic: RuntimeError: boom"),
    )
    batch = records(rage_taps(users=4))
    result = process_batch(batch, aws.ports, SETTINGS, DEFAULT_CATALOG, "shard/batch")
    by_state = {s["delivery"]: s for s in ledger(aws).values()}
    assert set(by_state) == {"failed", "undeliverable", "unconfirmed", "delivered"}
    assert by_state["failed"]["deliveryError"] == "topic: Throttling: slow down"
    assert by_state["undeliverable"]["deliveryError"] == "topic: InvalidParameter: bad"
    assert (
        "outcome unknown" in by_state["unconfirmed"]["deliveryError"]
        and "RuntimeError" in by_state["unconfirmed"]["deliveryError"]
    )
    assert result.failed_users == {"u00"} and result.failed_sequences == {r.sequence for r in batch[:3]}

    aws.ports.notifier.outcomes.clear()
    replay = process_batch(batch[:3], aws.ports, SETTINGS, DEFAULT_CATALOG, "shard/batch")
    assert not replay.failed_sequences and len(aws.ports.notifier.calls) == 2 and len(aws.ports.notifier.calls[1]) == 1
    assert Counter(s["delivery"] for s in ledger(aws).values()) == {"delivered": 2, "undeliverable": 1, "unconfirmed": 1}


def test_a_send_found_pending_on_a_replay_is_unconfirmed_with_a_reason():
    aws = memory_aws()
    store = aws.ports.store
    persist = store.persist
    store.persist = lambda writes: (_ for _ in ()).throw(RuntimeError("sandbox ended before recording"))
    batch = records(rage_taps(users=1))
    with pytest.raises(RuntimeError):
        process_batch(batch, aws.ports, SETTINGS, DEFAULT_CATALOG, "shard/batch")
    store.persist = persist
    replay = process_batch(batch, aws.ports, SETTINGS, DEFAULT_CATALOG, "shard/batch")
    (state,) = ledger(aws).values()
    assert replay.unconfirmed == 1 and state["delivery"] == "unconfirmed" and "outcome unknown" in state["deliveryError"]
    assert topic_sends(aws) == Counter({next(iter(ledger(aws))): 1})


def test_a_replayed_user_keeps_the_reason_of_an_earlier_permanent_failure():
    aws = memory_aws()
    batch = records(rage_taps(users=1, feature="checkout") + rage_taps(users=1, feature="upload", t=T0 + 1000))
    aws.sns.failed_entries['"featureId":"checkout"'] = {"Code": "InvalidParameter", "SenderFault": True, "Message": "bad"}
    aws.sns.failed_entries['"featureId":"upload"'] = {"Code": "InternalError", "SenderFault": False, "Message": "again"}
    first = process_batch(batch, aws.ports, SETTINGS, DEFAULT_CATALOG, "shard/batch")
    assert first.failed_users == {"u00"}
    aws.sns.failed_entries.clear()
    process_batch(batch, aws.ports, SETTINGS, DEFAULT_CATALOG, "shard/batch")
    states = sorted((s["delivery"], s.get("deliveryError")) for s in ledger(aws).values())
    assert [s for s, _ in states] == ["delivered", "undeliverable"]
    assert "InvalidParameter" in states[1][1]
