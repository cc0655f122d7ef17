"""Publish a trained exit-risk model to the models bucket, as a new version.

    python -m ml.publish --model out/models/<dir> --bucket <ModelsBucketName> [--version V] [--endpoint-url URL]

Uploads the folder's ``model.json`` (and ``metrics.json``, ``report.md`` when there) to
``models/exit-risk/<version>/``; the version defaults to the ``version`` field of ``model.json``.
A version that exists is never overwritten: the command fails and says so. Then deploy the version
with ``cdk deploy -c exitRiskModel=<version>`` (docs/exit-risk.md)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from journey.adapters.aws.models import MODEL_FILE, ModelVersionExists, S3ModelStore, check_version
from journey.errors import JourneyError


def model_version(model_dir: Path) -> str:
    """The ``version`` the trainer wrote into ``model.json``."""
    path = model_dir / MODEL_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: --model names the folder the trainer wrote (python -m ml train)")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ValueError(f"{path} is not JSON: {exc}") from exc
    version = document.get("version") if isinstance(document, dict) else None
    if not isinstance(version, str) or not version:
        raise ValueError(f"{path} has no 'version': pass --version")
    return version


def s3_client(endpoint_url: str | None) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=endpoint_url) if endpoint_url else boto3.client("s3")


def publish(
    model_dir: Path, bucket: str, version: str | None = None, s3: Any = None, endpoint_url: str | None = None
) -> list[str]:
    """Upload ``model_dir`` as ``version`` (default: the model's own); the keys written."""
    chosen = check_version(version or model_version(model_dir))
    store = S3ModelStore(bucket, s3 if s3 is not None else s3_client(endpoint_url))
    return store.publish(chosen, model_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ml.publish", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, type=Path, help="the model folder (model.json, metrics.json, report.md)")
    parser.add_argument("--bucket", required=True, help="the models bucket (the stack's ModelsBucketName output)")
    parser.add_argument("--version", help="publish as this version (default: model.json's 'version'; must agree with it)")
    parser.add_argument("--endpoint-url", help="an S3-compatible endpoint (the local runtime's moto server)")
    args = parser.parse_args(argv)
    try:
        keys = publish(args.model, args.bucket, args.version, endpoint_url=args.endpoint_url)
    except ModelVersionExists as exc:
        print(f"not published: {exc}", file=sys.stderr)
        return 1
    except (JourneyError, OSError, ValueError, ClientError, BotoCoreError) as exc:  # a bad folder, no bucket, no credentials
        print(f"not published: {exc}", file=sys.stderr)
        return 2
    version = keys[0].split("/")[-2]
    for key in keys:
        print(f"s3://{args.bucket}/{key}")
    print(f"deploy it with: cdk deploy -c exitRiskModel={version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
