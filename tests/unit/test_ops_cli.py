"""Operator tools run from the repository root as the runbook says, without the Makefile's environment."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
from moto import mock_aws

from ops import redrive
from tests.builders import use_fake_aws_credentials

ROOT = Path(__file__).resolve().parents[2]


def test_redrive_starts_without_pythonpath_and_needs_only_the_standard_library_and_boto3():
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    probe = (
        "import sys, runpy; sys.argv = ['ops.redrive', '--help'];"
        "import ops.redrive;"
        "heavy = sorted(m for m in ('pydantic', 'orjson', 'aws_lambda_powertools') if m in sys.modules);"
        "print('heavy:', heavy)"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "heavy: []" in result.stdout
    help_run = subprocess.run(
        [sys.executable, "-m", "ops.redrive", "--help"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert help_run.returncode == 0 and "failures" in help_run.stdout, help_run.stderr


def test_redrive_help_needs_no_third_party_package_at_all():
    """``-S``: no site-packages, so neither boto3 nor the library's dependencies can be imported."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    helps = {}
    for command in ("", "failures", "quarantine"):
        result = subprocess.run(
            [sys.executable, "-S", "-m", "ops.redrive", *command.split(), "--help"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        helps[command] = result.stdout
    assert "--reapply" in helps["failures"] and "--events-table" in helps["failures"] and "--code" in helps["quarantine"]


def test_redrive_quarantine_exits_non_zero_when_a_record_cannot_be_replayed(monkeypatch, capsys):
    use_fake_aws_credentials(monkeypatch)

    def kept(sequence: str, data: str) -> dict:
        return {"sequenceNumber": sequence, "partitionKey": "u1", "code": "unstorable", "reason": "r", "data": data}

    with mock_aws():
        s3, kinesis = boto3.client("s3"), boto3.client("kinesis")
        s3.create_bucket(Bucket="quarantine-bucket")
        kinesis.create_stream(StreamName="events", ShardCount=1)
        good = base64.b64encode(b'{"eventId": "e1"}').decode()
        s3.put_object(
            Bucket="quarantine-bucket", Key="quarantine/2026/11/01/shardId-000000000000/1.json", Body=json.dumps(kept("1", good))
        )
        s3.put_object(
            Bucket="quarantine-bucket",
            Key="quarantine/2026/10/31/shardId-000000000000/1-2.jsonl",
            Body=json.dumps(kept("2", good)) + "\n" + json.dumps(kept("3", "%%%")) + "\n",
        )
        args = ["quarantine", "--bucket", "quarantine-bucket", "--stream", "events", "--code", "unstorable"]
        assert redrive.main(args) == 1
        out, err = capsys.readouterr()
        report = json.loads(out)
        assert report["replayed"] == 2 and report["failed"] == 1 and report["unaccounted"] == 1
        assert "1 unaccounted" in err
        assert redrive.main(args) == 0  # both objects are tagged: nothing left to do
