"""The models bucket: a version is published once and never overwritten, the stream processor reads the
version its configuration names, and a model that is missing, malformed or (for now) unreachable
never stops the stream: the loader answers None and the points model scores."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from moto import mock_aws

from journey.adapters.aws import models as models_adapter
from journey.adapters.aws.models import (
    ModelNotFound,
    ModelVersionExists,
    S3ModelStore,
    check_version,
    forget_loaded_models,
    load_exit_risk_model,
)
from journey.errors import JourneyError, TransientError
from journey.resources import exit_risk_model_key
from journey.risk.features import feature_names
from journey.risk.model import ExitRiskModel, ModelFormatError
from ml import publish as publish_cli
from tests.builders import use_fake_aws_credentials

BUCKET = "journey-models"
VERSION = "2026-11-24.1"


SILENCE = "days_since_last_activity"
SERVED_INPUTS = list(feature_names(()))  # the stream's features, for a model with an empty vocabulary


def model_document(version: str = VERSION, inputs: list[str] | None = None) -> dict:
    """The smallest valid journey-exit-risk-gbt/1 model the stream can serve: the stream's inputs, one
    split on days of silence, identity calibration."""
    inputs = SERVED_INPUTS if inputs is None else inputs
    return {
        "format": "journey-exit-risk-gbt/1",
        "version": version,
        "createdAt": "2026-11-24T09:00:00Z",
        "inputs": inputs,
        "vocabulary": [],
        "encoding": {},
        "baseScore": 0.0,
        # days_since_last_activity <= 7 (missing goes left): -1.0 log-odds, else +2.0
        "trees": [[[inputs.index(SILENCE), 7.0, 1, 1, 2, 0.0], [-1, 0, 0, 0, 0, -1.0], [-1, 0, 0, 0, 0, 2.0]]],
        "calibration": {"x": [0.0, 1.0], "y": [0.0, 1.0]},
        "metrics": {"rocAuc": 0.8},
    }


def silent_for(days: float) -> list[float | None]:
    return [days if name == SILENCE else None for name in SERVED_INPUTS]


def model_folder(root: Path, version: str = VERSION, *, metrics: bool = True, report: bool = True) -> Path:
    folder = root / f"model-{version}"
    folder.mkdir(parents=True)
    (folder / "model.json").write_text(json.dumps(model_document(version)))
    if metrics:
        (folder / "metrics.json").write_text(json.dumps({"rocAuc": 0.8, "brier": 0.12}))
    if report:
        (folder / "report.md").write_text("# Exit-risk model\n\nROC AUC 0.80\n")
    return folder


@pytest.fixture
def s3(monkeypatch):
    use_fake_aws_credentials(monkeypatch)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


@pytest.fixture(autouse=True)
def _fresh_loader():
    forget_loaded_models()
    yield
    forget_loaded_models()


def stored(s3) -> dict[str, bytes]:
    listing = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {obj["Key"]: s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read() for obj in listing}


def stubbed_s3():
    """A client that never leaves the process: each call answers what the test queued, or fails the test."""
    client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    return client, Stubber(client)


def model_body(document: dict) -> dict:
    raw = json.dumps(document).encode()
    return {"Body": StreamingBody(io.BytesIO(raw), len(raw))}


# --- publishing -------------------------------------------------------------------------------------------
def test_publish_uploads_the_model_its_metrics_and_report_under_the_versions_folder(s3, tmp_path):
    folder = model_folder(tmp_path)
    keys = S3ModelStore(BUCKET, s3).publish(VERSION, folder)
    assert keys == [f"models/exit-risk/{VERSION}/{name}" for name in ("model.json", "metrics.json", "report.md")]
    objects = stored(s3)
    assert set(objects) == set(keys)
    for name in ("model.json", "metrics.json", "report.md"):
        assert objects[exit_risk_model_key(VERSION, name)] == (folder / name).read_bytes()
    head = s3.head_object(Bucket=BUCKET, Key=exit_risk_model_key(VERSION))
    assert head["ContentType"] == "application/json"


def test_publish_uploads_only_the_files_the_trainer_wrote(s3, tmp_path):
    folder = model_folder(tmp_path, metrics=False, report=False)
    assert S3ModelStore(BUCKET, s3).publish(VERSION, folder) == [exit_risk_model_key(VERSION)]


def test_a_published_version_is_never_overwritten(s3, tmp_path):
    store = S3ModelStore(BUCKET, s3)
    store.publish(VERSION, model_folder(tmp_path / "first"))
    before = stored(s3)
    second = model_folder(tmp_path / "second")
    (second / "report.md").write_text("# another model\n")
    with pytest.raises(ModelVersionExists, match=f"version {VERSION} exists") as refused:
        store.publish(VERSION, second)
    assert isinstance(refused.value, JourneyError) and not isinstance(refused.value, TransientError)
    assert refused.value.key == exit_risk_model_key(VERSION)
    assert stored(s3) == before


def test_publish_refuses_what_the_processor_could_not_score_with(s3, tmp_path):
    store = S3ModelStore(BUCKET, s3)
    folder = model_folder(tmp_path)
    with pytest.raises(ValueError, match=f"is version '{VERSION}' but would be published as 'other'"):
        store.publish("other", folder)
    broken = model_document()
    broken["calibration"] = {"x": [1.0, 0.0], "y": [0.0, 1.0]}
    (folder / "model.json").write_text(json.dumps(broken))
    with pytest.raises(ModelFormatError, match="calibration x is not ascending"):
        store.publish(VERSION, folder)
    (folder / "model.json").write_text(json.dumps(model_document(inputs=["tenure", SILENCE])))  # trained on a table
    with pytest.raises(ValueError, match=r"does not take the stream.s features \(inputs it does not compute: tenure\)"):
        store.publish(VERSION, folder)
    with pytest.raises(FileNotFoundError, match=r"model\.json is missing"):
        store.publish(VERSION, tmp_path / "empty")
    assert stored(s3) == {}


@pytest.mark.parametrize("version", ["", "../prod", "a/b", ".hidden", "x" * 129, "v 1"])
def test_a_version_must_name_one_folder(version, s3, tmp_path):
    with pytest.raises(ValueError, match="is not a model version"):
        check_version(version)
    with pytest.raises(ValueError, match="is not a model version"):
        S3ModelStore(BUCKET, s3).publish(version, model_folder(tmp_path))
    with pytest.raises(ValueError, match="is not a model version"):
        S3ModelStore(BUCKET, s3).load(version)


# --- loading ----------------------------------------------------------------------------------------------
def test_load_returns_the_versions_model_json(s3, tmp_path):
    folder = model_folder(tmp_path)
    store = S3ModelStore(BUCKET, s3)
    store.publish(VERSION, folder)
    assert store.load(VERSION) == (folder / "model.json").read_bytes()


def test_a_missing_version_is_model_not_found_a_permanent_error(s3):
    with pytest.raises(ModelNotFound) as missing:
        S3ModelStore(BUCKET, s3).load("never-published")
    error = missing.value
    assert (error.version, error.bucket, error.key) == ("never-published", BUCKET, "models/exit-risk/never-published/model.json")
    assert isinstance(error, JourneyError) and not isinstance(error, TransientError)
    assert f"s3://{BUCKET}/models/exit-risk/never-published/model.json" in str(error) and "NoSuchKey" in str(error)


def test_access_denied_reads_as_not_found_because_the_processor_may_not_list_the_bucket():
    client, stub = stubbed_s3()
    stub.add_client_error("get_object", service_error_code="AccessDenied", http_status_code=403)
    with stub, pytest.raises(ModelNotFound, match="AccessDenied"):
        S3ModelStore(BUCKET, client).load(VERSION)


@pytest.mark.parametrize(("code", "status"), [("SlowDown", 503), ("InternalError", 500), ("ServiceUnavailable", 503)])
def test_throttling_and_server_errors_are_transient(code, status):
    client, stub = stubbed_s3()
    stub.add_client_error("get_object", service_error_code=code, http_status_code=status)
    with stub, pytest.raises(TransientError, match=code):
        S3ModelStore(BUCKET, client).load(VERSION)


def test_a_publish_throttled_by_s3_is_transient(tmp_path):
    client, stub = stubbed_s3()
    stub.add_client_error("put_object", service_error_code="SlowDown", http_status_code=503)
    with stub, pytest.raises(TransientError, match="SlowDown"):
        S3ModelStore(BUCKET, client).publish(VERSION, model_folder(tmp_path))


# --- the composition root's loader ------------------------------------------------------------------------
def test_no_version_configured_means_the_points_model_without_a_call():
    client, stub = stubbed_s3()  # nothing queued: any call would fail the test
    with stub:
        assert load_exit_risk_model(S3ModelStore(BUCKET, client), "") is None
    stub.assert_no_pending_responses()


def test_the_configured_version_is_loaded_once_per_container(s3, tmp_path):
    S3ModelStore(BUCKET, s3).publish(VERSION, model_folder(tmp_path))
    client, stub = stubbed_s3()
    stub.add_response("get_object", model_body(model_document()), {"Bucket": BUCKET, "Key": exit_risk_model_key(VERSION)})
    with stub:
        store = S3ModelStore(BUCKET, client)
        model = load_exit_risk_model(store, VERSION)
        assert isinstance(model, ExitRiskModel) and model.version == VERSION
        assert load_exit_risk_model(store, VERSION) is model  # no second GetObject (none is queued)
    stub.assert_no_pending_responses()
    assert model.probability(silent_for(30.0)) > 0.8 > 0.3 > model.probability(silent_for(1.0))


def test_a_missing_model_is_logged_once_and_looked_for_again_after_a_while(s3, tmp_path, caplog, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(models_adapter, "_clock", lambda: now[0])
    store = S3ModelStore(BUCKET, s3)
    with caplog.at_level(logging.INFO, logger=models_adapter.__name__):
        assert load_exit_risk_model(store, VERSION) is None
        now[0] += models_adapter.RETRY_AFTER_S - 1
        assert load_exit_risk_model(store, VERSION) is None  # remembered: no second read, no second line
    (record,) = caplog.records
    assert record.levelno == logging.ERROR
    assert VERSION in record.getMessage() and "points model" in record.getMessage()
    assert f"s3://{BUCKET}/models/exit-risk/{VERSION}/model.json" in record.getMessage()

    store.publish(VERSION, model_folder(tmp_path))  # published after the deployment that names it
    assert load_exit_risk_model(store, VERSION) is None
    now[0] += 1
    model = load_exit_risk_model(store, VERSION)
    assert model is not None and model.version == VERSION
    now[0] += 10 * models_adapter.RETRY_AFTER_S
    assert load_exit_risk_model(S3ModelStore(BUCKET, stubbed_s3()[0]), VERSION) is model  # kept: no call at all


def test_a_refused_read_is_logged_and_does_not_stop_the_stream(caplog):
    client, stub = stubbed_s3()
    stub.add_client_error("get_object", service_error_code="InvalidRequest", http_status_code=400)
    with stub, caplog.at_level(logging.ERROR, logger=models_adapter.__name__):
        assert load_exit_risk_model(S3ModelStore(BUCKET, client), VERSION) is None
    (record,) = caplog.records
    assert "could not be read" in record.getMessage() and "InvalidRequest" in record.getMessage()


def test_the_store_uses_the_shared_client_unless_given_one(monkeypatch):
    client, stub = stubbed_s3()
    stub.add_client_error("get_object", service_error_code="NoSuchKey", http_status_code=404)
    monkeypatch.setattr(models_adapter, "client", lambda service: client if service == "s3" else None)
    with stub, pytest.raises(ModelNotFound):
        S3ModelStore(BUCKET).load(VERSION)
    with pytest.raises(ValueError, match="MODELS_BUCKET"):
        S3ModelStore("")


def test_a_malformed_model_is_logged_with_its_reason_and_not_used(caplog):
    client, stub = stubbed_s3()
    broken = {**model_document(), "format": "xgboost"}
    stub.add_response("get_object", model_body(broken))
    with stub, caplog.at_level(logging.ERROR, logger=models_adapter.__name__):
        assert load_exit_risk_model(S3ModelStore(BUCKET, client), VERSION) is None
    (record,) = caplog.records
    assert "not a valid exit-risk model" in record.getMessage() and "xgboost" in record.getMessage()


def test_a_model_that_does_not_take_the_streams_features_is_not_used(caplog):
    client, stub = stubbed_s3()
    stub.add_response("get_object", model_body(model_document(inputs=[SILENCE, "MonthlyCharges"])))
    with stub, caplog.at_level(logging.ERROR, logger=models_adapter.__name__):
        assert load_exit_risk_model(S3ModelStore(BUCKET, client), VERSION) is None
    (record,) = caplog.records
    assert "does not take the stream's features" in record.getMessage() and "MonthlyCharges" in record.getMessage()


def test_a_transient_failure_is_not_remembered_the_next_batch_reads_again(caplog):
    client, stub = stubbed_s3()
    stub.add_client_error("get_object", service_error_code="SlowDown", http_status_code=503)
    stub.add_response("get_object", model_body(model_document()))
    with stub, caplog.at_level(logging.WARNING, logger=models_adapter.__name__):
        store = S3ModelStore(BUCKET, client)
        assert load_exit_risk_model(store, VERSION) is None
        model = load_exit_risk_model(store, VERSION)
    assert model is not None and model.version == VERSION
    (record,) = caplog.records
    assert record.levelno == logging.WARNING and "SlowDown" in record.getMessage()


# --- python -m ml.publish ---------------------------------------------------------------------------------
def test_the_publish_command_takes_the_version_from_the_model_and_refuses_a_second_publish(s3, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(publish_cli, "s3_client", lambda endpoint_url: s3)
    folder = model_folder(tmp_path)
    assert publish_cli.main(["--model", str(folder), "--bucket", BUCKET]) == 0
    out = capsys.readouterr().out
    assert f"s3://{BUCKET}/models/exit-risk/{VERSION}/model.json" in out
    assert f"cdk deploy -c exitRiskModel={VERSION}" in out
    assert set(stored(s3)) == {exit_risk_model_key(VERSION, n) for n in ("model.json", "metrics.json", "report.md")}

    assert publish_cli.main(["--model", str(folder), "--bucket", BUCKET, "--version", VERSION]) == 1
    assert f"version {VERSION} exists" in capsys.readouterr().err


def test_the_publish_command_says_what_is_wrong_with_its_input(s3, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(publish_cli, "s3_client", lambda endpoint_url: s3)
    assert publish_cli.main(["--model", str(tmp_path / "nowhere"), "--bucket", BUCKET]) == 2
    assert "model.json is missing" in capsys.readouterr().err
    assert publish_cli.main(["--model", str(model_folder(tmp_path)), "--bucket", "no-such-bucket"]) == 2
    assert "NoSuchBucket" in capsys.readouterr().err
    assert stored(s3) == {}
