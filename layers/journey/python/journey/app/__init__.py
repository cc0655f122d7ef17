"""Use cases over ports: what the system does, with AWS (or anything else) behind the ports it is given."""
