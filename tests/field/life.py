"""One person's week: when they open the app, what they do in each session, and where their
episodes fall (each in a session of its own or, now and then, two in one session with at least six
minutes of ordinary use between them)."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from typing import Any

from .casebook import Spec
from .device import Device
from .moves import close_session, open_session
from .ordinary import ordinary_use
from .world import DAY0_MS, DAYS, START_MS, Person

MINUTE = 60_000
DAY = 24 * 60 * MINUTE


@dataclass(frozen=True)
class Ticket:
    """One episode to be lived: its class, variant, and who may live it."""

    spec: Spec
    variant: str
    platform: str
    apps: tuple[str, ...]
    lang: str | None

    def fits(self, p: Person) -> bool:
        return (
            p.platform == self.platform
            and p.app in self.apps
            and (self.lang is None or p.lang == self.lang)
            and (self.spec.who is None or self.spec.who(p))
        )


@dataclass
class Session:
    start: int
    day: int
    last_of_day: bool = False
    tickets: list[Ticket] = field(default_factory=list)


def _session_starts(p: Person, day: int, count: int, rng: random.Random) -> list[int]:
    """Local daytime mostly (7:30-22:30), now and then late at night; never before the suite's start."""
    earliest = max(450, (START_MS - DAY0_MS) // MINUTE + p.offset_min + 5) if day == 0 else 450
    for _ in range(200):
        times = sorted(rng.uniform(earliest, 1350) for _ in range(count))
        if rng.random() < 0.05:
            times[-1] = rng.uniform(max(times[-1], 1380), 1470)  # 23:00-00:30
        if all(b - a >= 80 for a, b in itertools.pairwise(times)):
            return [DAY0_MS + day * DAY + int((m - p.offset_min) * MINUTE) for m in times]
    return [DAY0_MS + day * DAY + int((earliest + 60 * i - p.offset_min) * MINUTE) for i in range(count)]


def plan_week(p: Person, tickets: list[Ticket], rng: random.Random) -> list[Session]:
    enders = [t for t in tickets if t.spec.ends == "day"]
    others = [t for t in tickets if t.spec.ends != "day"]
    days = sorted(rng.sample(range(DAYS), max(len(enders), rng.randint(2, DAYS))))
    count = max(len(days), len(tickets) + rng.randint(1, 3) if tickets else rng.randint(2, 5))
    per_day = dict.fromkeys(days, 1)
    for _ in range(count - len(days)):
        per_day[rng.choice(days)] += 1
    sessions: list[Session] = []
    for d in days:
        starts = _session_starts(p, d, per_day[d], rng)
        sessions += [Session(s, d, last_of_day=i == len(starts) - 1) for i, s in enumerate(starts)]
    for t, d in zip(enders, rng.sample(days, len(enders)), strict=True):
        next(s for s in sessions if s.day == d and s.last_of_day).tickets.append(t)
    rng.shuffle(others)
    for t in others:
        free = [s for s in sessions if not s.tickets]
        shared = [s for s in sessions if len(s.tickets) == 1 and (t.spec.ends is None or s.tickets[0].spec.ends is None)]
        s = rng.choice(shared if shared and (rng.random() < 0.2 or not free) else free)
        s.tickets.append(t)
        s.tickets.sort(key=lambda x: x.spec.ends is not None)  # whoever leaves the app goes last
    return sessions


def live(p: Person, tickets: list[Ticket], seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Everything the person's app sends this week, and the episodes a researcher marked in it."""
    rng = random.Random(f"{seed}:{p.user_id}")
    plan = plan_week(p, tickets, rng)
    u = Device(p, rng, plan[0].start)
    labels = []
    for session in plan:
        u.t = max(session.start, u.t + 25 * MINUTE)
        open_session(u)
        if not session.tickets:
            ordinary_use(u, rng.uniform(90, 600), calm=False)
            close_session(u)
            continue
        for k, ticket in enumerate(session.tickets):
            ordinary_use(u, rng.uniform(45, 300) if k == 0 else rng.uniform(400, 720), calm=True)
            labels.append(_live_episode(u, ticket))
        if session.tickets[-1].spec.ends is None:
            ordinary_use(u, rng.uniform(30, 300), calm=True)
            close_session(u)
    return u.events, labels


def _live_episode(u: Device, ticket: Ticket) -> dict[str, Any]:
    u.episode_first = u.episode_last = None
    note = ticket.spec.story(u, ticket.variant)
    first, last = u.episode_first, u.episode_last
    assert first is not None and last is not None and first <= last, ticket
    spec = ticket.spec
    return {
        "episodeId": "",
        "userId": u.p.user_id,
        "platform": u.p.platform,
        "appKind": u.p.app,
        "class": spec.cls,
        "label": spec.label,
        "signalType": spec.signal,
        "start": u.events[first]["timestamp"],
        "end": u.events[last]["timestamp"],
        "note": note if ticket.variant == spec.cls else f"[{ticket.variant}] {note}",
    }
