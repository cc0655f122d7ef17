"""Mobile push through AWS End User Messaging: the ``pinpoint`` API's SendMessages (Pinpoint's
engagement features ended on 30 Oct 2026; sending continues). moto does not implement it: the
adapter is tested with botocore's Stubber."""

from __future__ import annotations

import logging
import os

from journey.adapters.aws.clients import Failure, client, failure_of
from journey.interventions.policy import Decision
from journey.resources import Env

log = logging.getLogger(__name__)

# SendMessages' per-address DeliveryStatus (EndpointMessageResult / MessageResult). TIMEOUT (not sent
# within the timeout period) is documented by newer API versions.
TRANSIENT_STATUSES = frozenset({"THROTTLED", "TEMPORARY_FAILURE", "TIMEOUT"})
# PERMANENT_FAILURE, OPT_OUT and DUPLICATE: the service says it will not try again, and neither do we.
# UNKNOWN_FAILURE is settled the same way (not sent again: a resend could reach the user twice), with
# the status as the reason. Any status not known here too.


class EndUserMessagingPush:
    """Mobile push through AWS End User Messaging (``pinpoint`` SendMessages; the address is a device token)."""

    def __init__(self, application_id: str | None = None, channel_type: str = "GCM", pinpoint=None):
        self.application_id = application_id or os.environ[Env.EUM_APPLICATION_ID]
        self.channel_type = channel_type
        self._pinpoint = pinpoint

    def send(self, decision: Decision, token: str) -> Failure | None:
        """Push one decision; return why it did not go through, or None when it was sent."""
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
        except Exception as exc:  # noqa: BLE001 - classified: TooManyRequests and 5xx are transient, other 4xx not
            failure = failure_of(exc)
            log.warning("SendMessages for %s failed: %s", decision.interventionId, failure.reason)
            return failure
        result = response.get("MessageResponse", {}).get("Result", {}).get(token)
        if result is None:
            return Failure("SendMessages returned no result for the address", transient=False, uncertain=True)
        status = result.get("DeliveryStatus", "")
        if status == "SUCCESSFUL":
            return None
        reason = f"{status}: {result.get('StatusMessage', '')} (status code {result.get('StatusCode')})"
        log.warning("push delivery for %s: %s", decision.interventionId, reason)
        return Failure(reason, transient=status in TRANSIENT_STATUSES)
