"""Training data from a DynamoDB export of the stored journeys (ml.journeys): the export round trip
through DynamoDB (moto, the deployed key schemas, the project's item codecs), and the same history
as the stream processor kept."""

from __future__ import annotations

import gzip
import json
from dataclasses import replace
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from journey.adapters.aws.codecs.interventions import decision_item, escalation_item, outcome_item, report_item
from journey.adapters.aws.codecs.journal import journal_items
from journey.adapters.aws.codecs.signals import signal_item
from journey.agent.escalation import EscalationRecord, PendingEscalation
from journey.app.fold import UserWork, apply_events
from journey.events.records import Accepted
from journey.interventions.catalog import DEFAULT_CATALOG
from journey.interventions.outcomes import EpisodeOutcome, Report
from journey.interventions.policy import Outcome
from journey.kernel.clock import DAY_MS
from journey.resources import INTERVENTIONS, STRUGGLE_SIGNALS, USER_EVENTS
from journey.risk.features import feature_names
from journey.risk.training import replay
from journey.users.codec import decode_state, encode_state
from journey.users.state import UserState
from ml.journeys import ExportError, export_tables, load_export, training_data
from tests.builders import T0, canonical, event, timer, use_fake_aws_credentials
from tests.unit.test_risk_training import SETTINGS, journey_batches

SHARD = "shardId-000000000001"
EXPIRES = 2_000_000_000
DEPLOYED = {spec.logical_id: f"journey-{spec.logical_id}-1A2B3C" for spec in (USER_EVENTS, STRUGGLE_SIGNALS, INTERVENTIONS)}


def run_user(user: str, batches: list[list[dict]], first_sequence: int) -> tuple[UserState, list[dict], list[dict], list[dict]]:
    """Fold a user's batches through the processor's path; return the final state and the items the
    store would write for them (journal chunks, signals, decisions), built by the project's codecs."""
    state = UserState(userId=user)
    journal, signals, decisions = [], [], []
    sequence = first_sequence
    for batch in batches:
        records = []
        for raw in batch:
            sequence += 1
            mine = timer(raw["timestamp"], user) if raw["eventType"] == "timer" else {**raw, "userId": user}
            records.append(Accepted(canonical(mine), str(sequence), raw["timestamp"] / 1000))
        work = UserWork(state=state, records=records)
        apply_events(work, SETTINGS, DEFAULT_CATALOG)
        if work.journal:
            journal += journal_items(user, SHARD, work.journal, EXPIRES)
        signals += [signal_item(s, EXPIRES) for s in work.signals]
        decisions += [decision_item(d, EXPIRES) for d in work.decisions]
        state = decode_state(user, encode_state(state))
    return state, journal, signals, decisions


