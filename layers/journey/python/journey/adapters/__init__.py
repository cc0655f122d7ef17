"""AWS implementations of the ports in :mod:`journey.app.ports` (boto3 clients, standard retry mode)."""
