"""cdk-nag 3 acknowledgments: every one names its rule finding and carries the reason."""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnElement, Stack, Validations
from constructs import IConstruct


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge one finding, by the id the validation report prints ('<Plugin>::<Rule>[<finding>]')."""
    if rule.startswith("AwsSolutions-"):
        rule = f"AwsSolutions::{rule}"
    Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))


def logical_id(construct: IConstruct) -> str:
    """The logical id of an L2 construct's CloudFormation resource (as cdk-nag names it in findings)."""
    child = construct.node.default_child
    if not isinstance(child, CfnElement):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource as its default child")
    return Stack.of(construct).get_logical_id(child)
