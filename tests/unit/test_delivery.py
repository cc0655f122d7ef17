"""Delivery adapters where moto is silent or failure matters: botocore Stubber with AWS's response shapes."""

import boto3
import pytest
from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError, ParamValidationError, ReadTimeoutError
from botocore.stub import ANY, Stubber

from journey.adapters.aws.clients import Failure, failure_of
from journey.adapters.aws.eum import EndUserMessagingPush
from journey.adapters.aws.notifier import ChannelNotifier
from journey.adapters.aws.sns import SnsPlatformPush, SnsTopicChannel
from journey.interventions.catalog import Channel
from tests.builders import send_decision

TOPIC = "arn:aws:sns:us-east-1:123456789012:interventions"


def decision(n=1, channel=Channel.PUSH):
    return send_decision(n, channel)


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
    "status, outcome",
    [
        ("SUCCESSFUL", None),
        ("TEMPORARY_FAILURE", "transient"),
        ("THROTTLED", "transient"),
        ("PERMANENT_FAILURE", "permanent"),
        ("OPT_OUT", "permanent"),
        ("DUPLICATE", "permanent"),
        ("UNKNOWN_FAILURE", "permanent"),  # not sent again: a resend could reach the user twice
    ],
)
def test_end_user_messaging_send_messages(status, outcome):
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
        failure = EndUserMessagingPush("app", pinpoint=pinpoint).send(decision(), "tok")
    if outcome is None:
        assert failure is None
    else:
        assert failure.transient is (outcome == "transient") and status in failure.reason and not failure.uncertain


def test_end_user_messaging_throttling_is_transient_and_bad_requests_are_permanent_never_raised():
    pinpoint = client("pinpoint")
    with Stubber(pinpoint) as stub:
        stub.add_client_error("send_messages", service_error_code="TooManyRequestsException", http_status_code=429)
        stub.add_client_error("send_messages", service_error_code="BadRequestException", http_status_code=400)
        stub.add_client_error("send_messages", service_error_code="InternalServerErrorException", http_status_code=500)
        push = EndUserMessagingPush("app", pinpoint=pinpoint)
        throttled, bad, internal = (push.send(decision(), "tok") for _ in range(3))
    assert throttled.transient and "TooManyRequests" in throttled.reason
    assert not bad.transient and "BadRequest" in bad.reason
    assert internal.transient


@pytest.mark.parametrize(
    "code, status, transient",
    [
        ("Throttling", 400, True),  # SNS throttles with a 400
        ("KMSThrottling", 400, True),
        ("TooManyRequestsException", 429, True),
        ("InternalError", 500, True),
        ("ServiceUnavailable", 503, True),
        ("InvalidParameter", 400, False),
        ("EndpointDisabled", 400, False),
        ("PlatformApplicationDisabled", 400, False),
        ("AuthorizationError", 403, False),
        ("NotFound", 404, False),
    ],
)
def test_an_aws_error_is_transient_for_throttling_and_5xx_and_permanent_for_other_4xx(code, status, transient):
    error = ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Publish")
    failure = failure_of(error)
    assert failure.transient is transient and not failure.uncertain and failure.reason == f"{code}: m"


def test_connection_errors_timeouts_and_exhausted_retries_are_transient_a_bad_request_is_not_and_the_rest_unknown():
    exhausted = ClientError(
        {"Error": {"Code": "Odd", "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": 400, "MaxAttemptsReached": True}},
        "Publish",
    )
    assert failure_of(exhausted).transient
    assert failure_of(EndpointConnectionError(endpoint_url="https://sns")).transient
    assert failure_of(ReadTimeoutError(endpoint_url="https://sns")).transient
    assert failure_of(ConnectTimeoutError(endpoint_url="https://sns")).transient
    refused = failure_of(ParamValidationError(report="Message: too long"))
    assert not refused.transient and not refused.uncertain
    odd = failure_of(RuntimeError("a bug"))
    assert odd.uncertain and not odd.transient and "RuntimeError" in odd.reason


def test_topic_publish_batches_ten_and_settles_each_failed_entry_by_its_sender_fault():
    sns = client("sns")
    decisions = [decision(n, Channel.IN_APP) for n in range(12)]
    with Stubber(sns) as stub:
        stub.add_response(
            "publish_batch",
            {
                "Successful": [{"Id": str(i), "MessageId": f"m{i}"} for i in range(8)],
                "Failed": [
                    {"Id": "8", "Code": "InvalidParameter", "SenderFault": True, "Message": "bad attribute"},
                    {"Id": "9", "Code": "InternalError", "SenderFault": False, "Message": "try again"},
                ],
            },
        )
        stub.add_response(
            "publish_batch", {"Successful": [{"Id": "0", "MessageId": "m10"}, {"Id": "1", "MessageId": "m11"}], "Failed": []}
        )
        failures = SnsTopicChannel(TOPIC, sns=sns).publish(decisions)
    assert failures == {
        "i-8": Failure("InvalidParameter: bad attribute", transient=False),
        "i-9": Failure("InternalError: try again", transient=True),
    }


