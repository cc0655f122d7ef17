"""Exit risk: how likely a user is to leave, from their profile features."""
