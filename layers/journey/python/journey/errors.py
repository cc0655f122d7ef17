"""One error hierarchy for the whole library. Each front door (the stream, later HTTP and the agent)
maps it once: a :class:`TransientError` is retried, any other :class:`JourneyError` is a permanent
problem with the input or the configuration and is reported, never retried."""

from __future__ import annotations


class JourneyError(Exception):
    """Base of every error the library raises on purpose."""


class TransientError(JourneyError):
    """A dependency failed in a way a retry may fix (throttling, timeouts, 5xx)."""
