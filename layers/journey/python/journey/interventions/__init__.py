"""Interventions: the catalog, the policy that decides whether and where to send, and the ledger of sends."""
