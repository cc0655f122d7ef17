"""The Notifier port on AWS: every send announced on the topic, push decisions also pushed."""

from __future__ import annotations

from typing import Protocol

from journey.adapters.aws.clients import Failure
from journey.adapters.aws.sns import SnsTopicChannel
from journey.app.ports import DeliveryReport
from journey.interventions.catalog import Channel
from journey.interventions.policy import Decision

ANNOUNCED_NOTE = "(it was announced on the topic)"


class PushChannel(Protocol):
    def send(self, decision: Decision, address: str) -> Failure | None:
        """Push one decision; return why it did not go through (transient or not), or None when it was sent."""


def _record(report: DeliveryReport, iid: str, failure: Failure, reason: str) -> None:
    if failure.uncertain:
        report.unknown[iid] = reason
    elif failure.transient:
        report.failed[iid] = reason
    else:
        report.undeliverable[iid] = reason


class ChannelNotifier:
    """The Notifier port: topic announcement for every send, plus push for push decisions.

    Each send's outcome is reported on its own: a refused topic call settles only the messages it
    carried, and a push that fails for good after the topic announced it is undeliverable with a
    reason that says the announcement went out."""

    def __init__(self, topic: SnsTopicChannel, push: PushChannel | None = None):
        self.topic = topic
        self.push = push

    def deliver(
        self, decisions: list[Decision], push_endpoints: dict[str, str], announced: frozenset[str] = frozenset()
    ) -> DeliveryReport:
        report = DeliveryReport()
        failures = self.topic.publish([d for d in decisions if d.interventionId not in announced])
        for decision in decisions:
            iid = decision.interventionId
            failure = failures.get(iid)
            if failure is None:
                report.announced.add(iid)
            else:
                _record(report, iid, failure, f"topic: {failure.reason}")
        if self.push is None:
            return report
        for decision in decisions:
            iid = decision.interventionId
            if decision.channel is not Channel.PUSH or iid not in report.announced:
                continue
            endpoint = push_endpoints.get(decision.userId)
            if not endpoint:
                report.undeliverable[iid] = f"push: the user has no push address {ANNOUNCED_NOTE}"
                continue
            failure = self.push.send(decision, endpoint)
            if failure is not None:
                _record(report, iid, failure, f"push: {failure.reason} {ANNOUNCED_NOTE}")
        return report
