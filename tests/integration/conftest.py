"""Integration fixtures: AWS resources provisioned from the synthesized template, on moto."""

from __future__ import annotations

import importlib.util
import sys
from types import SimpleNamespace

import boto3
import pytest
from moto import mock_aws

from localrt.provision import function_environment, provision
from localrt.template import load_template
from tests.builders import use_fake_aws_credentials

REGION = "us-east-1"


def _clear_caches() -> None:
    from journey.adapters.aws.clients import client
    from journey.adapters.aws.factories import aws_ports
    from journey.settings import load_settings

    client.cache_clear()
    aws_ports.cache_clear()
    load_settings.cache_clear()


@pytest.fixture
def deployed(monkeypatch):
    """The stack's resources in moto, and the real handler configured as the template configures it."""
    use_fake_aws_credentials(monkeypatch, REGION, POWERTOOLS_TRACE_DISABLED="true", POWERTOOLS_METRICS_NAMESPACE="Test")
    _clear_caches()
    with mock_aws():
        template = load_template()
        session = boto3.session.Session(region_name=REGION)
        provisioned = provision(template, session, REGION)
        function_id = template.mappings[0].function
        env = function_environment(template, provisioned, function_id)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        spec = template.functions[function_id]
        module_spec = importlib.util.spec_from_file_location("handler_under_test", spec.code_path / "handler.py")
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        sqs, sns = session.client("sqs"), session.client("sns")
        queue_url = sqs.create_queue(QueueName="subscriber")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(
            TopicArn=env["INTERVENTIONS_TOPIC_ARN"], Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
        )
        yield SimpleNamespace(handler=module.lambda_handler, env=env, session=session, subscriber=queue_url, template=template)
    _clear_caches()
    sys.modules.pop("handler_under_test", None)


class Context:
    function_name = "StreamProcessor"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:StreamProcessor"
    aws_request_id = "test-request"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 60_000


@pytest.fixture
def context():
    return Context()
