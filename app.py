#!/usr/bin/env python3
"""CDK entry point. Environment-agnostic: no AWS calls or lookups at synth; the stage comes from -c stage=..."""

import sys
from pathlib import Path

# infra/ reads table key schemas and environment names from journey.resources (the domain layer's source)
sys.path.insert(0, str(Path(__file__).resolve().parent / "layers" / "journey" / "python"))

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from infra.config import DeploymentConfig
from infra.stack import JourneyOrchestratorStack

app = App()
config = DeploymentConfig.from_context(app.node)
JourneyOrchestratorStack(app, f"JourneyOrchestrator-{config.stage}", config=config)
Validations.of(app).add_plugins(AwsSolutionsChecks(app))
app.synth()
