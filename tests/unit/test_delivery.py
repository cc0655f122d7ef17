"""Delivery adapters where moto is silent or failure matters: botocore Stubber with AWS's response shapes."""

import boto3
import pytest
from botocore.stub import ANY, Stubber

from journey.adapters.aws.eum import EndUserMessagingPush
from journey.adapters.aws.sns import SnsTopicChannel
from journey.detection.signals import Severity, SignalType
from journey.interventions.catalog import Channel
from journey.interventions.policy import Decision, Outcome

TOPIC = "arn:aws:sns:us-east-1:123456789012:interventions"


def decision(n=1, channel=Channel.PUSH):
    return Decision(
        f"i-{n}",
        "u1",
        f"s-{n}",
        SignalType.ABANDONMENT,
        "booking",
        Severity.MEDIUM,
        "resume_reminder",
        Outcome.SEND,
        channel,
        "policy_passed",
        "rule:resume_reminder",
        1,
        "Your progress in booking is saved.",
        f"e{n}",
    )


def client(service):
    return boto3.client(service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def send_messages_response(token, status):
    return {
        "MessageResponse": {
            "ApplicationId": "app",
            "Result": {
                token: {"DeliveryStatus": status, "StatusCode": 200 if status == "SUCCESSFUL" else 429, "StatusMessage": status}
            },
        }
    }


@pytest.mark.parametrize(
    "status, transient", [("SUCCESSFUL", False), ("TEMPORARY_FAILURE", True), ("THROTTLED", True), ("PERMANENT_FAILURE", False)]
)
def test_end_user_messaging_send_messages(status, transient):
    pinpoint = client("pinpoint")
    with Stubber(pinpoint) as stub:
        stub.add_response(
            "send_messages",
            send_messages_response("tok", status),
            {
                "ApplicationId": "app",
                "MessageRequest": {
                    "Addresses": {"tok": {"ChannelType": "GCM"}},
                    "MessageConfiguration": {
                        "DefaultPushNotificationMessage": {
                            "Action": "OPEN_APP",
                            "Body": decision().message,
                            "Data": {"interventionId": "i-1"},
                        }
                    },
                },
            },
        )
        error = EndUserMessagingPush("app", pinpoint=pinpoint).send(decision(), "tok")
    assert (error is not None) is transient


def test_end_user_messaging_throttling_is_transient_and_bad_requests_are_not():
    pinpoint = client("pinpoint")
    with Stubber(pinpoint) as stub:
        stub.add_client_error("send_messages", service_error_code="TooManyRequestsException", http_status_code=429)
        stub.add_client_error("send_messages", service_error_code="BadRequestException", http_status_code=400)
        push = EndUserMessagingPush("app", pinpoint=pinpoint)
        assert "TooManyRequests" in push.send(decision(), "tok")
        with pytest.raises(Exception, match="BadRequest"):
            push.send(decision(), "tok")


def test_topic_publish_batches_ten_and_reports_failed_entries():
    sns = client("sns")
    decisions = [decision(n, Channel.IN_APP) for n in range(12)]
    with Stubber(sns) as stub:
        stub.add_response(
            "publish_batch",
            {
                "Successful": [{"Id": str(i), "MessageId": f"m{i}"} for i in range(9)],
                "Failed": [{"Id": "9", "Code": "InternalError", "SenderFault": False, "Message": "try again"}],
            },
        )
        stub.add_response(
            "publish_batch", {"Successful": [{"Id": "0", "MessageId": "m10"}, {"Id": "1", "MessageId": "m11"}], "Failed": []}
        )
        failures = SnsTopicChannel(TOPIC, sns=sns).publish(decisions)
    assert failures == {"i-9": "InternalError: try again"}


def test_topic_throttling_fails_the_chunk_transiently():
    sns = client("sns")
    with Stubber(sns) as stub:
        stub.add_client_error("publish_batch", service_error_code="Throttling", http_status_code=400)
        failures = SnsTopicChannel(TOPIC, sns=sns).publish([decision(1), decision(2)])
    assert set(failures) == {"i-1", "i-2"}


def test_the_notifier_skips_the_topic_for_announced_sends_and_reports_what_the_topic_has():
    from journey.adapters.aws.notifier import ChannelNotifier
    from journey.adapters.aws.sns import SnsPlatformPush

    sns = client("sns")
    endpoint = "arn:aws:sns:us-east-1:123456789012:endpoint/GCM/app/e1"
    with Stubber(sns) as stub:
        only_one_entry = {"TopicArn": TOPIC, "PublishBatchRequestEntries": [ANY]}  # i-2 only: i-1 was announced before
        stub.add_response("publish_batch", {"Successful": [{"Id": "0", "MessageId": "m0"}], "Failed": []}, only_one_entry)
        stub.add_response("publish", {"MessageId": "p1"})
        stub.add_client_error("publish", service_error_code="Throttling", http_status_code=400)
        notifier = ChannelNotifier(SnsTopicChannel(TOPIC, sns=sns), push=SnsPlatformPush(sns=sns))
        report = notifier.deliver([decision(1), decision(2)], {"u1": endpoint}, announced=frozenset({"i-1"}))
    assert report.announced == {"i-1", "i-2"} and set(report.failed) == {"i-2"}
