"""The synthesized template has the properties the design relies on."""

import json

from aws_cdk.assertions import Match

from journey.resources import API_IDEMPOTENCY, CONTEXT_ANALYSES, DUE_INDEX, IDENTITIES, TABLES, USER_STATE


def resources(template, kind):
    return template.find_resources(kind)


def test_stream_is_on_demand_and_encrypted(template):
    template.has_resource_properties(
        "AWS::Kinesis::Stream",
        {
            "StreamModeDetails": {"StreamMode": "ON_DEMAND"},
            "StreamEncryption": {"EncryptionType": "KMS", "KeyId": Match.any_value()},
        },
    )


def test_event_source_mapping_is_bounded_and_reports_partial_failures(template):
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "BatchSize": 500,
            "MaximumBatchingWindowInSeconds": 0,
            "BisectBatchOnFunctionError": True,
            "MaximumRetryAttempts": 5,
            "MaximumRecordAgeInSeconds": 3600,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "DestinationConfig": {
                "OnFailure": {"Destination": {"Fn::GetAtt": [Match.string_like_regexp("OnFailureDestination"), "Arn"]}}
            },
        },
    )


def test_processor_runs_with_both_layers_tracing_and_its_configuration(template):
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": "python3.14",
            "Handler": "handler.lambda_handler",
            "TracingConfig": {"Mode": "Active"},
            "Environment": {
                "Variables": Match.object_like(
                    {
                        "STATE_TABLE": Match.any_value(),
                        "INTERVENTIONS_TOPIC_ARN": Match.any_value(),
                        "QUARANTINE_BUCKET": Match.any_value(),
                        "JOURNEY_SWITCHES__TIMESTREAM_ENABLED": "true",
                        "POWERTOOLS_SERVICE_NAME": "journey-orchestrator",
                        "POWERTOOLS_TRACE_DISABLED": "true",  # X-Ray SDK subsegments are opt-in (cold start)
                    }
                )
            },
        },
    )
    assert len(resources(template, "AWS::Lambda::LayerVersion")) == 2
    functions = resources(template, "AWS::Lambda::Function").values()
    # the processor, the deadline timer, the API; the agent invoker and the three action groups (agent=agentcore)
    assert len(functions) == 7 and all(len(f["Properties"]["Layers"]) == 2 for f in functions)


def test_tables_have_pitr_encryption_and_ttl(template):
    tables = resources(template, "AWS::DynamoDB::Table")
    assert len(tables) == len(TABLES)
    for table in tables.values():
        props = table["Properties"]
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert props["SSESpecification"]["SSEEnabled"] is True and props["SSESpecification"]["SSEType"] == "KMS"
        assert props["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
        assert props["BillingMode"] == "PAY_PER_REQUEST"


def test_signals_have_a_feature_level_index_for_hot_spots(template):
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "GlobalSecondaryIndexes": Match.array_with(
                [
                    Match.object_like(
                        {
                            "IndexName": "FeatureStruggleIndex",
                            "KeySchema": [
                                {"AttributeName": "featureId", "KeyType": "HASH"},
                                {"AttributeName": "detectedAt", "KeyType": "RANGE"},
                            ],
                        }
                    )
                ]
            )
        },
    )


def _denies_insecure_transport(policy_document) -> bool:
    return any(
        s.get("Effect") == "Deny" and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
        for s in policy_document["Statement"]
    )


def test_topics_queues_and_buckets_are_encrypted_and_require_tls(template):
    for topic in resources(template, "AWS::SNS::Topic").values():
        assert "KmsMasterKeyId" in topic["Properties"]
    for policy in resources(template, "AWS::SNS::TopicPolicy").values():
        assert _denies_insecure_transport(policy["Properties"]["PolicyDocument"])
    for queue in resources(template, "AWS::SQS::Queue").values():
        assert "KmsMasterKeyId" in queue["Properties"]
    for policy in resources(template, "AWS::SQS::QueuePolicy").values():
        assert _denies_insecure_transport(policy["Properties"]["PolicyDocument"])
    for bucket in resources(template, "AWS::S3::Bucket").values():
        props = bucket["Properties"]
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
    for policy in resources(template, "AWS::S3::BucketPolicy").values():
        assert _denies_insecure_transport(policy["Properties"]["PolicyDocument"])


def test_key_rotation_is_on(template):
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_alarms_watch_iterator_age_failures_and_errors(template):
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    metrics = {a["Properties"].get("MetricName") for a in alarms.values()}
    assert {
        "IteratorAge",
        "ApproximateNumberOfMessagesVisible",
        "Errors",
        "EventsRejected",
        "InterventionsUnconfirmed",
        "ExitRiskModelUnavailable",  # a configured model that cannot be loaded: the points model scores meanwhile
    } <= metrics
    assert all(a["Properties"]["AlarmActions"] for a in alarms.values())


