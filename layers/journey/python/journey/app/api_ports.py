"""What the HTTPS API's use cases talk through, who calls them, and the errors they answer with.

The use cases (``ingest``, ``inbox``, ``insights``, ``analytics``, ``privacy``) read the read models
the stream processor writes and append to the event stream; they never write user state (DESIGN.md
rule 1). ``journey.adapters.aws`` implements these ports on AWS; tests wire in-memory ones.
``journey.lambda_kit.http`` maps the errors to HTTP answers, in one place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from journey.app.agent_ports import AnalysisCache, ContextAnalyst
from journey.errors import JourneyError
from journey.kernel.tenancy import pseudonym
from journey.risk.model import ExitRiskModel
from journey.users.state import UserState

# --- who is calling ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated caller, from the authorizer's context (never from the request body).

    ``jwt``: an app user's token: ``user_id`` is the app's own id of the signed-in user, who may act on
    their own data only. ``iam``: a back end signing with SigV4, acting for its tenant on any user of it.
    ``principal`` names who asked in command events and audit records: the app client or the IAM
    principal, never personal data."""

    kind: Literal["jwt", "iam"]
    tenant: str
    principal: str
    user_id: str | None = None

    def require_self(self, user_id: str) -> None:
        """An app user acts on their own data only (a back end on any user of its tenant)."""
        if self.kind == "jwt" and user_id != self.user_id:
            raise Forbidden("a user's token acts on that user's own data only")


# --- errors (lambda_kit.http answers each with its status) ----------------------------------------------


class ApiError(JourneyError):
    """A request the API refuses, with a reason the caller can act on."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class BadRequest(ApiError):
    status, code = 400, "bad_request"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class PayloadTooLarge(ApiError):
    status, code = 413, "payload_too_large"


class Unavailable(ApiError):
    """A dependency failed transiently: the caller may retry the same request."""

    status, code = 503, "unavailable"


# --- read models (the stream processor writes them) ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InterventionItems:
    """A user's items of the Interventions table, as plain records: decisions, outcomes (a later
    success resolved the episode) and the app's reports, by intervention."""

    decisions: list[dict[str, Any]] = field(default_factory=list)
    outcomes: dict[str, dict[str, Any]] = field(default_factory=dict)  # interventionId -> outcome record
    reports: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # interventionId -> reports, oldest first

    @classmethod
    def of(cls, records: list[dict[str, Any]]) -> InterventionItems:
        """Grouped by ``kind`` (decision, outcome, report) and ``of`` (the intervention concerned)."""
        items = cls()
        for record in records:
            kind, of = record.get("kind"), str(record.get("of", ""))
            if kind == "outcome":
                items.outcomes[of] = record
            elif kind == "report":
                items.reports.setdefault(of, []).append(record)
            elif kind == "decision":
                items.decisions.append(record)
        for reports in items.reports.values():
            reports.sort(key=lambda report: int(report.get("reportedAt", 0)))
        return items


class UserReadModel(Protocol):
    def state(self, user_id: str) -> UserState | None:
        """The user's state as the stream processor last wrote it (None: no item)."""

    def interventions(self, user_id: str) -> list[dict[str, Any]]:
        """Every item of the user in the Interventions table, each with ``kind`` (decision, outcome,
        report) and ``of`` (the intervention it concerns): see :meth:`InterventionItems.of`."""

    def intervention(self, user_id: str, intervention_id: str) -> dict[str, Any] | None:
        """One decision of the user (None when the user has no decision of that id)."""

    def signals(self, user_id: str) -> list[dict[str, Any]]:
        """The user's struggle signals, oldest first."""

    def journal(self, user_id: str) -> list[list[Any]]:
        """The user's journaled events (compact entries), in stream order."""

    def state_item(self, user_id: str) -> dict[str, Any] | None:
        """The user's state item as plain values beside the decoded state (risk score, band...)."""


class AnalyticsReadModel(Protocol):
    def signals_on(self, tenant_day: str) -> list[dict[str, Any]]:
        """Every signal of a tenant's day (the tenant's day index)."""

    def interventions_on(self, tenant_day: str) -> list[dict[str, Any]]:
        """Every item of the Interventions table on a tenant's day, with ``kind`` and ``of`` as above."""


class Identities(Protocol):
    def remember(self, user_id: str, tenant: str, external_id: str, at_ms: int) -> None:
        """Record which app user a pseudonym is, once (the one place that maps back to the real id)."""

    def identity(self, user_id: str) -> dict[str, Any] | None: ...


class QuarantineReader(Protocol):
    def records_of(self, user_id: str) -> list[dict[str, Any]]:
        """The quarantined records whose partition key is the user's id, with their reasons."""


class EventStream(Protocol):
    def append_each(self, events: list[dict[str, Any]]) -> list[str]:
        """Append each event to its user's stream (partition key = ``userId``), retrying the records
        the stream refused; return, per event, why it could still not be appended ("" when it was)."""


@dataclass
class ApiPorts:
    """Everything the API's use cases talk to, wired by the adapters' factories."""

    stream: EventStream
    users: UserReadModel
    analytics: AnalyticsReadModel
    identities: Identities
    quarantine: QuarantineReader
    pseudonym_key: Callable[[], bytes]
    clock_ms: Callable[[], int]
    new_request_id: Callable[[], str]
    analyst: ContextAnalyst | None = None  # Amazon Nova's context analysis (None: the insights say it is unavailable)
    analysis_cache: AnalysisCache | None = None  # where analyses are kept per user (None: never cached)
    # the trained exit-risk model of a version, to explain its scores (None from the call: not readable; None: no models)
    exit_risk_models: Callable[[str], ExitRiskModel | None] | None = None

    def pseudonym_of(self, tenant: str, user_id: str) -> str:
        """The pseudonymous id of the tenant's user: the ``userId`` on the stream and in every table."""
        return pseudonym(self.pseudonym_key(), tenant, user_id)
