"""Creates, on the embedded moto server, the resources the synthesized template declares.

Key schemas, indexes (the signals' feature index, the state's sparse due index), TTL attributes, stream mode, queues, topics, buckets and the Timestream
database and table all come from the template; names are the template's where it sets one and
the logical id where CloudFormation would generate one. References in the function's
environment are resolved to those names, so the handler runs with the configuration it gets
in AWS. Queues get the template's attributes (visibility timeout, retention, the redrive policy to
their dead-letter queue).

Amazon Bedrock's resources (``AWS::Bedrock::*``, ``AWS::BedrockAgentCore::*``) are not created:
moto has no Bedrock. They are listed in ``Provisioned.played_by_standin`` (and logged), and the
attributes the functions' environment takes from them (the harness's ARN, the agent's and alias's
ids) resolve to named placeholders the local stand-in answers to (``localrt.bedrock_standin``).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from localrt.bedrock_standin import PLACEHOLDER_AGENT_ALIAS_ID, PLACEHOLDER_AGENT_ID, harness_arn
from localrt.template import Template, TemplateError

ACCOUNT = "123456789012"
log = logging.getLogger(__name__)
QUEUE_ATTRIBUTES = (
    "VisibilityTimeout",
    "MessageRetentionPeriod",
    "DelaySeconds",
    "ReceiveMessageWaitTimeSeconds",
    "MaximumMessageSize",
    "FifoQueue",
    "ContentBasedDeduplication",
)
# Amazon Bedrock has no local form (moto has none of it): these are played by localrt.bedrock_standin
BEDROCK_TYPE_PREFIXES = ("AWS::Bedrock::", "AWS::BedrockAgentCore::")


@dataclass
class Provisioned:
    region: str
    names: dict[str, str] = field(default_factory=dict)  # logical id -> Ref value
    arns: dict[str, str] = field(default_factory=dict)  # logical id -> Arn
    queue_urls: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    played_by_standin: list[str] = field(default_factory=list)  # Bedrock types: the local stand-in answers for them
    attributes: dict[tuple[str, str], str] = field(default_factory=dict)  # (logical id, attribute) -> value

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict):
            if "Ref" in value:
                return self.names[value["Ref"]]
            if "Fn::GetAtt" in value:
                lid, attribute = value["Fn::GetAtt"]
                if (lid, attribute) in self.attributes:
                    return self.attributes[(lid, attribute)]
                if attribute == "Arn":
                    return self.arns[lid]
                if attribute in ("Name", "QueueName", "TopicName"):
                    return self.names[lid]
                raise TemplateError(f"cannot resolve Fn::GetAtt {lid}.{attribute} locally")
        return value


def _key_schema(props: dict) -> list[dict]:
    return props["KeySchema"]


def provision(template: Template, session, region: str, endpoint_url: str | None = None) -> Provisioned:
    out = Provisioned(region=region)
    res = template.resources

    def client(name: str):
        return session.client(name, region_name=region, endpoint_url=endpoint_url)

    for lid, r in template.of_type("AWS::DynamoDB::Table").items():
        props = r["Properties"]
        args: dict[str, Any] = {
            "TableName": props.get("TableName", lid),
            "KeySchema": _key_schema(props),
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        ddb = client("dynamodb")
        ddb.create_table(**args)
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            ddb.update_time_to_live(
                TableName=args["TableName"],
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
            )
        out.names[lid] = args["TableName"]
        out.arns[lid] = f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{args['TableName']}"

    for lid, r in template.of_type("AWS::Kinesis::Stream").items():
        props = r["Properties"]
        name = props.get("Name", lid)
        mode = props.get("StreamModeDetails", {}).get("StreamMode", "PROVISIONED")
        kinesis = client("kinesis")
        if mode == "ON_DEMAND":
            kinesis.create_stream(StreamName=name, StreamModeDetails={"StreamMode": "ON_DEMAND"})
        else:
            kinesis.create_stream(StreamName=name, ShardCount=int(props.get("ShardCount", 1)))
        kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})
        out.names[lid] = name
        out.arns[lid] = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]

    queues = template.of_type("AWS::SQS::Queue")
    for lid, r in queues.items():
        props = r.get("Properties", {})
        name = props.get("QueueName", lid)
        attributes = {
            key: str(props[key]).lower() if isinstance(props[key], bool) else str(props[key])
            for key in QUEUE_ATTRIBUTES
            if key in props
        }
        url = client("sqs").create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        out.names[lid] = url
        out.queue_urls[lid] = url
        out.arns[lid] = f"arn:aws:sqs:{region}:{ACCOUNT}:{name}"
    for lid, r in queues.items():  # once every queue exists: a redrive policy names its dead-letter queue's ARN
        redrive = r.get("Properties", {}).get("RedrivePolicy")
        if redrive:
            policy = {
                "deadLetterTargetArn": out.resolve(redrive["deadLetterTargetArn"]),
                "maxReceiveCount": int(redrive["maxReceiveCount"]),
            }
            client("sqs").set_queue_attributes(QueueUrl=out.queue_urls[lid], Attributes={"RedrivePolicy": json.dumps(policy)})

    for lid, r in template.of_type("AWS::SNS::Topic").items():
        name = r.get("Properties", {}).get("TopicName", lid)
        arn = client("sns").create_topic(Name=name)["TopicArn"]
        out.names[lid] = arn
        out.arns[lid] = arn

    for lid, r in template.of_type("AWS::S3::Bucket").items():
        name = r.get("Properties", {}).get("BucketName", lid.lower())
        s3 = client("s3")
        if region == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
        out.names[lid] = name
        out.arns[lid] = f"arn:aws:s3:::{name}"

    for lid, r in template.of_type("AWS::Timestream::Database").items():
        name = r["Properties"].get("DatabaseName", lid)
        arn = client("timestream-write").create_database(DatabaseName=name)["Database"]["Arn"]
        out.names[lid] = name
        out.arns[lid] = arn
    for lid, r in template.of_type("AWS::Timestream::Table").items():
        props = r["Properties"]
        database = out.resolve(props["DatabaseName"])
        name = props.get("TableName", lid)
        arn = client("timestream-write").create_table(DatabaseName=database, TableName=name)["Table"]["Arn"]
        out.names[lid] = name
        out.arns[lid] = arn

    for lid in template.of_type("AWS::Lambda::Function"):
        out.names[lid] = lid
        out.arns[lid] = f"arn:aws:lambda:{region}:{ACCOUNT}:function:{lid}"

    _placeholders_for_bedrock(template, out, region)

    handled = {
        "AWS::DynamoDB::Table",
        "AWS::Kinesis::Stream",
        "AWS::SQS::Queue",
        "AWS::SNS::Topic",
        "AWS::S3::Bucket",
        "AWS::Timestream::Database",
        "AWS::Timestream::Table",
        "AWS::Lambda::Function",
        "AWS::Lambda::EventSourceMapping",  # emulated by localrt.esm (Kinesis) and localrt.sqs_esm (SQS)
        "AWS::Scheduler::Schedule",  # emulated by localrt.runtime (the deadline timer's schedule)
    }
    types = {r["Type"] for r in res.values()}
    out.played_by_standin = sorted(t for t in types if t.startswith(BEDROCK_TYPE_PREFIXES))
    out.skipped = sorted(types - handled - set(out.played_by_standin))
    if out.played_by_standin:
        log.info(
            "not created on moto (it has no Bedrock): %s; the local Bedrock stand-in (localrt.bedrock_standin) plays them",
            ", ".join(out.played_by_standin),
        )
    return out


def _placeholders_for_bedrock(template: Template, out: Provisioned, region: str) -> None:
    """The ids the functions' environment takes from the Bedrock resources moto does not create: named
    placeholders the local stand-in answers to (localrt.bedrock_standin)."""
    for lid in template.of_type("AWS::BedrockAgentCore::Harness"):
        out.attributes[(lid, "Arn")] = out.attributes[(lid, "HarnessArn")] = harness_arn(region)
        out.names[lid] = harness_arn(region)
    for lid in template.of_type("AWS::Bedrock::Agent"):
        out.attributes[(lid, "AgentId")] = out.names[lid] = PLACEHOLDER_AGENT_ID
        out.attributes[(lid, "AgentArn")] = f"arn:aws:bedrock:{region}:{ACCOUNT}:agent/{PLACEHOLDER_AGENT_ID}"
    for lid in template.of_type("AWS::Bedrock::AgentAlias"):
        arn = f"arn:aws:bedrock:{region}:{ACCOUNT}:agent-alias/{PLACEHOLDER_AGENT_ID}/{PLACEHOLDER_AGENT_ALIAS_ID}"
        out.attributes[(lid, "AgentAliasId")] = PLACEHOLDER_AGENT_ALIAS_ID
        out.attributes[(lid, "AgentAliasArn")] = out.names[lid] = arn


def function_environment(template: Template, provisioned: Provisioned, function_id: str) -> dict[str, str]:
    env = template.functions[function_id].environment
    return {name: str(provisioned.resolve(value)) for name, value in env.items()}
