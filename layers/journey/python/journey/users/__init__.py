"""Users: a user's rolling state (what the stream processor keeps per user) and their profile features."""
