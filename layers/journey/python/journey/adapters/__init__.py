"""Adapters: the ports of :mod:`journey.app.ports` implemented on real services (``aws/``)."""
