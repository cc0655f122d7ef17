"""The interventions ledger: where each send stands (the ``delivery`` attribute of its item, with the
reason in ``deliveryError`` when it did not go through)."""

from __future__ import annotations

from enum import Enum


class Delivery(str, Enum):
    """Where a send stands in the interventions ledger.

    The ledger entry is written as ``pending`` *before* anything is published; every send then ends in
    one of three known outcomes (DESIGN.md rule 5):

    * went through: ``delivered``;
    * did not, with the reason: ``undeliverable`` (a permanent failure: the request was refused, the
      device is gone, the user opted out; never sent again), or, while retries last, ``failed``
      (transient: sent again when Kinesis replays the user's records) and ``announced`` (the topic
      has it, the push failed transiently: only the push is retried);
    * unknown: ``unconfirmed`` (a replay found ``pending``: a crash came between publishing and
      recording, or the channel could not say; at most once, so not sent again).

    A replay (Kinesis redelivers after a crash or a timeout) reads the ledger first and sends nothing
    that is settled. The stored values are kept as they are: ``failed`` always means transient."""

    PENDING = "pending"
    FAILED = "failed"
    ANNOUNCED = "announced"
    DELIVERED = "delivered"
    UNDELIVERABLE = "undeliverable"
    UNCONFIRMED = "unconfirmed"

    @property
    def settled(self) -> bool:
        """Nothing more will be sent for it."""
        return self in _SETTLED


_SETTLED = frozenset({Delivery.DELIVERED, Delivery.PENDING, Delivery.UNDELIVERABLE, Delivery.UNCONFIRMED})
