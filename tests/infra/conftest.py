"""Synthesizes the app in-process (offline, no Docker), with cdk-nag attached as app.py attaches it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk import App, Validations
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

from infra.config import DeploymentConfig
from infra.stack import JourneyOrchestratorStack


def acknowledged_rules(outdir: Path) -> dict[str, str]:
    """Every acknowledgment recorded in the cloud assembly: rule id -> reason."""
    found: dict[str, str] = {}
    for metadata in outdir.glob("*.metadata.json"):
        for entries in json.loads(metadata.read_text()).values():
            for entry in entries:
                if entry["type"] == "aws:cdk:acknowledged-rules":
                    found.update(entry["data"])
    return found


def synthesize(outdir: Path, **context) -> tuple[Template, dict]:
    app = App(outdir=str(outdir), context={"stage": "test", **context})
    config = DeploymentConfig.from_context(app.node)
    stack = JourneyOrchestratorStack(app, "JourneyOrchestrator-test", config=config)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    app.synth()  # raises if any cdk-nag finding is left unacknowledged
    report = json.loads((outdir / "validation-report.json").read_text())
    report["acknowledged"] = acknowledged_rules(outdir)
    return Template.from_stack(stack), report


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory):
    return synthesize(tmp_path_factory.mktemp("cdk"))


@pytest.fixture(scope="session")
def template(synthesized) -> Template:
    return synthesized[0]


@pytest.fixture(scope="session")
def nag_report(synthesized) -> dict:
    return synthesized[1]


@pytest.fixture(scope="session")
def template_without_timestream(tmp_path_factory) -> Template:
    return synthesize(tmp_path_factory.mktemp("cdk-no-ts"), timestream="false")[0]
