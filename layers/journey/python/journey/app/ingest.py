"""``POST /v1/events``: an app's events onto its user's stream, with a result per event.

Each event is read by the code the stream itself reads records with
(:func:`journey.events.decoding.decode_event`: normalize from its format, validate, bound), so an
event the API accepts is one the stream processor accepts, and an event it rejects carries the
stream's reason code. Then the API's own rules: the event must be the signed-in user's
(``forbidden_user``), not a command (``command_not_allowed``: commands are the system's), and the
user must not be erased (``user_erased``, until consent is given again). An accepted event goes on
the stream as the canonical native event, its ``userId`` the user's pseudonym and its ``tenantId``
the token's tenant; the partition key is the pseudonym, so the user's events stay in order in one
shard. A record the stream still refuses after retries is ``stream_refused`` (send it again).

Idempotent by ``eventId``: a request sent again appends the same events again, and the processor
drops the duplicates (formats without ids get a deterministic one)."""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal

import orjson
from pydantic import BaseModel, Field

from journey.app.api_ports import ApiPorts, BadRequest, Caller, PayloadTooLarge
from journey.events.decoding import Rejection, RejectionCode, decode_event
from journey.events.identity import normalize_user_id
from journey.events.model import EVENT_ADAPTER, EventType, UserEvent
from journey.events.vocabulary import canonical_event_type

COMMAND_TYPES = frozenset({EventType.COMMAND.value, EventType.TIMER.value})
COMMANDS_ARE_THE_SYSTEMS = "command and timer events are the system's own (consent, outcomes, erasure: their own routes)"


class InputFormat(str, Enum):
    NATIVE = "native"
    FIREBASE = "firebase"
    SEGMENT = "segment"


class ResultCode(str, Enum):
    """Why an event was rejected: the stream's own codes, then the API's."""

    BAD_BASE64 = RejectionCode.BAD_BASE64.value
    NOT_UTF8 = RejectionCode.NOT_UTF8.value
    NOT_JSON = RejectionCode.NOT_JSON.value
    NOT_OBJECT = RejectionCode.NOT_OBJECT.value
    OVERSIZE = RejectionCode.OVERSIZE.value
    UNKNOWN_FORMAT = RejectionCode.UNKNOWN_FORMAT.value
    SCHEMA = RejectionCode.SCHEMA.value
    UNSTORABLE = RejectionCode.UNSTORABLE.value
    FORBIDDEN_USER = "forbidden_user"  # not the signed-in user's event (or another tenant's)
    USER_ERASED = "user_erased"  # the user was erased: their events are refused until consent is given again
    COMMAND_NOT_ALLOWED = "command_not_allowed"  # command and timer events are the system's own
    STREAM_REFUSED = "stream_refused"  # the stream refused the record after retries: send the event again
    DUPLICATE = "duplicate"  # accepted: the same eventId as an earlier event of the request (appended once)


class IngestRequest(BaseModel):
    format: InputFormat | None = Field(
        None,
        description="the format of every event; absent: each event's format is detected (native, Firebase row, Segment call)",
    )
    events: list[Any] = Field(
        description="at most 500 events (400 above), in the request's format", json_schema_extra={"maxItems": 500}
    )


class EventResult(BaseModel):
    index: int = Field(description="the event's position in the request, from 0")
    eventId: str | None = Field(None, description="the event's id (derived when its format carries none)")
    status: Literal["accepted", "rejected"]
    code: ResultCode | None = Field(None, description="why it was rejected (or 'duplicate' for an accepted repeat)")
    reason: str | None = Field(None, description="what is wrong, for a person to act on")


class IngestResult(BaseModel):
    accepted: int
    rejected: int
    results: list[EventResult]


def ingest(
    request: IngestRequest,
    caller: Caller,
    ports: ApiPorts,
    max_events: int,
    max_record_bytes: int,
    body_bytes: int = 0,
    max_body_bytes: int = 0,
) -> IngestResult:
    """Read, check and append the request's events; a result for each, in request order."""
    if max_body_bytes and body_bytes > max_body_bytes:
        raise PayloadTooLarge(f"the body is {body_bytes:,} bytes; the limit is {max_body_bytes:,}")
    if len(request.events) > max_events:
        raise BadRequest(f"{len(request.events)} events in one request; the limit is {max_events}", code="too_many_events")
    if caller.user_id is None:
        raise BadRequest("events are sent with an app user's token")
    tenant, fmt = caller.tenant, request.format.value if request.format else None
    own_id = normalize_user_id(caller.user_id)
    user_id = ports.pseudonym_of(tenant, own_id)
    results: list[EventResult | None] = [None] * len(request.events)
    ready: list[tuple[int, dict[str, Any]]] = []
    arrival = ports.clock_ms()  # the time of a Segment call that carries none of its own
    for index, item in enumerate(request.events):
        read = _read(item, fmt, max_record_bytes, arrival)
        if isinstance(read, EventResult):
            results[index] = read.model_copy(update={"index": index})
            continue
        problem = _ownership_problem(read, own_id, tenant)
        if problem:
            results[index] = _rejected(index, read.eventId, ResultCode.FORBIDDEN_USER, problem)
            continue
        ready.append((index, _on_stream(read, user_id, tenant, own_id, ports)))
    if ready:
        ready = _not_erased(ready, results, ports, user_id)
    if ready:
        ports.identities.remember(user_id, tenant, own_id, arrival)
        _append(ready, results, ports, max_record_bytes)
    final = [result for result in results if result is not None]
    accepted = sum(result.status == "accepted" for result in final)
    return IngestResult(accepted=accepted, rejected=len(final) - accepted, results=final)


