"""cdk-nag 3 acknowledgments: every one names its rule finding and carries the reason."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge one finding, by the id the validation report prints ('<Plugin>::<Rule>[<finding>]')."""
    if rule.startswith("AwsSolutions-"):
        rule = f"AwsSolutions::{rule}"
    Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))
