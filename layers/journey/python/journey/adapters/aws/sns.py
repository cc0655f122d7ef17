"""SNS delivery: the interventions topic (fan-out, with filterable message attributes) and mobile
push through SNS platform endpoints. In-app delivery is the Interventions record itself, which the
app reads.

Neither raises for a message's error: each reports a :class:`~journey.adapters.aws.clients.Failure`
per message that did not go through (PublishBatch says so per entry, with ``SenderFault`` true when
the entry itself was wrong; an error for a whole call concerns every message in it)."""

from __future__ import annotations

import json
import logging
import os

from journey.adapters.aws.clients import THROTTLING_CODES, Failure, client, failure_of
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

    def publish(self, decisions: list[Decision]) -> dict[str, Failure]:
        """Publish in batches of ten; return interventionId -> why, for each message not published."""
        failures: dict[str, Failure] = {}
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
            except Exception as exc:  # noqa: BLE001 - one call's error concerns its messages only
                failure = failure_of(exc)
                log.warning("PublishBatch of %d messages failed (%s): %s", len(chunk), _kind(failure), failure.reason)
                failures.update({d.interventionId: failure for d in chunk})
                continue
            answered = {entry["Id"] for entry in response.get("Successful", [])}
            for failed in response.get("Failed", []):
                answered.add(failed["Id"])
                code = failed.get("Code", "")
                # SenderFault: the entry itself was wrong (permanent); otherwise SNS's side (transient)
                transient = not failed.get("SenderFault") or code in THROTTLING_CODES
                failures[chunk[int(failed["Id"])].interventionId] = Failure(f"{code}: {failed.get('Message', '')}", transient)
            for index, d in enumerate(chunk):
                if str(index) not in answered:  # never seen from SNS, but not to be taken for a success
                    failures[d.interventionId] = Failure("PublishBatch returned no result for this entry", False, True)
        return failures


def _kind(failure: Failure) -> str:
    return "outcome unknown" if failure.uncertain else "transient" if failure.transient else "permanent"


class SnsPlatformPush:
    """Mobile push through an SNS platform endpoint (the endpoint ARN is the user's push address)."""

    def __init__(self, sns=None):
        self._sns = sns

    def send(self, decision: Decision, endpoint: str) -> Failure | None:
        """Push one decision; return why it did not go through, or None when it was sent."""
        sns = self._sns or client("sns")
        payload = {
            "default": decision.message,
            "GCM": json.dumps({"notification": {"body": decision.message}}),
            "APNS": json.dumps({"aps": {"alert": decision.message}}),
        }
        try:
            sns.publish(TargetArn=endpoint, Message=json.dumps(payload), MessageStructure="json")
        except Exception as exc:  # noqa: BLE001 - classified: EndpointDisabled, InvalidParameter... are permanent
            failure = failure_of(exc)
            log.warning("push to %s failed (%s): %s", endpoint[-24:], _kind(failure), failure.reason)
            return failure
        return None