def _rejected(index: int, event_id: str | None, code: ResultCode, reason: str) -> EventResult:
    return EventResult(index=index, eventId=event_id, status="rejected", code=code, reason=reason[:1000])


def _read(item: Any, fmt: str | None, max_bytes: int, arrival_ms: int) -> UserEvent | EventResult:
    """The stream's reading of one event (as its record would be), or the rejection."""
    event_id = item.get("eventId") or item.get("messageId") if isinstance(item, dict) else None
    event_id = event_id if isinstance(event_id, str) else None
    claimed = item.get("eventType") if isinstance(item, dict) else None
    if isinstance(claimed, str) and canonical_event_type(claimed) in COMMAND_TYPES:
        return _rejected(0, event_id, ResultCode.COMMAND_NOT_ALLOWED, COMMANDS_ARE_THE_SYSTEMS)
    try:
        raw = orjson.dumps(item)
    except orjson.JSONEncodeError as exc:  # a number beyond 64 bits, nesting too deep: not an event the stream could carry
        return _rejected(0, event_id, ResultCode.SCHEMA, f"the event cannot be carried as JSON on the stream ({exc})")
    decoded = decode_event(raw, max_bytes, fmt, arrival_ms=arrival_ms)
    if isinstance(decoded, Rejection):
        return _rejected(0, event_id, ResultCode(decoded.code.value), decoded.reason)
    if decoded.eventType.value in COMMAND_TYPES:
        return _rejected(0, decoded.eventId, ResultCode.COMMAND_NOT_ALLOWED, COMMANDS_ARE_THE_SYSTEMS)
    return decoded


def _ownership_problem(event: UserEvent, own_id: str, tenant: str) -> str | None:
    if event.userId != own_id:
        return "the event's user is not the signed-in user (a token sends its own user's events only)"
    if event.tenantId is not None and event.tenantId != tenant:
        return f"the event names tenant {event.tenantId!r}; the token's tenant is {tenant!r}"
    return None


def _on_stream(event: UserEvent, user_id: str, tenant: str, own_id: str, ports: ApiPorts) -> dict[str, Any]:
    """The canonical native event the stream carries: pseudonymous user, the token's tenant. A session
    id that holds the app's user id (the Firebase and Segment normalizers derive one from it when the
    input has none) is replaced by a keyed hash of itself: the same session, without the id."""
    canonical = EVENT_ADAPTER.dump_python(event, mode="json", exclude_none=True, exclude_defaults=True)
    canonical["userId"] = user_id
    canonical["tenantId"] = tenant
    session = canonical["sessionId"]
    if own_id in session:
        canonical["sessionId"] = "s-" + ports.pseudonym_of(tenant, f"session\x1f{session}").removeprefix("p-")
    return canonical


def _not_erased(
    ready: list[tuple[int, dict[str, Any]]], results: list[EventResult | None], ports: ApiPorts, user_id: str
) -> list[tuple[int, dict[str, Any]]]:
    state = ports.users.state(user_id)
    if state is None or state.erased_at <= 0:
        return ready
    for index, event in ready:
        reason = "the user was erased; their events are refused until consent is given again (PUT /v1/users/{userId}/consent)"
        results[index] = _rejected(index, event["eventId"], ResultCode.USER_ERASED, reason)
    return []


def _append(ready: list[tuple[int, dict[str, Any]]], results: list[EventResult | None], ports: ApiPorts, max_bytes: int) -> None:
    """Append each distinct event once (a repeated eventId is accepted as a duplicate)."""
    first: dict[str, int] = {}
    distinct: list[tuple[int, dict[str, Any]]] = []
    for index, event in ready:
        earlier = first.get(event["eventId"])
        if earlier is not None:
            results[index] = EventResult(
                index=index,
                eventId=event["eventId"],
                status="accepted",
                code=ResultCode.DUPLICATE,
                reason=f"the same eventId as event {earlier}",
            )
            continue
        if len(orjson.dumps(event)) > max_bytes:
            reason = f"the event is over {max_bytes:,} bytes once on the stream"
            results[index] = _rejected(index, event["eventId"], ResultCode.OVERSIZE, reason)
            continue
        first[event["eventId"]] = index
        distinct.append((index, event))
    refusals = ports.stream.append_each([event for _, event in distinct]) if distinct else []
    for (index, event), refusal in zip(distinct, refusals, strict=True):
        if refusal:
            results[index] = _rejected(
                index, event["eventId"], ResultCode.STREAM_REFUSED, f"the stream refused the record: {refusal}"
            )
        else:
            results[index] = EventResult(index=index, eventId=event["eventId"], status="accepted")
    for index, event in ready:  # a duplicate shares the fate of the event it repeats
        result = results[index]
        if result is not None and result.code is ResultCode.DUPLICATE:
            original = results[first[event["eventId"]]]
            if original is not None and original.status == "rejected":
                results[index] = original.model_copy(update={"index": index})
