"""The canonical event model: a bounded superset of the native ``UserEvent`` shape."""

from __future__ import annotations

import hashlib
import json
from enum import Enum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    StrictInt,
    StringConstraints,
    TypeAdapter,
    model_serializer,
)
from pydantic.dataclasses import dataclass
from pydantic_core import PydanticCustomError

from journey.events.identity import normalize_user_id
from journey.events.vocabulary import canonical_action, canonical_event_type, canonical_target_type
from journey.kernel.ids import bounded_key

MIN_TIMESTAMP_MS = 946_684_800_000  # 2000-01-01
MAX_TIMESTAMP_MS = 4_102_444_800_000  # 2100-01-01
MAX_EXTRA_KEYS = 32

Id = Annotated[str, StringConstraints(min_length=1, max_length=128, strip_whitespace=True)]
Name = Annotated[str, StringConstraints(max_length=128)]
Text = Annotated[str, StringConstraints(max_length=512)]
MAX_EXTRA_TEXT = 512  # characters of an unknown field's text value

MAX_USER_ID_LENGTH = 128  # characters, after normalization
_MAX_RAW_USER_ID_LENGTH = 8 * MAX_USER_ID_LENGTH  # before: invisible characters may pad an id beyond its bound


def _user_id(value: str) -> str:
    """:func:`normalize_user_id`, then the bound, which holds for the normalized id (NFC may lengthen
    an id, removing invisible characters shortens it). One Python call per event: pydantic's own
    length constraints after a validator would be two more."""
    if value.isascii() and value.isprintable() and len(value) <= MAX_USER_ID_LENGTH:
        stripped = value.strip()  # normalize_user_id's own fast path, inlined: this runs for every event
        if stripped:
            return stripped
    if len(value) <= _MAX_RAW_USER_ID_LENGTH:
        value = normalize_user_id(value)
        if len(value) <= MAX_USER_ID_LENGTH:
            return value
    raise PydanticCustomError(
        "string_too_long",
        "String should have at most {max_length} characters (after normalization)",
        {"max_length": MAX_USER_ID_LENGTH},
    )


# Look-alike spellings of one id are one id (journey.events.identity, docs/data-model.md "User ids").
UserId = Annotated[str, AfterValidator(_user_id)]


class EventType(str, Enum):
    PAGE_VIEW = "page_view"
    SCREEN_VIEW = "screen_view"
    VIDEO_ENGAGEMENT = "video_engagement"
    FEATURE_INTERACTION = "feature_interaction"
    STRUGGLE_SIGNAL = "struggle_signal"
    ERROR = "error"
    HELP_REQUEST = "help_request"
    APP_LIFECYCLE = "app_lifecycle"
    SEARCH = "search"
    TIMER = "timer"  # a command from the deadline timer: "it is now T; declare what is due" (not user activity)
    IDENTIFY = "identify"  # who the user is (time zone, push endpoint, consent, segment): a profile update, not activity
    COMMAND = "command"  # a command from a front door (the HTTPS API): consent, erasure, an outcome (not user activity)


_EVENT_TYPES = frozenset(kind.value for kind in EventType)


def _event_type(value: Any) -> Any:
    """A known spelling of an event type (``screenView``, ``Page_View``) read as its canonical name."""
    if type(value) is str and value not in _EVENT_TYPES:
        return canonical_event_type(value)
    return value


# Words of the vocabulary (journey.events.vocabulary, docs/events.md), read in their canonical spelling.
Action = Annotated[str, StringConstraints(max_length=64), AfterValidator(canonical_action)]
TargetType = Annotated[str, StringConstraints(max_length=64), AfterValidator(canonical_target_type)]


class Platform(str, Enum):
    IOS = "iOS"
    ANDROID = "Android"
    WEB = "Web"


def check_unknown_fields(payload: dict[str, Any]) -> str | None:
    """Why the unknown fields of a canonical payload exceed their bounds, or None when they don't.
    Unknown fields are kept only through this check: at most :data:`MAX_EXTRA_KEYS` per section, each
    named in at most 64 characters and holding a scalar (text of at most :data:`MAX_EXTRA_TEXT`
    characters, a number, a boolean or null)."""
    for known, data, where in (
        (_KNOWN["event"], payload, ""),
        (_KNOWN["eventData"], payload.get("eventData"), "eventData."),
        (_KNOWN["deviceInfo"], payload.get("deviceInfo"), "deviceInfo."),
        (_KNOWN["userContext"], payload.get("userContext"), "userContext."),
    ):
        if not isinstance(data, dict) or known.issuperset(data):
            continue
        unknown = [key for key in data if key not in known]
        if len(unknown) > MAX_EXTRA_KEYS:
            return f"{where.rstrip('.') or 'the event'}: at most {MAX_EXTRA_KEYS} unknown fields are kept, got {len(unknown)}"
        for key in unknown:
            if not isinstance(key, str) or len(key) > 64:
                return f"{where}{str(key)[:20]}...: unknown field names are limited to 64 characters"
            if key.startswith("__") and key.endswith("__"):  # Python's own names: kept, they would shadow its machinery
                return f"{where}{key}: an unknown field may not be named like __this__ (Python's reserved names)"
            problem = _unknown_value_problem(data[key])
            if problem:
                return f"{where}{key}: {problem}"
    return None


