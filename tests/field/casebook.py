"""The list of episode classes: what each one is labelled, how many the suite holds, and who can
have one (which platforms, which kinds of app)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .device import Device
from .world import Person

ALL_APPS = ("shop", "media", "social", "travel", "fintech")
ALL_PLATFORMS = ("iOS", "Android", "Web")
MOBILE = ("iOS", "Android")


@dataclass(frozen=True)
class Variant:
    name: str
    platforms: tuple[str, ...] = ALL_PLATFORMS
    apps: tuple[str, ...] = ALL_APPS
    share: int = 1  # how many of every round of tickets go to this variant


Story = Callable[[Device, str], str]  # writes the episode's events, returns the note


@dataclass(frozen=True)
class Spec:
    cls: str
    label: str  # positive | hard_negative | ambiguous
    signal: str
    quota: int
    story: Story
    variants: tuple[Variant, ...]
    who: Callable[[Person], bool] | None = None  # only people for whom this holds (e.g. a mouse on the web)
    by_language: bool = False  # spread the tickets evenly over the five languages
    ends: str | None = None  # "session": the person leaves the app; "day": and does not come back that day


CASEBOOK: list[Spec] = []


def episode(
    cls: str,
    label: str,
    signal: str,
    quota: int,
    *,
    variants: tuple[Variant, ...] = (),
    platforms: tuple[str, ...] = ALL_PLATFORMS,
    apps: tuple[str, ...] = ALL_APPS,
    who: Callable[[Person], bool] | None = None,
    by_language: bool = False,
    ends: str | None = None,
) -> Callable[[Story], Story]:
    def register(story: Story) -> Story:
        CASEBOOK.append(
            Spec(cls, label, signal, quota, story, variants or (Variant(cls, platforms, apps),), who, by_language, ends)
        )
        return story

    return register
