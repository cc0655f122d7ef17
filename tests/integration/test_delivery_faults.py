"""Every send ends in a known state, with SNS failing below botocore (``localrt.faults``) on a local moto
server: the real clients, error parsing and retry mode, the real adapters, a real SNS→SQS subscriber."""

from __future__ import annotations

import base64
import json
from collections import Counter
from itertools import count

import boto3
import pytest
from botocore.config import Config
from moto.server import ThreadedMotoServer

from journey.adapters.aws.dynamodb import DynamoJourneyStore, TableNames
from journey.adapters.aws.notifier import ChannelNotifier
from journey.adapters.aws.sns import SnsPlatformPush, SnsTopicChannel
from journey.app.delivery import deliver
from journey.app.ports import Ports, Writes
from journey.events.records import read_record
from journey.interventions.ledger import Delivery
from journey.interventions.policy import Decision
from journey.resources import INTERVENTIONS, STRUGGLE_SIGNALS, TABLES, USER_EVENTS, USER_STATE
from journey.settings import PolicySettings, Settings
from journey.users.state import UserState
from localrt.faults import FaultInjector, FaultPlan, disabled_endpoint, failing_publish, rejected_publish
from tests.builders import T0, next_sequence, send_decision, tap
from tests.builders import run_like_kinesis as retried_like_kinesis

pytestmark = pytest.mark.network_local
STORE_TABLES = (USER_STATE, USER_EVENTS, STRUGGLE_SIGNALS, INTERVENTIONS)  # the journey store's, in TableNames order

SETTINGS = Settings(policy=PolicySettings(holdout_percent=0))
USERS = 15  # one rage tap each: 15 sends, published as PublishBatch calls of 10 and 5
NO_FAULTS = {"dynamodb_rate": 0.0, "sns_rate": 0.0, "crash_rate": 0.0}
_names = count(1)


@pytest.fixture(scope="module")
def endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


class Aws:
    """Fresh tables, topic and subscriber queue on the shared server; the adapters on clients with
    botocore's standard retry mode (2 attempts, to keep the backoff short)."""

    def __init__(self, endpoint: str, *faults):
        n = next(_names)
        session = boto3.session.Session(aws_access_key_id="t", aws_secret_access_key="t", region_name="us-east-1")
        config = Config(retries={"mode": "standard", "max_attempts": 2})
        self.sns, self.ddb, self.sqs = (
            session.client(s, endpoint_url=endpoint, config=config) for s in ("sns", "dynamodb", "sqs")
        )
        names = {spec.logical_id: f"{spec.logical_id}-{n}" for spec in TABLES}
        for spec in TABLES:
            self.ddb.create_table(
                TableName=names[spec.logical_id],
                KeySchema=[{"AttributeName": k, "KeyType": t} for k, t in zip(spec.key_names, ("HASH", "RANGE"), strict=False)],
                AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in spec.key_names],
                BillingMode="PAY_PER_REQUEST",
            )
        self.interventions = names["Interventions"]
        topic = self.sns.create_topic(Name=f"interventions-{n}")["TopicArn"]
        self.queue = self.sqs.create_queue(QueueName=f"subscriber-{n}")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
        self.ports = Ports(
            store=DynamoJourneyStore(TableNames(*(names[s.logical_id] for s in STORE_TABLES)), dynamodb=self.ddb),
            notifier=ChannelNotifier(SnsTopicChannel(topic, sns=self.sns), push=SnsPlatformPush(sns=self.sns)),
            quarantine=None,  # type: ignore[arg-type] - no poison records here
        )
        self.publish_entries: Counter = Counter()  # interventionId -> PublishBatch calls that carried it
        self.sns.meta.events.register("before-parameter-build.sns.PublishBatch", self._count_entries)
        self.injector = FaultInjector(FaultPlan(**NO_FAULTS, sns_call_faults=faults))
        self.injector.attach({"sns": self.sns, "dynamodb": self.ddb})

    def _count_entries(self, params, **_):
        for entry in params.get("PublishBatchRequestEntries", []):
            self.publish_entries[json.loads(entry["Message"])["interventionId"]] += 1

    def ledger(self) -> dict[str, dict]:
        items = self.ddb.scan(TableName=self.interventions)["Items"]
        return {
            i["interventionId"]["S"]: {k: i[k]["S"] for k in ("delivery", "deliveryError") if k in i}
            for i in items
            if not i["interventionId"]["S"].startswith("outcome#")
        }

    def received(self) -> Counter:
        got: Counter = Counter()
        while messages := self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10).get("Messages", []):
            got.update(json.loads(m["Body"])["interventionId"] for m in messages)
            self.sqs.delete_message_batch(
                QueueUrl=self.queue, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
            )
        return got


