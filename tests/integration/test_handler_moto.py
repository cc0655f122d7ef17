"""The real handler on moto, with Lambda's Kinesis event shape: good, poison, duplicate, partial failure."""

import json

import pytest
from botocore.exceptions import ClientError

from journey.adapters.aws.clients import client
from journey.adapters.aws.codecs.journal import journal_entries
from journey.errors import TransientError
from tests.builders import T0, kinesis_event, kinesis_record, tap


def rage(user, t=T0):
    return [kinesis_record(e, user) for e in (tap(t, user=user), tap(t + 200, user=user), tap(t + 400, user=user))]


def received(deployed):
    sqs = deployed.session.client("sqs")
    messages = sqs.receive_message(QueueUrl=deployed.subscriber, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def scan(deployed, table_env):
    return deployed.session.client("dynamodb").scan(TableName=deployed.env[table_env])["Items"]


def test_a_good_batch_detects_decides_stores_and_delivers(deployed, context):
    response = deployed.handler(kinesis_event(*rage("u1")), context)
    assert response == {"batchItemFailures": []}
    (signal,) = scan(deployed, "SIGNALS_TABLE")
    assert signal["signalType"]["S"] == "rage_tap" and signal["featureId"]["S"] == "checkout"
    decisions = scan(deployed, "INTERVENTIONS_TABLE")
    assert len(decisions) == 1 and decisions[0]["status"]["S"] in ("sent", "held_out")
    if decisions[0]["status"]["S"] == "sent":
        (message,) = received(deployed)
        assert message["interventionId"] == decisions[0]["interventionId"]["S"]
    (state,) = scan(deployed, "STATE_TABLE")
    assert int(state["exitRiskScore"]["N"]) >= 0 and state["riskBand"]["S"] in ("LOW", "MEDIUM", "HIGH")


def test_poison_records_are_quarantined_and_not_reported_as_failures(deployed, context):
    batch = kinesis_event(
        kinesis_record("***not base64***", "x"),
        kinesis_record(b"{broken", "x"),
        kinesis_record(b"x" * 70_000, "x"),
        kinesis_record({"eventType": "feature_interaction", "userId": "u1"}, "u1"),
        kinesis_record(tap(T0), "u1"),
    )
    assert deployed.handler(batch, context) == {"batchItemFailures": []}
    s3 = deployed.session.client("s3")
    bucket = deployed.env["QUARANTINE_BUCKET"]
    objects = s3.list_objects_v2(Bucket=bucket)["Contents"]  # one per record
    lines = sorted(
        (json.loads(s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()) for obj in objects),
        key=lambda q: int(q["sequenceNumber"]),
    )
    assert [line["code"] for line in lines] == ["bad_base64", "not_json", "oversize", "schema_violation"]
    assert "sessionId" in lines[3]["reason"] and "timestamp" in lines[3]["reason"]


def test_a_duplicate_delivery_is_dropped(deployed, context):
    first = tap(T0, user="u9")
    deployed.handler(kinesis_event(kinesis_record(first, "u9")), context)
    deployed.handler(kinesis_event(kinesis_record(first, "u9")), context)  # a producer retry: new sequence number
    (chunk,) = scan(deployed, "EVENTS_TABLE")
    assert len(journal_entries(chunk)) == 1


def test_a_transient_failure_reports_only_that_users_records_and_the_replay_sends_once(deployed, context, monkeypatch):
    monkeypatch.setenv("JOURNEY_POLICY__HOLDOUT_PERCENT", "0")
    from journey.settings import load_settings

    load_settings.cache_clear()
    sns = client("sns")
    calls = {"n": 0}

    def throttle_first_publish(**_):
        calls["n"] += 1
        if calls["n"] == 1:
            raise ClientError(
                {"Error": {"Code": "Throttling", "Message": "Rate exceeded"}, "ResponseMetadata": {"HTTPStatusCode": 400}},
                "PublishBatch",
            )

    sns.meta.events.register("before-call.sns.PublishBatch", throttle_first_publish)
    try:
        batch = kinesis_event(*rage("u1"), *rage("u2"), kinesis_record(tap(T0, user="u3"), "u3"))
        response = deployed.handler(batch, context)
        failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
        # one publish call held both users' sends; the third user had nothing to send and is done
        assert failed == {r["kinesis"]["sequenceNumber"] for r in batch["Records"][:6]}
        lowest = min(failed, key=int)
        replay = kinesis_event(*[r for r in batch["Records"] if int(r["kinesis"]["sequenceNumber"]) >= int(lowest)])
        assert deployed.handler(replay, context) == {"batchItemFailures": []}
        assert deployed.handler(replay, context) == {"batchItemFailures": []}  # and once more: still nothing twice
    finally:
        sns.meta.events.unregister("before-call.sns.PublishBatch", throttle_first_publish)
    messages = received(deployed)
    assert sorted(m["userId"] for m in messages) == ["u1", "u2"]


def test_a_store_outage_fails_the_invocation_so_the_mapping_retries_or_bisects(deployed, context):
    ddb = client("dynamodb")

    def outage(**_):
        raise ClientError(
            {"Error": {"Code": "InternalServerError", "Message": "boom"}, "ResponseMetadata": {"HTTPStatusCode": 500}},
            "BatchGetItem",
        )

    ddb.meta.events.register("before-call.dynamodb.BatchGetItem", outage)
    try:
        with pytest.raises(TransientError):
            deployed.handler(kinesis_event(*rage("u1")), context)
    finally:
        ddb.meta.events.unregister("before-call.dynamodb.BatchGetItem", outage)


def test_analytics_switch_off_keeps_everything_else_working(deployed, context, monkeypatch):
    monkeypatch.setenv("JOURNEY_SWITCHES__TIMESTREAM_ENABLED", "false")
    from journey.adapters.aws.factories import aws_ports
    from journey.settings import load_settings

    load_settings.cache_clear()
    aws_ports.cache_clear()
    assert aws_ports().analytics is None
    assert deployed.handler(kinesis_event(*rage("u3")), context) == {"batchItemFailures": []}
    assert scan(deployed, "SIGNALS_TABLE")


def test_metrics_are_emitted_as_embedded_metric_format(deployed, context, capsys):
    deployed.handler(kinesis_event(*rage("u5"), kinesis_record(b"{bad", "u5")), context)
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{") and '"_aws"' in line]
    names = {m["Name"] for blob in emf for d in blob["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert {"EventsIn", "EventsRejected", "Rejected_not_json", "Signals_rage_tap", "DecisionLatency"} <= names
    assert names & {"Interventions_in_app", "InterventionsHeldOut"}
