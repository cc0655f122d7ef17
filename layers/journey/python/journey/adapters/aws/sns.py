"""SNS delivery: the interventions topic (fan-out, with filterable message attributes) and mobile
push through SNS platform endpoints. In-app delivery is the Interventions record itself, which the
app reads."""

from __future__ import annotations

import json
import logging
import os

from journey.adapters.aws.clients import as_transient, client
from journey.errors import TransientError
from journey.interventions.policy import Decision
from journey.resources import Env

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
        self.topic_arn = topic_arn or os.environ[Env.INTERVENTIONS_TOPIC_ARN]
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