def test_topic_throttling_fails_the_chunk_transiently():
    sns = client("sns")
    with Stubber(sns) as stub:
        stub.add_client_error("publish_batch", service_error_code="Throttling", http_status_code=400)
        failures = SnsTopicChannel(TOPIC, sns=sns).publish([decision(1), decision(2)])
    assert set(failures) == {"i-1", "i-2"} and all(f.transient for f in failures.values())


def test_a_refused_topic_call_settles_its_own_chunk_only_and_never_raises():
    sns = client("sns")
    decisions = [decision(n, Channel.IN_APP) for n in range(15)]
    with Stubber(sns) as stub:
        stub.add_response(
            "publish_batch", {"Successful": [{"Id": str(i), "MessageId": f"m{i}"} for i in range(10)], "Failed": []}
        )
        stub.add_client_error("publish_batch", service_error_code="InvalidParameter", service_message="bad", http_status_code=400)
        failures = SnsTopicChannel(TOPIC, sns=sns).publish(decisions)
    assert set(failures) == {f"i-{n}" for n in range(10, 15)}
    assert set(failures.values()) == {Failure("InvalidParameter: bad", transient=False)}


def test_sns_platform_push_reports_a_disabled_endpoint_as_permanent_and_throttling_as_transient():
    sns = client("sns")
    endpoint = "arn:aws:sns:us-east-1:123456789012:endpoint/GCM/app/e1"
    with Stubber(sns) as stub:
        stub.add_response("publish", {"MessageId": "p1"})
        stub.add_client_error(
            "publish", service_error_code="EndpointDisabled", service_message="Endpoint is disabled", http_status_code=400
        )
        stub.add_client_error("publish", service_error_code="Throttling", http_status_code=400)
        push = SnsPlatformPush(sns=sns)
        sent, disabled, throttled = (push.send(decision(), endpoint) for _ in range(3))
    assert sent is None
    assert disabled == Failure("EndpointDisabled: Endpoint is disabled", transient=False)
    assert throttled.transient


def test_the_notifier_skips_the_topic_for_announced_sends_and_reports_what_the_topic_has():
    sns = client("sns")
    endpoint = "arn:aws:sns:us-east-1:123456789012:endpoint/GCM/app/e1"
    with Stubber(sns) as stub:
        only_one_entry = {"TopicArn": TOPIC, "PublishBatchRequestEntries": [ANY]}  # i-2 only: i-1 was announced before
        stub.add_response("publish_batch", {"Successful": [{"Id": "0", "MessageId": "m0"}], "Failed": []}, only_one_entry)
        stub.add_response("publish", {"MessageId": "p1"})
        stub.add_client_error("publish", service_error_code="Throttling", http_status_code=400)
        notifier = ChannelNotifier(SnsTopicChannel(TOPIC, sns=sns), push=SnsPlatformPush(sns=sns))
        report = notifier.deliver([decision(1), decision(2)], {"u1": endpoint}, announced=frozenset({"i-1"}))
    assert report.announced == {"i-1", "i-2"} and set(report.failed) == {"i-2"} and not report.undeliverable


def test_a_push_that_fails_for_good_after_the_announcement_is_undeliverable_and_says_so():
    sns = client("sns")
    endpoint = "arn:aws:sns:us-east-1:123456789012:endpoint/GCM/app/e1"
    with Stubber(sns) as stub:
        stub.add_response("publish_batch", {"Successful": [{"Id": "0", "MessageId": "m0"}], "Failed": []})
        stub.add_client_error("publish", service_error_code="EndpointDisabled", http_status_code=400)
        notifier = ChannelNotifier(SnsTopicChannel(TOPIC, sns=sns), push=SnsPlatformPush(sns=sns))
        report = notifier.deliver([decision(1)], {"u1": endpoint})
    assert report.announced == {"i-1"} and not report.failed
    assert "EndpointDisabled" in report.undeliverable["i-1"] and "announced on the topic" in report.undeliverable["i-1"]


def test_a_topic_refusal_is_undeliverable_and_the_push_is_not_attempted():
    sns = client("sns")
    with Stubber(sns) as stub:  # no publish stubbed: a push attempt would fail the test
        stub.add_client_error("publish_batch", service_error_code="InvalidParameter", http_status_code=400)
        notifier = ChannelNotifier(SnsTopicChannel(TOPIC, sns=sns), push=SnsPlatformPush(sns=sns))
        report = notifier.deliver([decision(1)], {"u1": "arn:endpoint"})
    assert report.announced == set() and report.undeliverable["i-1"].startswith("topic: InvalidParameter")


def test_an_error_that_is_not_from_aws_leaves_the_outcome_unknown():
    class Broken:
        def publish_batch(self, **_):
            raise RuntimeError("connection pool exploded after sending")

    report = ChannelNotifier(SnsTopicChannel(TOPIC, sns=Broken())).deliver([decision(1, Channel.IN_APP)], {})
    assert set(report.unknown) == {"i-1"} and not report.failed and not report.undeliverable
