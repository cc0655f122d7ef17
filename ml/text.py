"""How the reports write their figures, importable without scikit-learn (the local runtime's results
table prints them too)."""

from __future__ import annotations


def interval_text(interval: list[float] | None) -> str:
    """A gap's interval as ``-3.4 to +6.6`` (``-`` when there is none: a thin band, an old report)."""
    return "-" if not interval else f"{interval[0]:+.1f} to {interval[1]:+.1f}"
