"""The agent invoker: resolves the escalation queue's hard cases with the agent, within a time budget."""
