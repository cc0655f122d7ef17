"""In-memory ports for the HTTPS API's use cases (fakes on the ports, no mocks): what the stream
processor would have written, set up directly; what the API appends, kept in order."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count
from typing import Any

from journey.app.api_ports import ApiPorts, Caller
from journey.kernel.tenancy import pseudonym
from journey.users.state import UserState

KEY = b"unit-test-pseudonym-key"
NOW = 1_793_491_200_000  # 2026-11-01T00:00:00Z


@dataclass
class MemoryStream:
    appended: list[dict[str, Any]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # event ids the stream refuses

    def append_each(self, events: list[dict[str, Any]]) -> list[str]:
        reasons = []
        for event in events:
            if event["eventId"] in self.refuse:
                reasons.append("ProvisionedThroughputExceededException: Rate exceeded")
            else:
                self.appended.append(event)
                reasons.append("")
        return reasons


@dataclass
class MemoryReadModels:
    states: dict[str, UserState] = field(default_factory=dict)
    interventions_by_user: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    signals_by_user: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    journals: dict[str, list[list[Any]]] = field(default_factory=dict)
    days: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=lambda: {"signals": {}, "interventions": {}})

    def state(self, user_id: str) -> UserState | None:
        return self.states.get(user_id)

    def state_item(self, user_id: str) -> dict[str, Any] | None:
        state = self.states.get(user_id)
        return None if state is None else {"userId": user_id, "exitRiskScore": state.risk_score, "riskBand": state.risk_band}

    def interventions(self, user_id: str) -> list[dict[str, Any]]:
        return list(self.interventions_by_user.get(user_id, []))

    def intervention(self, user_id: str, intervention_id: str) -> dict[str, Any] | None:
        return next(
            (
                r
                for r in self.interventions_by_user.get(user_id, [])
                if r["kind"] == "decision" and r["interventionId"] == intervention_id
            ),
            None,
        )

    def signals(self, user_id: str) -> list[dict[str, Any]]:
        return list(self.signals_by_user.get(user_id, []))

    def journal(self, user_id: str) -> list[list[Any]]:
        return list(self.journals.get(user_id, []))

    def signals_on(self, tenant_day: str) -> list[dict[str, Any]]:
        return list(self.days["signals"].get(tenant_day, []))

    def interventions_on(self, tenant_day: str) -> list[dict[str, Any]]:
        return list(self.days["interventions"].get(tenant_day, []))


@dataclass
class MemoryIdentities:
    items: dict[str, dict[str, Any]] = field(default_factory=dict)

    def remember(self, user_id: str, tenant: str, external_id: str, at_ms: int) -> None:
        self.items.setdefault(user_id, {"userId": user_id, "tenant": tenant, "externalId": external_id, "firstSeenAt": at_ms})

    def identity(self, user_id: str) -> dict[str, Any] | None:
        return self.items.get(user_id)


@dataclass
class MemoryQuarantine:
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def records_of(self, user_id: str) -> list[dict[str, Any]]:
        return list(self.records.get(user_id, []))


@dataclass
class Fakes:
    stream: MemoryStream = field(default_factory=MemoryStream)
    reads: MemoryReadModels = field(default_factory=MemoryReadModels)
    identities: MemoryIdentities = field(default_factory=MemoryIdentities)
    quarantine: MemoryQuarantine = field(default_factory=MemoryQuarantine)
    now: int = NOW

    def ports(self) -> ApiPorts:
        ids = count(1)
        return ApiPorts(
            stream=self.stream,
            users=self.reads,
            analytics=self.reads,
            identities=self.identities,
            quarantine=self.quarantine,
            pseudonym_key=lambda: KEY,
            clock_ms=lambda: self.now,
            new_request_id=lambda: f"req-{next(ids)}",
        )


def app_user(user_id: str = "demo-user-1", tenant: str = "demo") -> Caller:
    return Caller(kind="jwt", tenant=tenant, principal="app:test-client", user_id=user_id)


def server(tenant: str = "demo") -> Caller:
    return Caller(kind="iam", tenant=tenant, principal="arn:aws:iam::123456789012:role/backend")


def pid(user_id: str = "demo-user-1", tenant: str = "demo") -> str:
    return pseudonym(KEY, tenant, user_id)


def decision(
    iid: str,
    *,
    status: str = "sent",
    channel: str | None = "in_app",
    delivery: str | None = "delivered",
    signal_type: str = "rage_tap",
    at: int = NOW,
) -> dict[str, Any]:
    return {
        "kind": "decision",
        "of": iid,
        "interventionId": iid,
        "signalId": f"s-{iid}",
        "signalType": signal_type,
        "featureId": "checkout",
        "interventionType": "contextual_tip",
        "channel": channel,
        "status": status,
        "reason": "policy_passed",
        "decidedAt": at,
        "delivery": delivery,
        "message": "Tap once and wait.",
        "heldOut": status == "held_out",
    }


def outcome(iid: str, at: int = NOW + 60_000) -> dict[str, Any]:
    return {"kind": "outcome", "of": iid, "interventionId": f"outcome#{iid}", "signalId": f"s-{iid}", "resolvedAt": at}


def report(iid: str, what: str, at: int = NOW + 1000) -> dict[str, Any]:
    return {"kind": "report", "of": iid, "interventionId": f"report#{iid}#{what}", "outcome": what, "reportedAt": at}