def test_alarms_on_the_processors_counts_read_no_data_as_no_breach(template):
    """The processor emits a rare count only when it is not zero (journey.lambda_kit.metrics): its
    alarms must read a period without data as a period without the problem."""
    alarms = resources(template, "AWS::CloudWatch::Alarm").values()
    counted = [a for a in alarms if a["Properties"].get("Namespace") == "JourneyOrchestrator"]
    assert len(counted) >= 8
    assert all(a["Properties"]["TreatMissingData"] == "notBreaching" for a in counted)


def test_every_alarm_points_at_a_section_of_the_runbook(template):
    import re
    from pathlib import Path

    runbook = (Path(__file__).resolve().parents[2] / "docs" / "runbook.md").read_text()
    sections = {line[3:].strip().lower() for line in runbook.splitlines() if line.startswith("## ")}
    for alarm in resources(template, "AWS::CloudWatch::Alarm").values():
        (pointer,) = re.findall(r"\(runbook: ([^)]+)\)", alarm["Properties"]["AlarmDescription"])
        assert pointer.lower() in sections, f"no runbook section '{pointer}'"


def test_timestream_is_on_by_default_and_removable(template, template_without_timestream):
    assert len(resources(template, "AWS::Timestream::Table")) == 1
    assert resources(template_without_timestream, "AWS::Timestream::Database") == {}
    template_without_timestream.has_resource_properties(
        "AWS::Lambda::Function",
        {"Environment": {"Variables": Match.object_like({"JOURNEY_SWITCHES__TIMESTREAM_ENABLED": "false"})}},
    )


def _statements_of(template, role_prefix: str) -> list[dict]:
    return [
        s
        for p in resources(template, "AWS::IAM::Policy").values()
        if any(role["Ref"].startswith(role_prefix) for role in p["Properties"]["Roles"])
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statements) -> list[str]:
    return [a for s in statements for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])]


def test_function_permissions_are_least_privilege(template):
    statements = [
        s for p in resources(template, "AWS::IAM::Policy").values() for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    actions = _actions(statements)
    assert not any(a == "*" or a.endswith(":*") for a in actions), actions
    dynamodb = {a for a in _actions(_statements_of(template, "ProcessingStreamProcessor")) if a.startswith("dynamodb:")}
    assert dynamodb == {"dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:Query"}  # Query: erasure
    writes = {"dynamodb:BatchWriteItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
    others = [s for s in statements if s not in _statements_of(template, "ProcessingStreamProcessor")]
    other_writes = [s for s in others if writes & set(_actions([s]))]
    # only the stream processor writes items (DESIGN.md rule 1); the API owns two kinds, the identity items
    # and its record of the answers it gave
    # (tests/infra/test_api.py checks it in detail)
    api_owned = [{"Fn::GetAtt": [_table_id(template, spec), "Arn"]} for spec in (IDENTITIES, API_IDEMPOTENCY, CONTEXT_ANALYSES)]
    assert all(s["Resource"] in api_owned for s in other_writes), other_writes
    wildcard_resources = [s for s in statements if s["Resource"] == "*"]
    assert {a for s in wildcard_resources for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])} <= {
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "timestream:DescribeEndpoints",
    }


def _table_id(template, spec) -> str:
    (found,) = [lid for lid in resources(template, "AWS::DynamoDB::Table") if lid.startswith(f"Storage{spec.logical_id}")]
    return found


def test_cdk_nag_is_clean_and_every_acknowledgment_has_a_reason(nag_report):
    # the synth itself raised if any finding were left unacknowledged; here: what was acknowledged, and why
    for report in nag_report["pluginReports"]:
        assert report["conclusion"] == "success" and report["violations"] == [], report["pluginName"]
    acknowledged = nag_report["acknowledged"]
    assert {rule.split("[")[0] for rule in acknowledged} == {
        "AwsSolutions::AwsSolutions-IAM4",
        "AwsSolutions::AwsSolutions-IAM5",
        "AwsSolutions::AwsSolutions-KDS3",
        "AwsSolutions::AwsSolutions-S1",
        "AwsSolutions::AwsSolutions-SQS3",
        "AwsSolutions::AwsSolutions-SMG4",  # the pseudonym key: rotating it would re-key every user
        "CloudFormation-Validate::W3697",
        "CloudFormation-Validate::W3045",  # acknowledged by aws-cdk-lib itself on log-delivery buckets
    }
    for rule, reason in acknowledged.items():
        assert len(reason) > 30, rule


