"""The models bucket: trained exit-risk models, kept and read-only to the deployment.

Encrypted, versioned, TLS-only, logged; the stream processor is told the bucket and the version to
score with (``-c exitRiskModel``) and may GetObject under models/exit-risk/ and do nothing else there;
the API function may do the same (the insights explain a trained model's score with the version that
scored it); no other function may touch the bucket, and nothing in the stack may write it (models are
published by an operator's or CI's role from outside the stack, ``python -m ml.publish``)."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from infra.config import EXIT_RISK_MODEL_VERSION_PATTERN
from journey.adapters.aws.models import VERSION_PATTERN
from journey.resources import EXIT_RISK_MODELS_PREFIX, Env
from tests.builders import use_fake_aws_credentials
from tests.infra.conftest import synthesize

ROOT = Path(__file__).resolve().parents[2]
VERSION = "2026-11-24.1"


def _models_id(template) -> str:
    (found,) = [lid for lid in template.find_resources("AWS::S3::Bucket") if lid.startswith("StorageModels")]
    return found


def _processor(template) -> tuple[str, dict]:
    (found,) = [
        (lid, fn)
        for lid, fn in template.find_resources("AWS::Lambda::Function").items()
        if lid.startswith("ProcessingStreamProcessor")
    ]
    return found


def _statements_by_role(template) -> list[tuple[str, dict]]:
    return [
        (role["Ref"], statement)
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for role in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


def _processor_role(template) -> str:
    _, fn = _processor(template)
    return fn["Properties"]["Role"]["Fn::GetAtt"][0]


def _api(template) -> tuple[str, dict]:
    (found,) = [
        (lid, fn) for lid, fn in template.find_resources("AWS::Lambda::Function").items() if lid.startswith("ApiApiFunction")
    ]
    return found


def _readers(template) -> tuple[str, str]:
    """The roles that may read models: the processor's and the API function's."""
    _, api = _api(template)
    return _processor_role(template), api["Properties"]["Role"]["Fn::GetAtt"][0]


def test_the_models_bucket_is_encrypted_versioned_private_and_logged(template):
    lid = _models_id(template)
    props = template.find_resources("AWS::S3::Bucket")[lid]["Properties"]
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}  # SSE-S3: see infra/storage.py for why
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    logs = props["LoggingConfiguration"]
    assert logs["DestinationBucketName"]["Ref"].startswith("StorageAccessLogs") and logs["LogFilePrefix"] == "models/"
    # models are kept: nothing expires but unfinished multipart uploads
    for lifecycle in props.get("LifecycleConfiguration", {}).get("Rules", []):
        assert set(lifecycle) <= {"AbortIncompleteMultipartUpload", "Status", "Id"}, lifecycle


def test_the_models_bucket_takes_tls_only_and_allows_nobody_by_policy(template):
    lid = _models_id(template)
    (policy,) = [
        p["Properties"]["PolicyDocument"]
        for p in template.find_resources("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": lid}
    ]
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert statement["Action"] == "s3:*" and statement["Principal"] == {"AWS": "*"}


def test_the_models_bucket_is_retained_in_prod_like_the_other_data_stores(tmp_path):
    template, _ = synthesize(tmp_path / "prod", stage="prod")
    buckets = template.find_resources("AWS::S3::Bucket")
    models, quarantine = (
        next(b for lid, b in buckets.items() if lid.startswith(prefix)) for prefix in ("StorageModels", "StorageQuarantine")
    )
    assert models["DeletionPolicy"] == models["UpdateReplacePolicy"] == "Retain"
    assert models["DeletionPolicy"] == quarantine["DeletionPolicy"]


def test_the_processor_is_told_the_bucket_and_by_default_no_model(template):
    lid = _models_id(template)
    _, fn = _processor(template)
    variables = fn["Properties"]["Environment"]["Variables"]
    assert variables[Env.MODELS_BUCKET] == {"Ref": lid}
    assert variables[Env.RISK_MODEL_VERSION] == ""  # the points model
    outputs = template.find_outputs("ModelsBucketName")
    assert outputs["ModelsBucketName"]["Value"] == {"Ref": lid}


def test_the_processor_and_the_api_may_only_get_objects_under_the_exit_risk_prefix(template):
    lid = _models_id(template)
    for role in _readers(template):
        touching = [s for r, s in _statements_by_role(template) if r == role and lid in json.dumps(s)]
        (read,) = touching
        assert read["Effect"] == "Allow" and _actions(read) == ["s3:GetObject"]
        assert read["Resource"] == {"Fn::Join": ["", [{"Fn::GetAtt": [lid, "Arn"]}, f"/{EXIT_RISK_MODELS_PREFIX}*"]]}
        assert "Condition" not in read


def test_the_api_is_told_the_bucket_to_explain_scores_but_scores_nothing(template):
    _, api = _api(template)
    variables = api["Properties"]["Environment"]["Variables"]
    assert variables[Env.MODELS_BUCKET] == {"Ref": _models_id(template)}
    assert Env.RISK_MODEL_VERSION not in variables


def test_no_other_function_can_reach_the_bucket_and_nothing_in_the_stack_can_write_it(template):
    lid = _models_id(template)
    readers = _readers(template)
    statements = _statements_by_role(template)
    others = [(role, s) for role, s in statements if role not in readers and lid in json.dumps(s)]
    assert others == []
    # no statement anywhere reaches it through a wildcard resource
    for role, statement in statements:
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        s3_actions = [a for a in _actions(statement) if a.startswith("s3:")]
        if s3_actions:
            assert "*" not in resources, (role, statement)
            assert all("arn:aws:s3:::*" not in json.dumps(r) for r in resources), (role, statement)
    # writes to S3, by anyone in the stack, are on other buckets only (the quarantine)
    writes = [
        s for _, s in statements if any(a.startswith(("s3:Put", "s3:Delete", "s3:Restore", "s3:Replicate")) for a in _actions(s))
    ]
    assert writes and all(lid not in json.dumps(s) for s in writes)
    # and no role of the stack gets it through an inline role policy or a managed policy either
    for role in template.find_resources("AWS::IAM::Role").values():
        assert lid not in json.dumps(role["Properties"].get("Policies", []))
    for managed in template.find_resources("AWS::IAM::ManagedPolicy").values():
        assert lid not in json.dumps(managed)


def test_the_model_needs_no_grant_on_the_data_key(template):
    """SSE-S3: reading a model uses no KMS key, so no key statement names the bucket."""
    lid = _models_id(template)
    for key in template.find_resources("AWS::KMS::Key").values():
        assert lid not in json.dumps(key["Properties"]["KeyPolicy"])


def test_the_version_rule_of_the_deployment_is_the_adapters():
    assert EXIT_RISK_MODEL_VERSION_PATTERN.pattern == VERSION_PATTERN.pattern


def test_cdk_json_configures_no_model_by_default():
    assert json.loads((ROOT / "cdk.json").read_text())["context"]["exitRiskModel"] == ""


def test_a_bad_version_is_refused_at_synth(tmp_path):
    with pytest.raises(ValueError, match=r"exitRiskModel: '\.\./prod' is not a model version"):
        synthesize(tmp_path / "bad", exitRiskModel="../prod")


@pytest.fixture(scope="module")
def with_a_model(tmp_path_factory) -> Path:
    """The app synthesized with ``-c exitRiskModel=<VERSION>``: its cloud assembly, with the asset metadata
    the cdk CLI asks for (the local runtime finds each function's code by it)."""
    outdir = tmp_path_factory.mktemp("cdk-model")
    synthesize(outdir, exitRiskModel=VERSION, **{"aws:cdk:enable-asset-metadata": True})
    return outdir


def test_the_context_value_reaches_the_processor_and_only_it(with_a_model):
    from aws_cdk.assertions import Template

    (path,) = with_a_model.glob("*.template.json")
    template = Template.from_json(json.loads(path.read_text()))
    for lid, fn in template.find_resources("AWS::Lambda::Function").items():
        variables = fn["Properties"].get("Environment", {}).get("Variables", {})
        if lid.startswith("ProcessingStreamProcessor"):
            assert variables[Env.RISK_MODEL_VERSION] == VERSION
        else:  # the API is told the bucket (to explain scores), never the version (it scores nothing)
            assert Env.RISK_MODEL_VERSION not in variables, lid
            assert (Env.MODELS_BUCKET in variables) == lid.startswith("ApiApiFunction"), lid


def test_the_local_runtime_provisions_the_bucket_and_hands_the_processor_its_variables(with_a_model, monkeypatch):
    from localrt.provision import function_environment, provision
    from localrt.template import load_template

    use_fake_aws_credentials(monkeypatch, "us-east-1")
    with mock_aws():
        template = load_template(with_a_model)
        session = boto3.session.Session(region_name="us-east-1")
        provisioned = provision(template, session, "us-east-1")
        (processor,) = [lid for lid in template.functions if lid.startswith("ProcessingStreamProcessor")]
        env = function_environment(template, provisioned, processor)
        assert env[Env.RISK_MODEL_VERSION] == VERSION
        buckets = {b["Name"] for b in session.client("s3").list_buckets()["Buckets"]}
        assert env[Env.MODELS_BUCKET] in buckets and env[Env.MODELS_BUCKET].startswith("storagemodels")
