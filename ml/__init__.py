"""Offline training of the exit-risk model (never in a layer: ``journey`` never imports ``ml``).

``python -m ml train|score``: docs/exit-risk.md."""
