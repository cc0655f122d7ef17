"""What the agent is asked for one escalation (pure): the facts of the case as the rules saw them,
and what it may do about them.

The agent looks at the user through its tools (``journey.agent.tools``), may choose only among the
interventions ``list_allowed_interventions`` returns, asks for at most one through
``schedule_intervention`` (with the escalation's id), or for none; whatever it asks for passes the
same policy as the rules' decisions. The ids in the prompt are the pseudonymous user id (the tools
need it) and the escalation id; nothing else identifies the user."""

from __future__ import annotations

from journey.agent.escalation import Escalation, Reason

REASONS: dict[str, str] = {
    Reason.CRITICAL_HIGH_VALUE: "a critical struggle of a user in a segment the deployment values most",
    Reason.CONFLICTING_SIGNALS: "one event of the user gave two or more different struggle signals",
    Reason.HIGH_RISK_UNMATCHED: "the user is at HIGH exit risk and the catalog has no intervention for this signal",
    Reason.REPEATED_FAILED_INTERVENTIONS: "the user's recent interventions kept failing to resolve their struggles",
}

INSTRUCTIONS = """\
How to decide:
1. Look at the user through your tools before deciding: get_open_signals, get_intervention_history, \
and get_video_summary where videos matter. Call each tool with userId "{user_id}".
2. Call list_allowed_interventions with userId "{user_id}". You may choose ONLY an interventionType it \
returned as allowed, on a channel it allowed.
3. Decide whether one of them helps this user now, better than the rules' choice above. If one does, call \
schedule_intervention ONCE with userId "{user_id}", escalationId "{escalation_id}", the interventionType, \
optionally the channel, and a rationale of one or two sentences. If none does, or the rules' choice is \
right, schedule nothing: the rules' choice is sent when you schedule nothing.
4. Never schedule more than one intervention. Never invent an interventionType, a channel or an id.
5. The rationale and anything you write state only facts the tools returned: no invented urgency, \
scarcity, deadlines or claims about the user.
Finish with one short sentence: what you scheduled and why, or why you scheduled nothing."""


def reason_text(reason: str) -> str:
    return REASONS.get(reason, reason.replace("_", " ") or "not given")


def escalation_prompt(escalation: Escalation) -> str:
    """The request the agent receives for ``escalation``: facts first, then the instructions."""
    e = escalation
    if e.ruleIntervention:
        rules = f"{e.ruleIntervention} on {e.ruleChannel or 'the first channel the policy allows'}"
    else:
        rules = "none (the catalog has no intervention for this signal: the rules would send nothing)"
    facts = [
        f"Escalation {e.escalationId}: the rules hand this case to you.",
        f"- user: {e.userId} (pseudonymous id), segment {e.segment or 'unknown'}",
        f"- struggle signal: {e.signalType} on feature {e.featureId or 'unknown'}, severity {e.severity}",
        f"- why it is a hard case: {reason_text(e.reason)}",
        f"- the rules' choice: {rules}",
        f"- exit risk: {e.riskBand} (score {e.riskScore} of 100)",
    ]
    return "\n".join(facts) + "\n\n" + INSTRUCTIONS.format(user_id=e.userId, escalation_id=e.escalationId)


def session_attributes(escalation: Escalation) -> dict[str, str]:
    """What the deployment carries to the action groups beside the model's arguments: the tools check
    the user id the model sends against ``userId`` (docs/agent.md)."""
    return {"userId": escalation.userId, "escalationId": escalation.escalationId, "tenant": escalation.tenant}
