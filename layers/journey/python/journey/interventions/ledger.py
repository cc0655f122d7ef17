"""The interventions ledger: where each send stands (the ``delivery`` attribute of its item)."""

from __future__ import annotations

from enum import Enum


class Delivery(str, Enum):
    """Where a send stands in the interventions ledger.

    The ledger entry is written as ``pending`` *before* anything is published. A replay (Kinesis
    redelivers after a crash or a timeout) reads it first: ``delivered`` and ``pending`` are not sent
    again (``pending`` means the outcome is unknown: a crash between publishing and recording, so at
    most once, counted as unconfirmed); ``failed`` is sent again; ``announced`` (the topic got it,
    push failed) retries the push only."""

    PENDING = "pending"
    FAILED = "failed"
    ANNOUNCED = "announced"
    DELIVERED = "delivered"
    UNCONFIRMED = "unconfirmed"

    @property
    def settled(self) -> bool:
        """Nothing more will be sent for it."""
        return self in (Delivery.DELIVERED, Delivery.PENDING, Delivery.UNCONFIRMED)
