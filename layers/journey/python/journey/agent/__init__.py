"""AI decisions: the agent's tools, escalations of hard cases, the context analysis (docs/agent.md)."""
