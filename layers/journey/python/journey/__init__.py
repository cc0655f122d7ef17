"""Intelligent User Journey Orchestrator: the shared domain library (deployed as a Lambda layer)."""
