"""Events: the canonical model, the wire formats it is normalized from, and reading records into it."""
