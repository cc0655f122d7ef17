"""The in-app inbox and its outcomes: what the app should show its signed-in user now, and a report
travelling as an outcome command on the user's stream; another user's intervention is a 404."""

from __future__ import annotations

import pytest

from journey.app.api_ports import Forbidden, NotFound, Unavailable
from journey.app.inbox import OutcomeReport, inbox, report_outcome
from journey.events.model import InterventionOutcome
from tests.unit.api_fakes import NOW, Fakes, app_user, decision, pid, report, server


def with_interventions(*records: dict, user: str = "demo-user-1") -> Fakes:
    fakes = Fakes()
    fakes.reads.interventions_by_user[pid(user)] = list(records)
    return fakes


def test_pending_is_delivered_in_app_sends_not_yet_reported_newest_first():
    fakes = with_interventions(
        decision("i-old", at=NOW - 5000),
        decision("i-new", at=NOW),
        decision("i-reported"),
        report("i-reported", "shown"),
        decision("i-push", channel="push"),
        decision("i-held", status="held_out"),
        decision("i-pending-delivery", delivery="pending"),
    )
    got = inbox(app_user(), "demo-user-1", fakes.ports())
    assert [item.interventionId for item in got.interventions] == ["i-new", "i-old"]
    every = inbox(app_user(), "demo-user-1", fakes.ports(), status="all")
    assert {item.interventionId for item in every.interventions} == {"i-old", "i-new", "i-reported", "i-pending-delivery"}
    assert next(i for i in every.interventions if i.interventionId == "i-reported").reported == ["shown"]


def test_a_user_reads_only_their_own_inbox():
    fakes = with_interventions(decision("i-1"))
    with pytest.raises(Forbidden):
        inbox(app_user("demo-user-2"), "demo-user-1", fakes.ports())
    assert inbox(server(), "demo-user-1", fakes.ports()).interventions  # a back end of the tenant may


def test_a_reported_outcome_is_an_outcome_command_on_the_users_stream():
    fakes = with_interventions(decision("i-1"))
    accepted = report_outcome(app_user(), "i-1", OutcomeReport(outcome=InterventionOutcome.ACTED, at=NOW - 10), fakes.ports())
    (command,) = fakes.stream.appended
    assert command["eventType"] == "command" and command["userId"] == pid() and command["tenantId"] == "demo"
    assert command["command"] == {
        "name": "outcome",
        "requestId": accepted.requestId,
        "requestedBy": "app:test-client",
        "interventionId": "i-1",
        "outcome": "acted",
    }
    assert command["timestamp"] == NOW - 10


def test_a_future_report_time_is_read_as_now():
    fakes = with_interventions(decision("i-1"))
    report_outcome(app_user(), "i-1", OutcomeReport(outcome=InterventionOutcome.SHOWN, at=NOW + 3_600_000), fakes.ports())
    assert fakes.stream.appended[0]["timestamp"] == NOW


@pytest.mark.parametrize("iid", ["i-theirs", "i-missing", "i-held"])
def test_reporting_on_an_intervention_that_is_not_the_callers_send_is_not_found(iid):
    fakes = with_interventions(decision("i-theirs"), user="demo-user-2")
    fakes.reads.interventions_by_user[pid()] = [decision("i-held", status="held_out")]
    with pytest.raises(NotFound):
        report_outcome(app_user(), iid, OutcomeReport(outcome=InterventionOutcome.SHOWN), fakes.ports())
    assert fakes.stream.appended == []


def test_a_stream_that_does_not_take_the_report_is_a_retryable_answer():
    fakes = with_interventions(decision("i-1"))
    fakes.stream.refuse = {"*"}
    fakes.stream.append_each = lambda events: ["InternalFailure: injected"] * len(events)  # type: ignore[method-assign]
    with pytest.raises(Unavailable):
        report_outcome(app_user(), "i-1", OutcomeReport(outcome=InterventionOutcome.SHOWN), fakes.ports())
