"""Held-out, human-labelled field suite (measurement only; see README.md)."""
