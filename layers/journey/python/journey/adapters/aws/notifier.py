"""The Notifier port on AWS: every send announced on the topic, push decisions also pushed."""

from __future__ import annotations

from typing import Protocol

from journey.adapters.aws.sns import SnsTopicChannel
from journey.app.ports import DeliveryReport
from journey.interventions.catalog import Channel
from journey.interventions.policy import Decision


class PushChannel(Protocol):
    def send(self, decision: Decision, address: str) -> str | None:
        """Push one decision; return the transient error to retry on, or None (sent, or failed for good)."""


class ChannelNotifier:
    """The Notifier port: topic announcement for every send, plus push for push decisions."""

    def __init__(self, topic: SnsTopicChannel, push: PushChannel | None = None):
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
