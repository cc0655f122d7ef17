"""Mobile push through AWS End User Messaging: the ``pinpoint`` API's SendMessages (Pinpoint's
engagement features ended on 30 Oct 2026; sending continues). moto does not implement it: the
adapter is tested with botocore's Stubber."""

from __future__ import annotations

import logging
import os

from journey.adapters.aws.clients import as_transient, client
from journey.errors import TransientError
from journey.interventions.policy import Decision
from journey.resources import Env

log = logging.getLogger(__name__)


class EndUserMessagingPush:
    """Mobile push through AWS End User Messaging (``pinpoint`` SendMessages; the address is a device token)."""

    def __init__(self, application_id: str | None = None, channel_type: str = "GCM", pinpoint=None):
        self.application_id = application_id or os.environ[Env.EUM_APPLICATION_ID]
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
