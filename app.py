#!/usr/bin/env python3
"""CDK entry point. Environment-agnostic: no AWS calls or lookups at synth; the stage comes from -c stage=..."""

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from infra.config import DeploymentConfig
from infra.stack import JourneyOrchestratorStack

app = App()
config = DeploymentConfig.from_context(app.node)
JourneyOrchestratorStack(app, f"JourneyOrchestrator-{config.stage}", config=config)
Validations.of(app).add_plugins(AwsSolutionsChecks(app))
app.synth()