def _table(client, spec) -> None:
    keys = [(spec.partition_key, "HASH"), *([(spec.sort_key, "RANGE")] if spec.sort_key else [])]
    client.create_table(
        TableName=DEPLOYED[spec.logical_id],
        KeySchema=[{"AttributeName": name, "KeyType": kind} for name, kind in keys],
        AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"} for name, _ in keys],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture
def dynamodb(monkeypatch):
    use_fake_aws_credentials(monkeypatch)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        for spec in (USER_EVENTS, STRUGGLE_SIGNALS, INTERVENTIONS):
            _table(client, spec)
        yield client


def _put(client, logical: str, items: list[dict]) -> None:
    for item in items:
        client.put_item(TableName=DEPLOYED[logical], Item=item)


def _what_is_not_a_send(decisions: list[dict], user: str) -> list[dict]:
    """Items of the interventions table that are not sends: a held-out twin of a send, its outcome,
    an app's report, an escalation record."""
    sent = next(d for d in decisions if d["status"]["S"] == Outcome.SEND.value)
    iid, at = sent["interventionId"]["S"], int(sent["decidedAt"]["N"])
    held_out = {
        **sent,
        "interventionId": {"S": iid + "-h"},
        "status": {"S": "held_out"},
        "decidedAt": {"N": str(at + 7 * DAY_MS)},
    }
    pending = PendingEscalation("sig", "rage_tap", "pay", "high", "", "", at, at + 1, "hard", "e1", "")
    return [
        held_out,
        outcome_item(EpisodeOutcome(user, iid, "sig", "rage_tap", "pay", False, at + 8 * DAY_MS, 5), EXPIRES),
        report_item(Report(user, iid, "acted", at + 8 * DAY_MS, "req-1"), EXPIRES),
        escalation_item(replace(EscalationRecord.opened(user, "esc-1", pending), closedAt=at + 8 * DAY_MS), EXPIRES),
    ]


def _gone_quiet(signals: list[dict]) -> dict:
    """A re-engagement signal (the system's, about a silence) stored like a struggle signal: not one."""
    item = signals[0]
    at = int(item["detectedAt"]["N"]) + 7 * DAY_MS
    return {**item, "sk": {"S": f"quiet#{at:013d}#gone_quiet"}, "signalType": {"S": "gone_quiet"}, "detectedAt": {"N": str(at)}}


def test_an_export_round_trip_gives_the_histories_the_processor_kept(dynamodb, tmp_path):
    batches = journey_batches()
    states = {}
    for n, user in enumerate(("u1", "u2")):
        mine = batches if user == "u1" else batches[:2]  # u2 stops after the second batch
        state, journal, signals, decisions = run_user(user, mine, first_sequence=1000 * n)
        assert signals and any(d["status"]["S"] == "sent" for d in decisions)
        _put(dynamodb, USER_EVENTS.logical_id, journal)
        _put(dynamodb, STRUGGLE_SIGNALS.logical_id, [*signals, _gone_quiet(signals)])
        _put(dynamodb, INTERVENTIONS.logical_id, decisions + _what_is_not_a_send(decisions, user))
        states[user] = state

    manifest = export_tables(dynamodb, DEPLOYED, tmp_path, page_size=2)
    assert manifest["format"] == "DYNAMODB_JSON" and set(manifest["tables"]) == set(DEPLOYED)
    signals_export = manifest["tables"]["StruggleSignals"]
    assert signals_export["tableName"] == DEPLOYED["StruggleSignals"] and len(signals_export["dataFiles"]) >= 2  # paginated
    first_file = tmp_path / signals_export["dataFiles"][0]
    line = json.loads(gzip.decompress(first_file.read_bytes()).splitlines()[0])
    assert set(line) == {"Item"} and line["Item"]["userId"] in ({"S": "u1"}, {"S": "u2"})
    assert json.loads((tmp_path / "manifest.json").read_text()) == manifest

    journeys = {j.user_id: j for j in load_export(tmp_path)}
    assert set(journeys) == {"u1", "u2"}
    for user, state in states.items():
        assert replay(journeys[user], T0 + 365 * DAY_MS) == state.activity
    # held out, outcome, report and escalation items are not sends; a gone-quiet signal is not a struggle
    assert all(t < T0 + 7 * DAY_MS or t > T0 + 9 * DAY_MS for t in journeys["u2"].send_times)
    assert all(t < T0 + 7 * DAY_MS for t in journeys["u2"].signal_times)


def test_training_data_from_an_export(dynamodb, tmp_path):
    batches = journey_batches()
    for n in range(6):
        user = f"user-{n}"
        mine = batches if n % 2 else batches[:3]  # the odd ones come back on day 20, the even ones leave after day 9
        _, journal, signals, decisions = run_user(user, mine, first_sequence=1000 * n)
        _put(dynamodb, USER_EVENTS.logical_id, journal)
        _put(dynamodb, STRUGGLE_SIGNALS.logical_id, signals)
        _put(dynamodb, INTERVENTIONS.logical_id, decisions)
    export_tables(dynamodb, DEPLOYED, tmp_path)

    data = training_data(tmp_path, horizon_ms=7 * DAY_MS, vocabulary_size=3)
    assert data.names == list(feature_names(data.vocabulary)) and len(data.vocabulary) == 3
    end = T0 + 20 * DAY_MS + 9000  # the newest activity: the odd users' last event
    cutoffs = [end - 7 * DAY_MS - k * DAY_MS for k in range(3)]
    assert len(data.rows) == 6 * 3 and sorted(set(data.groups)) == [f"user-{n}" for n in range(6)]
    rows_at = {(user, cutoff): label for user, label, cutoff in zip(data.groups, data.labels, sorted(cutoffs) * 6, strict=True)}
    assert len(rows_at) == 18
    # the odd users' day-20 return is in the horizon of the latest cutoff only; the even ones never return
    labels = {(f"user-{n}", c): 0 if n % 2 and c == cutoffs[0] else 1 for n in range(6) for c in cutoffs}
    assert rows_at == labels
    assert any("6 users seen" in note for note in data.notes) and any(
        "positives (churned): 15 of 18" in note for note in data.notes
    )

    explicit = training_data(tmp_path, horizon_ms=7 * DAY_MS, cutoffs_ms=[cutoffs[0], end], vocabulary_size=3)
    assert len(explicit.rows) == 6 and any("skipped" in note for note in explicit.notes)


def test_what_is_missing_is_said_plainly(tmp_path, dynamodb):
    with pytest.raises(ExportError, match="make demo"):
        load_export(tmp_path / "nowhere")
    (tmp_path / "UserEvents" / "data").mkdir(parents=True)
    with pytest.raises(ExportError, match="no StruggleSignals/ folder"):
        load_export(tmp_path)
    export_tables(dynamodb, DEPLOYED, tmp_path)  # the tables are empty
    with pytest.raises(ExportError, match="no activity"):
        training_data(tmp_path, horizon_ms=DAY_MS)
    bad = tmp_path / "Interventions" / "data" / "zz.json.gz"
    bad.write_bytes(gzip.compress(b'{"Item": {"userId": {"S": "u1"}}}\nnot json\n'))
    with pytest.raises(ExportError, match=r"zz.json.gz, line 2"):
        load_export(tmp_path)


def test_training_data_says_why_there_are_no_rows(dynamodb, tmp_path):
    _, journal, _, _ = run_user("u1", [[event(t=T0, feature="plans", session="a")]], first_sequence=0)
    _put(dynamodb, USER_EVENTS.logical_id, journal)
    export_tables(dynamodb, DEPLOYED, tmp_path)
    with pytest.raises(ExportError, match="no training rows"):
        training_data(tmp_path, horizon_ms=DAY_MS, cutoffs_ms=[T0 - 60 * DAY_MS])


def test_an_export_as_aws_writes_it_reads_too(dynamodb, tmp_path):
    state, journal, signals, decisions = run_user("u1", journey_batches(), first_sequence=0)
    _put(dynamodb, USER_EVENTS.logical_id, journal)
    _put(dynamodb, STRUGGLE_SIGNALS.logical_id, signals)
    _put(dynamodb, INTERVENTIONS.logical_id, decisions)
    export_tables(dynamodb, DEPLOYED, tmp_path)
    (tmp_path / "manifest.json").unlink()
    for logical in DEPLOYED:  # <table>/AWSDynamoDB/<export id>/data/*.json.gz, as downloaded from S3
        moved = tmp_path / logical / "AWSDynamoDB" / "01700000000000-abcdef12"
        moved.mkdir(parents=True)
        Path(tmp_path / logical / "data").rename(moved / "data")
    (journey,) = load_export(tmp_path)
    assert replay(journey, T0 + 365 * DAY_MS) == state.activity