def _unknown_value_problem(value: Any) -> str | None:
    if value is None or isinstance(value, bool | int | float):
        return None
    if isinstance(value, str):
        if len(value) > MAX_EXTRA_TEXT:
            return f"an unknown field's text is kept up to {MAX_EXTRA_TEXT} characters, got {len(value)}"
        return None
    return f"an unknown field is kept only when it holds text, a number, a boolean or null, not {_json_kind(value)}"


def _json_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    return "an array" if isinstance(value, list) else type(value).__name__


# The event's sections are pydantic dataclasses, not ``BaseModel``s: ``BaseModel`` defines
# ``__getattr__``, which makes CPython take its slow attribute path for every field read, and the fold
# reads ~80 fields per event (5 µs of ~50 per event in `make bench`). Unknown fields live in the instance ``__dict__``
# beside the known ones (pydantic puts them there), are read through ``unknown_fields`` and written
# back when an event is serialized (:data:`EVENT_ADAPTER`).
_SECTION = ConfigDict(extra="allow")


@dataclass(frozen=True, eq=False, config=_SECTION)
class _Bounded:
    """Known fields are typed and bounded; unknown ones are kept (bounded by
    :func:`check_unknown_fields` before validation). Events are immutable once read."""

    @property
    def unknown_fields(self) -> dict[str, Any]:
        """The fields this section carried beyond the canonical ones (empty when none)."""
        values, known = self.__dict__, type(self).__dataclass_fields__
        if len(values) == len(known):
            return {}
        return {name: value for name, value in values.items() if name not in known}

    def __eq__(self, other: object) -> bool:
        """Equal when of one kind with the same fields, unknown ones included (the generated
        ``__eq__`` would compare the known ones only, and serializing without defaults would then
        drop a section that holds only unknown fields)."""
        if type(other) is not type(self):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # equal by value, and a section may hold a list

    @model_serializer(mode="wrap")
    def _with_unknown_fields(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for name, value in self.unknown_fields.items():
            if value is not None or not info.exclude_none:
                data[name] = value
        return data


@dataclass(frozen=True, eq=False, config=_SECTION)
class EventData(_Bounded):
    feature: Name | None = None
    action: Action | None = None
    screen: Text | None = None
    target: Name | None = None
    targetType: TargetType | None = None
    x: float | None = Field(default=None, ge=-100_000, le=100_000)
    y: float | None = Field(default=None, ge=-100_000, le=100_000)
    videoId: Name | None = None
    duration: float | None = Field(default=None, ge=0, le=86_400_000)
    completionRate: float | None = Field(default=None, ge=0, le=1)
    # video (journey.video, docs/video.md): the playhead when the action happened, where a seek went to,
    # and the playback rate, in seconds of the video (at most a day, as ``duration``) and the HTML media range
    videoPosition: float | None = Field(default=None, ge=0, le=86_400)
    seekTo: float | None = Field(default=None, ge=0, le=86_400)
    playbackSpeed: float | None = Field(default=None, ge=0.0625, le=16)
    attemptCount: int | None = Field(default=None, ge=0, le=10_000)
    errorType: Name | None = None
    query: Text | None = None
    progress: float | None = Field(default=None, ge=0, le=100)


@dataclass(frozen=True, eq=False, config=_SECTION)
class DeviceInfo(_Bounded):
    platform: Platform | None = None
    appVersion: Annotated[str, StringConstraints(max_length=64)] | None = None
    deviceModel: Name | None = None
    timezone: Annotated[str, StringConstraints(max_length=64)] | None = None
    pushEndpoint: Annotated[str, StringConstraints(max_length=1024)] | None = None


class Consent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    inApp: bool = True
    push: bool = False
    messages: bool = False


@dataclass(frozen=True, eq=False, config=_SECTION)
class UserContext(_Bounded):
    userSegment: Annotated[str, StringConstraints(max_length=64)] | None = None
    sessionStage: Annotated[str, StringConstraints(max_length=64)] | None = None
    previousActions: list[Name] = Field(default_factory=list, max_length=20)
    consent: Consent | None = None


TENANT_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
Tenant = Annotated[str, StringConstraints(pattern=TENANT_PATTERN)]


class CommandName(str, Enum):
    CONSENT = "consent"  # the user's consent per channel changed (a grant also lifts an erasure's tombstone)
    ERASE = "erase"  # erase everything held about the user, and refuse their events until consent is given again
    OUTCOME = "outcome"  # the app reports what became of an intervention
    SCHEDULE = "schedule"  # the agent asks for an intervention for an open escalation (folded through the policy)
    ESCALATION = "escalation"  # the agent invoker closes an escalation: who decided, with what (provenance)


class InterventionOutcome(str, Enum):
    SHOWN = "shown"
    DISMISSED = "dismissed"
    ACTED = "acted"
    RESOLVED = "resolved"


class Command(BaseModel):
    """What a command event asks of the stream processor (``eventType`` ``command``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: CommandName
    requestId: Id
    requestedBy: Annotated[str, StringConstraints(max_length=256)] = ""  # who asked: a principal, never personal data
    consent: Consent | None = None  # consent
    interventionId: Id | None = None  # outcome
    outcome: InterventionOutcome | None = None  # outcome
    escalationId: Id | None = None  # schedule, escalation
    interventionType: Name | None = None  # schedule: a catalog entry's type
    channel: Annotated[str, StringConstraints(max_length=16)] | None = (
        None  # schedule: in_app, push or sns (else the entry's order)
    )
    rationale: Annotated[str, StringConstraints(max_length=1000)] | None = None  # schedule: why, in the agent's words
    decider: Annotated[str, StringConstraints(pattern="^(agent|fallback)$")] | None = None  # escalation
    reason: Annotated[str, StringConstraints(max_length=256)] | None = None  # escalation: why the rules decided
    model: Annotated[str, StringConstraints(max_length=256)] | None = None  # escalation
    latencyMs: int | None = Field(default=None, ge=0, le=3_600_000)  # escalation
    inputTokens: int | None = Field(default=None, ge=0, le=100_000_000)  # escalation
    outputTokens: int | None = Field(default=None, ge=0, le=100_000_000)  # escalation


# An event that leaves out a section gets these (immutable, so one instance is shared: building a
# fresh empty model for every event that omits one costs about a microsecond each).
_NO_EVENT_DATA = EventData()
_NO_DEVICE_INFO = DeviceInfo()
_NO_USER_CONTEXT = UserContext()


@dataclass(frozen=True, eq=False, config=_SECTION)
class UserEvent(_Bounded):
    """One thing a user did, in the canonical shape every normalizer produces."""

    eventId: Id
    eventType: Annotated[EventType, BeforeValidator(_event_type)]
    userId: UserId
    sessionId: Id
    timestamp: StrictInt = Field(ge=MIN_TIMESTAMP_MS, le=MAX_TIMESTAMP_MS, description="epoch milliseconds")
    eventData: EventData = Field(default_factory=lambda: _NO_EVENT_DATA)
    deviceInfo: DeviceInfo = Field(default_factory=lambda: _NO_DEVICE_INFO)
    userContext: UserContext = Field(default_factory=lambda: _NO_USER_CONTEXT)
    tenantId: Tenant | None = None  # the app (tenant) the user belongs to; none: the deployment's default tenant
    command: Command | None = None  # only on eventType "command"

    @property
    def feature(self) -> str:
        """The feature (else the screen) the event is about, as a key bounded in bytes
        (:func:`journey.kernel.ids.bounded_key`): state, signals and their table keys are built from it."""
        data = self.eventData
        return bounded_key(data.feature or data.screen or "unknown")


def derive_event_id(data: dict[str, Any]) -> str:
    """A stable id for formats that carry none: the same event always hashes to the same id."""
    basis = json.dumps(
        [data.get("userId"), data.get("sessionId"), data.get("timestamp"), data.get("eventType"), data.get("eventData")],
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return "d-" + hashlib.sha256(basis.encode()).hexdigest()[:32]


_KNOWN = {
    "event": frozenset(UserEvent.__dataclass_fields__),
    "eventData": frozenset(EventData.__dataclass_fields__),
    "deviceInfo": frozenset(DeviceInfo.__dataclass_fields__),
    "userContext": frozenset(UserContext.__dataclass_fields__),
}

_SIZES = tuple(len(section.__dataclass_fields__) for section in (UserEvent, EventData, DeviceInfo, UserContext))


def has_unknown_fields(event: UserEvent) -> bool:
    """Whether any section of the event carries a field beyond the canonical ones (a field count, not
    a scan: this runs for every event decoded)."""
    event_size, data_size, device_size, context_size = _SIZES
    return (
        len(event.__dict__) != event_size
        or len(event.eventData.__dict__) != data_size
        or len(event.deviceInfo.__dict__) != device_size
        or len(event.userContext.__dict__) != context_size
    )


# Validation from Python data and serialization (unknown fields included) of a ``UserEvent``.
EVENT_ADAPTER: TypeAdapter[UserEvent] = TypeAdapter(UserEvent)


def at_time(event: UserEvent, timestamp: int) -> UserEvent:
    """The same event (unknown fields included) stamped with another time."""
    moved = object.__new__(UserEvent)
    moved.__dict__.update(event.__dict__, timestamp=timestamp)  # frozen: filled before anyone sees it
    return moved
