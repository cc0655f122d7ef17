"""AWS implementations of the ports in :mod:`journey.ports` (boto3 clients, standard retry mode)."""
