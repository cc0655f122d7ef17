"""Time as the library counts it: epoch milliseconds."""

from __future__ import annotations

SECOND_MS = 1_000
MINUTE_MS = 60 * SECOND_MS
DAY_MS = 86_400_000
