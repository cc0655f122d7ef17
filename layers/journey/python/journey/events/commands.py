"""Commands the system itself appends to a user's stream, as events (DESIGN.md rule 1: the stream
processor is the only writer of user state; other front doors send it commands). Today: the
deadline timer's ``timer`` command. Apps cannot send one: a ``timer`` event whose id is not the one
the timer derives is refused with the reason."""

from __future__ import annotations

import hashlib

TIMER_SESSION = "timer"
TIMER_ACTION = "deadline"


def timer_command_id(user_id: str, deadline: int) -> str:
    """The timer command's event id: the same for the same (user, deadline), whichever run appends it."""
    digest = hashlib.blake2b(f"{user_id}|{deadline}".encode(), digest_size=10).hexdigest()
    return f"timer-{digest}"


def timer_command_problem(event_id: str, user_id: str, session_id: str, timestamp: int) -> str | None:
    """Why an event typed ``timer`` is not the deadline timer's command (None when it is)."""
    if session_id != TIMER_SESSION or event_id != timer_command_id(user_id, timestamp):
        return "eventType 'timer' is the deadline timer's command and cannot be sent by an app (see docs/events.md)"
    return None
