"""Commands folded by the stream processor, the one writer (DESIGN.md rule 1): consent, an app's
report on an intervention, erasure (everything of the user removed, a tombstone refusing their
events until consent is given again, an audit record without personal data)."""

import base64
import json

from journey.adapters.aws.s3 import owner_prefix
from journey.app.stream_batch import process_batch
from journey.errors import TransientError
from journey.events.commands import consent_command, erase_command, outcome_command
from journey.events.records import read_record
from journey.interventions.catalog import DEFAULT_CATALOG
from journey.kernel.tenancy import tenant_day
from journey.settings import PolicySettings, Settings
from localrt.memory_ports import memory_aws
from tests.builders import T0, event, next_sequence, tap

SETTINGS = Settings(policy=PolicySettings(holdout_percent=0))
USER = "p-user-one"


def records(*payloads, key=USER):
    out = []
    for payload in payloads:
        data = payload if isinstance(payload, str) else base64.b64encode(json.dumps(payload).encode()).decode()
        out.append(
            read_record(
                next_sequence(), key, data, (payload.get("timestamp", T0) if isinstance(payload, dict) else T0) / 1000, 65_536
            )
        )
    return out


def run(aws, items):
    return process_batch(items, aws.ports, SETTINGS, DEFAULT_CATALOG, "shardId-000000000000/batch")


def tenant_event(kind="feature_interaction", t=T0, **data):
    return {**event(kind, user=USER, t=t, **data), "tenantId": "demo"}


def rage(t=T0):
    return [{**tap(t + dt, user=USER), "tenantId": "demo"} for dt in (0, 200, 400)]


def items_of(aws, table):
    return [item for key, item in aws.dynamodb.tables[table].items() if key[0] == USER]


def test_items_carry_their_tenant_and_the_tenant_day_the_analytics_read():
    aws = memory_aws()
    run(aws, records(*rage()))
    [signal] = items_of(aws, "StruggleSignals")
    [decision] = items_of(aws, "Interventions")
    assert signal["tenant"]["S"] == decision["tenant"]["S"] == "demo"
    assert signal["tenantDay"]["S"] == tenant_day("demo", T0) == decision["tenantDay"]["S"]


def test_events_naming_no_tenant_belong_to_the_default_tenant():
    aws = memory_aws()
    run(aws, records(*[tap(T0 + dt, user=USER) for dt in (0, 200, 400)]))
    [signal] = items_of(aws, "StruggleSignals")
    assert signal["tenant"]["S"] == "default"


def test_an_outcome_report_is_stored_beside_the_decision_without_rewriting_it():
    aws = memory_aws()
    run(aws, records(*rage()))
    [decision] = items_of(aws, "Interventions")
    iid = decision["interventionId"]["S"]
    before = dict(decision)
    result = run(aws, records(outcome_command(USER, "demo", iid, "shown", "r1", USER, T0 + 5000)))
    assert result.commands["outcome"] == 1
    reports = [i for i in items_of(aws, "Interventions") if i["interventionId"]["S"].startswith("report#")]
    assert [(r["interventionId"]["S"], r["outcome"]["S"], r["reportOf"]["S"]) for r in reports] == [
        (f"report#{iid}#shown", "shown", iid)
    ]
    assert aws.dynamodb.tables["Interventions"][(USER, iid)] == before
    # a retried request is one command (its event id comes from the request id): nothing new
    again = run(aws, records(outcome_command(USER, "demo", iid, "shown", "r1", USER, T0 + 5000)))
    assert again.duplicates == 1 and again.commands["outcome"] == 0


def test_a_consent_command_changes_the_channels_the_policy_may_use():
    aws = memory_aws()
    run(aws, records(consent_command(USER, "demo", {"inApp": False, "push": False, "messages": False}, "r1", USER, T0)))
    result = run(aws, records(*rage(T0 + 1000)))
    assert [s.outcome for s in result.signals] == ["suppressed:no_in_app_consent"] and result.delivered == []


