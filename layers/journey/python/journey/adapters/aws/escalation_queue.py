"""The escalation queue (SQS): the stream processor hands the hard cases to the agent invoker here.

SendMessageBatch takes 10 messages (256 KB in all) per call and answers per entry; an entry or a
call that fails is reported, never raised: the rules decide an escalation that was not handed over
when its deadline passes (journey.app.escalations), so the batch of every other user goes on."""

from __future__ import annotations

import json
import logging
import os

from journey.adapters.aws.clients import client, failure_of
from journey.agent.escalation import Escalation
from journey.resources import Env

log = logging.getLogger(__name__)
SEND_BATCH_LIMIT = 10


class SqsEscalationQueue:
    def __init__(self, queue_url: str | None = None, sqs=None):
        self.queue_url = queue_url or os.environ[Env.ESCALATION_QUEUE_URL]
        self._sqs = sqs

    @property
    def sqs(self):
        if self._sqs is None:
            self._sqs = client("sqs")
        return self._sqs

    def submit(self, escalations: list[Escalation]) -> list[str]:
        unsent: list[str] = []
        for start in range(0, len(escalations), SEND_BATCH_LIMIT):
            chunk = escalations[start : start + SEND_BATCH_LIMIT]
            entries = [
                {"Id": str(n), "MessageBody": json.dumps(e.as_message(), separators=(",", ":"))} for n, e in enumerate(chunk)
            ]
            try:
                answer = self.sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            except Exception as exc:  # noqa: BLE001 - reported per escalation, never raised (see the module)
                log.warning("escalation queue refused %d messages: %s", len(chunk), failure_of(exc).reason)
                unsent.extend(e.escalationId for e in chunk)
                continue
            for failed in answer.get("Failed", []):
                escalation = chunk[int(failed["Id"])]
                log.warning("escalation %s not queued: %s %s", escalation.escalationId, failed.get("Code"), failed.get("Message"))
                unsent.append(escalation.escalationId)
        return unsent
