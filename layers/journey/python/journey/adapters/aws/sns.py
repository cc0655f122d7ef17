"""Delivery channels: the SNS topic (fan-out, with filterable message attributes) and mobile push.

Push goes through SNS platform endpoints or through AWS End User Messaging's ``SendMessages``
(the ``pinpoint`` API, which moto does not implement: its adapter is tested with botocore's
Stubber). In-app delivery is the Interventions record itself, which the app reads.
"""

from __future__ import annotations

import json
import logging
import os

from journey.adapters.aws.clients import as_transient, client
from journey.app.ports import DeliveryReport
from journey.errors import TransientError
from journey.interventions.catalog import Channel
from journey.interventions.policy import Decision

log = logging.getLogger(__name__)
PUBLISH_BATCH_LIMIT = 10


def message_attributes(decision: Decision) -> dict:
    values = {
        "channel": decision.channel.value if decision.channel else "none",
        "signalType": decision.signalType.value,
        "severity": decision.severity.value,
        "featureId": decision.featureId,
        "interventionType": decision.interventionType,
    }
    return {name: {"DataType": "String", "StringValue": value} for name, value in values.items()}


class SnsTopicChannel:
    """Every send is announced on the topic; subscribers filter on the message attributes."""

    def __init__(self, topic_arn: str | None = None, sns=None):
        self.topic_arn = topic_arn or os.environ["INTERVENTIONS_TOPIC_ARN"]
        self._sns = sns

    @property
    def sns(self):
        if self._sns is None:
            self._sns = client("sns")
        return self._sns

    def publish(self, decisions: list[Decision]) -> dict[str, str]:
        failures: dict[str, str] = {}
        for start in range(0, len(decisions), PUBLISH_BATCH_LIMIT):
            chunk = decisions[start : start + PUBLISH_BATCH_LIMIT]
            entries = [
                {
                    "Id": str(index),
                    "Message": json.dumps(d.as_record(), separators=(",", ":")),
                    "MessageAttributes": message_attributes(d),
                }
                for index, d in enumerate(chunk)
            ]
            try:
                response = self.sns.publish_batch(TopicArn=self.topic_arn, PublishBatchRequestEntries=entries)
            except Exception as exc:
                error = as_transient(exc)
                if not isinstance(error, TransientError):
                    raise error from exc
                failures.update({d.interventionId: str(error) for d in chunk})
                continue
            for failed in response.get("Failed", []):
                failures[chunk[int(failed["Id"])].interventionId] = f"{failed.get('Code')}: {failed.get('Message', '')}"
        return failures


class SnsPlatformPush:
    """Mobile push through an SNS platform endpoint (the endpoint ARN is the user's push address)."""

    def __init__(self, sns=None):
        self._sns = sns

    def send(self, decision: Decision, endpoint: str) -> str | None:
        sns = self._sns or client("sns")
        payload = {
            "default": decision.message,
            "GCM": json.dumps({"notification": {"body": decision.message}}),
            "APNS": json.dumps({"aps": {"alert": decision.message}}),
        }
        try:
            sns.publish(TargetArn=endpoint, Message=json.dumps(payload), MessageStructure="json")
        except Exception as exc:  # noqa: BLE001 - classified just below
            error = as_transient(exc)
            if isinstance(error, TransientError):
                return str(error)
            log.warning("push to %s failed permanently, not retried: %s", endpoint[-24:], exc)
        return None


class EndUserMessagingPush:
    """Mobile push through AWS End User Messaging (``pinpoint`` SendMessages; the address is a device token)."""

    def __init__(self, application_id: str | None = None, channel_type: str = "GCM", pinpoint=None):
        self.application_id = application_id or os.environ["EUM_APPLICATION_ID"]
        self.channel_type = channel_type
        self._pinpoint = pinpoint

    def send(self, decision: Decision, token: str) -> str | None:
        pinpoint = self._pinpoint or client("pinpoint")
        request = {
            "Addresses": {token: {"ChannelType": self.channel_type}},
            "MessageConfiguration": {
                "DefaultPushNotificationMessage": {
                    "Action": "OPEN_APP",
                    "Body": decision.message,
                    "Data": {"interventionId": decision.interventionId},
                }
            },
        }
        try:
            response = pinpoint.send_messages(ApplicationId=self.application_id, MessageRequest=request)
        except Exception as exc:
            error = as_transient(exc)
            if isinstance(error, TransientError):
                return str(error)
            raise error from exc
        result = response["MessageResponse"]["Result"].get(token, {})
        status = result.get("DeliveryStatus")
        if status == "TEMPORARY_FAILURE" or status == "THROTTLED":
            return f"{status}: {result.get('StatusMessage', '')}"
        if status != "SUCCESSFUL":
            log.warning("push delivery %s for %s: %s", status, decision.interventionId, result.get("StatusMessage"))
        return None


class ChannelNotifier:
    """The Notifier port: topic announcement for every send, plus push for push decisions."""

    def __init__(self, topic: SnsTopicChannel, push=None):
        self.topic = topic
        self.push = push

    def deliver(
        self, decisions: list[Decision], push_endpoints: dict[str, str], announced: frozenset[str] = frozenset()
    ) -> DeliveryReport:
        failures = self.topic.publish([d for d in decisions if d.interventionId not in announced])
        report = DeliveryReport(
            failed=failures, announced={d.interventionId for d in decisions if d.interventionId not in failures}
        )
        if self.push is None:
            return report
        for decision in decisions:
            if decision.channel is Channel.PUSH and decision.interventionId not in failures:
                endpoint = push_endpoints.get(decision.userId)
                error = self.push.send(decision, endpoint) if endpoint else None
                if error:
                    failures[decision.interventionId] = error
        return report