def batch(users=USERS):
    payloads = [tap(T0 + step, user=f"u{n:02d}") for n in range(users) for step in (0, 200, 400)]
    return [read_record(next_sequence(), "pk", base64.b64encode(json.dumps(p).encode()).decode(), 0.0, 65_536) for p in payloads]


def run_like_kinesis(aws: Aws, records, max_attempts=4):
    return retried_like_kinesis(aws.ports, records, SETTINGS, max_attempts)


def test_a_400_on_the_second_publish_settles_five_sends_undeliverable_with_the_reason(endpoint):
    """The outside tester's case: 5 of 15 sends refused by SNS (InvalidParameter). Before the fix the
    error failed the batch and the replay read every send as ``unconfirmed``."""
    aws = Aws(endpoint, rejected_publish(2))
    records = batch()
    first = run_like_kinesis(aws, records)
    run_like_kinesis(aws, records)  # the same records redelivered

    assert first[0] is not None and not first[0].failed_sequences
    ledger, received = aws.ledger(), aws.received()
    assert Counter(s["delivery"] for s in ledger.values()) == {"delivered": 10, "undeliverable": 5}
    for iid, state in ledger.items():
        if state["delivery"] == "delivered":
            assert received[iid] == 1 and "deliveryError" not in state
        else:
            assert received[iid] == 0 and "InvalidParameter" in state["deliveryError"]
            assert aws.publish_entries[iid] == 1  # tried once, never again
    assert aws.injector.counts.injected == {"sns_PublishBatch_InvalidParameter_400": 1}


def test_a_transient_error_on_the_second_publish_is_retried_on_replay_and_delivered_once(endpoint):
    aws = Aws(endpoint, failing_publish(2))
    records = batch()
    first = run_like_kinesis(aws, records)
    run_like_kinesis(aws, records)

    assert first[0] is not None and len(first[0].failed_sequences) == 5 * 3 and not first[-1].failed_sequences
    ledger, received = aws.ledger(), aws.received()
    assert Counter(s["delivery"] for s in ledger.values()) == {"delivered": USERS}
    assert not any("deliveryError" in s for s in ledger.values())
    assert set(received) == set(ledger) and set(received.values()) == {1}


def push_decision(n: int) -> Decision:
    return send_decision(n, user=f"p{n}", intervention_id=f"i-push-{n}", decided_at=T0)


def test_a_push_to_a_disabled_endpoint_is_undeliverable_and_says_the_topic_announced_it(endpoint):
    aws = Aws(endpoint, disabled_endpoint(2))
    app = aws.sns.create_platform_application(Name="app", Platform="GCM", Attributes={"PlatformCredential": "k"})
    states = {}
    for n in range(3):
        arn = aws.sns.create_platform_endpoint(PlatformApplicationArn=app["PlatformApplicationArn"], Token=f"tok-{n}")
        states[f"p{n}"] = UserState(userId=f"p{n}", push_endpoint=arn["EndpointArn"])
    sends = [push_decision(n) for n in range(3)]

    sending = deliver(sends, states, aws.ports)
    aws.ports.store.persist(Writes(decisions=sends, delivery=sending.delivery, delivery_errors=sending.errors))
    again = deliver(sends, states, aws.ports)  # a replay: everything is settled

    assert sending.delivery == {
        "i-push-0": Delivery.DELIVERED,
        "i-push-1": Delivery.UNDELIVERABLE,
        "i-push-2": Delivery.DELIVERED,
    }
    assert not sending.failed and set(sending.errors) == {"i-push-1"}
    assert "EndpointDisabled" in sending.errors["i-push-1"] and "announced" in sending.errors["i-push-1"]
    assert aws.received() == {"i-push-0": 1, "i-push-1": 1, "i-push-2": 1}  # the topic has all three
    assert again.skipped == {"i-push-0", "i-push-1", "i-push-2"} and aws.injector.counts.injected == {
        "sns_Publish_EndpointDisabled_400": 1
    }
    assert aws.ledger()["i-push-1"]["delivery"] == "undeliverable"