def test_erasure_removes_every_item_and_quarantined_record_of_the_user_and_keeps_a_tombstone():
    aws = memory_aws()
    other = "p-someone-else"
    run(aws, records(*rage()))
    run(aws, records(*[{**tap(T0 + dt, user=other), "tenantId": "demo"} for dt in (0, 200, 400)], key=other))
    run(aws, records("{not json", key=USER))  # a quarantined record of the user
    run(aws, records(outcome_command(USER, "demo", "i-x", "shown", "r0", USER, T0 + 900)))
    assert aws.s3.objects and items_of(aws, "UserEvents") and items_of(aws, "Interventions")
    aws.dynamodb.put_item(
        TableName="Identities", Item={"userId": {"S": USER}, "tenant": {"S": "demo"}, "externalId": {"S": "bob"}}
    )
    aws.dynamodb.put_item(TableName="ContextAnalyses", Item={"userId": {"S": USER}, "analysis": {"S": "{}"}})

    result = run(aws, records(erase_command(USER, "demo", "req-1", "arn:aws:iam::123456789012:role/privacy", T0 + 2000)))

    removed = result.erased[USER]
    assert removed["UserEvents"] >= 1 and removed["StruggleSignals"] == 1 and removed["Interventions"] >= 2
    assert removed["quarantine"] == 1 and removed["Identities"] == 1 and removed["ContextAnalyses"] == 1
    for table in ("UserEvents", "StruggleSignals", "Interventions", "Identities", "ContextAnalyses"):
        assert items_of(aws, table) == [], table
    assert not [k for k in aws.s3.objects if k.startswith(owner_prefix(USER))]
    [tombstone] = items_of(aws, "UserState")
    assert "erasedAt" in tombstone and "ttl" not in tombstone  # a tombstone does not expire
    audit = aws.dynamodb.tables["PrivacyAudit"][("req-1",)]
    assert audit["requestedBy"]["S"].endswith("role/privacy") and audit["removed"]["M"]["quarantine"]["N"] == "1"
    assert USER not in json.dumps(audit) and "bob" not in json.dumps(audit)  # no personal data in the audit
    # the other user is untouched
    assert [k for k in aws.dynamodb.tables["StruggleSignals"] if k[0] == other]

    # their new events are refused, not stored, not kept
    later = run(aws, records(*rage(T0 + 60_000)))
    assert later.refused_erased == 3 and later.signals == [] and items_of(aws, "UserEvents") == []
    assert not [k for k in aws.s3.objects if k.startswith(owner_prefix(USER))]

    # until consent is given again
    run(aws, records(consent_command(USER, "demo", {"inApp": True, "push": False, "messages": False}, "r2", USER, T0 + 70_000)))
    back = run(aws, records(*rage(T0 + 80_000)))
    assert back.refused_erased == 0 and [s.signalType.value for s in back.signals] == ["rage_tap"]


def test_events_before_an_erase_in_the_same_batch_are_not_written_and_those_after_are_refused():
    aws = memory_aws()
    result = run(
        aws,
        records(
            *rage(), erase_command(USER, "demo", "req-2", "ops", T0 + 1000), tenant_event("page_view", T0 + 2000, screen="home")
        ),
    )
    assert result.signals == [] and result.delivered == [] and result.refused_erased == 1
    assert items_of(aws, "UserEvents") == [] and items_of(aws, "StruggleSignals") == [] and items_of(aws, "Interventions") == []


def test_an_interrupted_erasure_is_retried_and_writes_nothing_of_the_user_meanwhile(monkeypatch):
    aws = memory_aws()
    run(aws, records(*rage()))
    calls = []

    def failing(request, tombstone):
        calls.append(request)
        raise TransientError("throttled")

    monkeypatch.setattr(aws.ports.eraser, "erase", failing)
    batch = records(erase_command(USER, "demo", "req-3", "ops", T0 + 1000))
    result = run(aws, batch)
    assert result.failed_sequences == {batch[0].sequence} and len(calls) == 1
    [state] = items_of(aws, "UserState")
    assert "erasedAt" not in state  # not yet a tombstone: the retry erases again


def test_the_tombstone_is_written_before_anything_is_removed_and_the_identity_last(monkeypatch):
    # found by review: an ingest between the identity's deletion and the tombstone re-created the identity
    aws = memory_aws()
    run(aws, records(*rage()))
    order = []
    write = aws.dynamodb.batch_write_item

    def recording(RequestItems):
        for table, requests in RequestItems.items():
            order.extend((table, next(iter(r))) for r in requests)
        return write(RequestItems=RequestItems)

    monkeypatch.setattr(aws.dynamodb, "batch_write_item", recording)
    run(
        aws,
        records(erase_command(USER, "demo", "req-4", "ops", T0 + 1000), erase_command(USER, "demo", "req-5", "ops", T0 + 1001)),
    )
    erasure = [entry for entry in order if entry[0] != "PrivacyAudit"]
    assert erasure[0] == ("UserState", "PutRequest")
    assert ("Identities", "DeleteRequest") in erasure and erasure.index(("Identities", "DeleteRequest")) > max(
        i for i, entry in enumerate(erasure[:-1]) if entry[0] in ("UserEvents", "StruggleSignals", "Interventions")
    )
    # two requests in one batch: each carried out and audited
    assert set(aws.dynamodb.tables["PrivacyAudit"]) == {("req-4",), ("req-5",)}
