"""CDK (aws-cdk-lib v2) stacks and constructs of the orchestrator."""