def test_cdk_nag_is_really_checking(tmp_path):
    """A control: the same checks fail a stack with an unencrypted queue, so a clean result means something."""
    import pytest
    from aws_cdk import App, Stack, Validations
    from aws_cdk import aws_sqs as sqs
    from cdk_nag import AwsSolutionsChecks

    app = App(outdir=str(tmp_path))
    stack = Stack(app, "Control")
    sqs.Queue(stack, "Plain", encryption=sqs.QueueEncryption.UNENCRYPTED)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    with pytest.raises(Exception, match="AwsSolutions-SQS2"):
        app.synth()


def test_end_user_messaging_push_is_scoped_to_its_application(tmp_path):
    import pytest

    from tests.infra.conftest import synthesize

    template, _ = synthesize(tmp_path / "eum", pushProvider="eum", eumApplicationId="app123", traceAwsCalls="true")
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Environment": {
                "Variables": Match.object_like(
                    {
                        "EUM_APPLICATION_ID": "app123",
                        "JOURNEY_SWITCHES__PUSH_PROVIDER": "eum",
                        "POWERTOOLS_TRACE_DISABLED": "false",
                    }
                )
            }
        },
    )
    statements = [
        s for p in template.find_resources("AWS::IAM::Policy").values() for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    (send,) = [s for s in statements if s["Action"] == "mobiletargeting:SendMessages"]
    assert "apps/app123/messages" in str(send["Resource"])
    with pytest.raises(ValueError, match="eumApplicationId"):
        synthesize(tmp_path / "eum-missing", pushProvider="eum")


# --- the deadline timer ---------------------------------------------------------------------------------
def test_the_state_table_has_a_sparse_keys_only_due_index(template):
    (table,) = [
        t for lid, t in resources(template, "AWS::DynamoDB::Table").items() if lid.startswith(f"Storage{USER_STATE.logical_id}")
    ]
    props = table["Properties"]
    (index,) = props["GlobalSecondaryIndexes"]
    assert index == {
        "IndexName": DUE_INDEX.name,
        "KeySchema": [
            {"AttributeName": DUE_INDEX.partition_key, "KeyType": "HASH"},
            {"AttributeName": DUE_INDEX.sort_key, "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "KEYS_ONLY"},
    }
    types = {d["AttributeName"]: d["AttributeType"] for d in props["AttributeDefinitions"]}
    assert types == {USER_STATE.partition_key: "S", DUE_INDEX.partition_key: "S", DUE_INDEX.sort_key: "N"}


def test_a_schedule_invokes_the_timer_every_minute_with_its_scheduled_time(template):
    (schedule,) = resources(template, "AWS::Scheduler::Schedule").values()
    props = schedule["Properties"]
    assert props["ScheduleExpression"] == "rate(1 minute)"
    assert props["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert props["State"] == "ENABLED"
    target = props["Target"]
    assert target["Arn"]["Fn::GetAtt"][0].startswith("DeadlinesDeadlineTimer")
    assert json.loads(target["Input"]) == {"scheduledTime": "<aws.scheduler.scheduled-time>"}
    role_id = target["RoleArn"]["Fn::GetAtt"][0]
    role = resources(template, "AWS::IAM::Role")[role_id]
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert "aws:SourceAccount" in trust["Condition"]["StringEquals"]
    assert "ManagedPolicyArns" not in role["Properties"]
    (invoke,) = _statements_of(template, role_id)  # the schedule's role may invoke the timer, and nothing else
    assert invoke["Action"] == "lambda:InvokeFunction" and invoke["Effect"] == "Allow"
    assert invoke["Resource"] == target["Arn"]


def test_the_timer_may_query_the_due_index_and_put_records_on_the_stream_only(template):
    statements = [s for s in _statements_of(template, "DeadlinesDeadlineTimer") if not s["Action"][0].startswith("xray:")]
    by_action = {a: s for s in statements for a in _actions([s])}
    assert set(by_action) == {"dynamodb:Query", "kinesis:PutRecords", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"}
    query = by_action["dynamodb:Query"]["Resource"]["Fn::Join"][1]
    assert query[0]["Fn::GetAtt"][0].startswith("StorageUserState") and query[1] == "/index/DueIndex"
    assert by_action["kinesis:PutRecords"]["Resource"]["Fn::GetAtt"][0].startswith("ProcessingEventStream")
    assert by_action["kms:GenerateDataKey"]["Resource"]["Fn::GetAtt"][0].startswith("DataKey")
    config = resources(template, "AWS::Lambda::EventInvokeConfig")
    assert [c["Properties"]["MaximumRetryAttempts"] for c in config.values()] == [0]  # the next run is the retry


def test_the_timer_alarms_point_at_the_runbook(template):
    descriptions = {
        a["Properties"].get("MetricName"): a["Properties"]["AlarmDescription"]
        for a in resources(template, "AWS::CloudWatch::Alarm").values()
    }
    assert {"TimerCommandFailures", "Errors", "Invocations"} <= descriptions.keys()
    assert "(runbook: deadline timer)" in descriptions["TimerCommandFailures"]
