"""Creates, on the embedded moto server, the resources the synthesized template declares.

Key schemas, indexes (the signals' feature index, the state's sparse due index), TTL attributes, stream mode, queues, topics, buckets and the Timestream
database and table all come from the template; names are the template's where it sets one and
the logical id where CloudFormation would generate one. References in the function's
environment are resolved to those names, so the handler runs with the configuration it gets
in AWS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from localrt.template import Template, TemplateError

ACCOUNT = "123456789012"


@dataclass
class Provisioned:
    region: str
    names: dict[str, str] = field(default_factory=dict)  # logical id -> Ref value
    arns: dict[str, str] = field(default_factory=dict)  # logical id -> Arn
    queue_urls: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict):
            if "Ref" in value:
                return self.names[value["Ref"]]
            if "Fn::GetAtt" in value:
                lid, attribute = value["Fn::GetAtt"]
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

    for lid, r in template.of_type("AWS::SQS::Queue").items():
        name = r.get("Properties", {}).get("QueueName", lid)
        url = client("sqs").create_queue(QueueName=name)["QueueUrl"]
        out.names[lid] = url
        out.queue_urls[lid] = url
        out.arns[lid] = f"arn:aws:sqs:{region}:{ACCOUNT}:{name}"

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

    handled = {
        "AWS::DynamoDB::Table",
        "AWS::Kinesis::Stream",
        "AWS::SQS::Queue",
        "AWS::SNS::Topic",
        "AWS::S3::Bucket",
        "AWS::Timestream::Database",
        "AWS::Timestream::Table",
        "AWS::Lambda::Function",
        "AWS::Lambda::EventSourceMapping",  # emulated by localrt.esm
        "AWS::Scheduler::Schedule",  # emulated by localrt.runtime (the deadline timer's schedule)
    }
    out.skipped = sorted({r["Type"] for r in res.values()} - handled)
    return out


def function_environment(template: Template, provisioned: Provisioned, function_id: str) -> dict[str, str]:
    env = template.functions[function_id].environment
    return {name: str(provisioned.resolve(value)) for name, value in env.items()}
