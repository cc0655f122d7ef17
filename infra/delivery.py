"""Delivery fan-out: the interventions topic (KMS-encrypted, TLS enforced)."""

from __future__ import annotations

from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct


class InterventionDelivery(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(
            self,
            "InterventionsTopic",
            display_name="Journey interventions",
            master_key=key,
            enforce_ssl=True,
        )
