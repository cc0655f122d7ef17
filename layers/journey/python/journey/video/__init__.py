"""Video intelligence: what a user's video watching says (interest, comprehension, readiness)."""
