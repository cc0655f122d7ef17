"""Trained exit-risk models on S3: one folder per version, ``models/exit-risk/<version>/``
(:func:`journey.resources.exit_risk_model_key`), holding ``model.json`` and, when the trainer wrote
them, ``metrics.json`` and ``report.md``.

A version is never overwritten: :meth:`S3ModelStore.publish` writes each file only if its key is free
(an S3 conditional write, ``If-None-Match: *``), so the version a deployment names always means the
same model. The stream processor only reads (:meth:`S3ModelStore.load`, through
:func:`load_exit_risk_model`); publishing is an operator's or CI's job (``python -m ml.publish``).

A model that is missing or unreadable never stops the stream: :func:`load_exit_risk_model` logs why
and answers ``None``, and the processor scores with the points model (docs/exit-risk.md).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from journey.adapters.aws.clients import as_transient, client
from journey.errors import JourneyError, TransientError
from journey.resources import exit_risk_model_key
from journey.risk.features import feature_names
from journey.risk.model import ExitRiskModel, ModelFormatError

log = logging.getLogger(__name__)

# One folder of the bucket: no "/" (a version is one level), no ".." (infra/config.py checks -c exitRiskModel
# with the same pattern; tests/infra/test_models.py checks they agree).
VERSION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
MODEL_FILE = "model.json"
# What a model folder may hold, in the order published: model.json first, so it claims the version.
MODEL_FILES: tuple[tuple[str, str], ...] = (
    (MODEL_FILE, "application/json"),
    ("metrics.json", "application/json"),
    ("report.md", "text/markdown; charset=utf-8"),
)
# S3's answers for a key that is not there: 404 NoSuchKey, or 403 AccessDenied for a reader that may not
# list the bucket (the stream processor may only GetObject under models/exit-risk/).
_MISSING_CODES = frozenset({"NoSuchKey", "NoSuchBucket", "404", "NotFound", "AccessDenied", "403"})
_TAKEN_CODES = frozenset({"PreconditionFailed", "412"})  # If-None-Match failed: the key holds an object already


class ModelNotFound(JourneyError):
    """The models bucket has no readable ``model.json`` for this version (permanent: a retry will not
    publish it)."""

    def __init__(self, version: str, bucket: str, detail: str = "") -> None:
        self.version = version
        self.bucket = bucket
        self.key = exit_risk_model_key(version)
        message = f"exit-risk model version '{version}' not found: no s3://{bucket}/{self.key}"
        super().__init__(f"{message} ({detail})" if detail else message)


class ModelVersionExists(JourneyError):
    """A publish named a version that is already in the bucket (versions are never overwritten)."""

    def __init__(self, version: str, bucket: str, key: str) -> None:
        self.version = version
        self.bucket = bucket
        self.key = key
        super().__init__(
            f"version {version} exists: s3://{bucket}/{key} is already there, and a published version is never "
            "overwritten; publish the new model under a new version"
        )


def check_version(version: str) -> str:
    """The version, if it can name one folder of the models bucket; ``ValueError`` saying why not."""
    if not isinstance(version, str) or not VERSION_PATTERN.fullmatch(version):
        raise ValueError(
            f"'{version}' is not a model version: 1-128 letters, digits, '.', '_' or '-', starting with a letter or "
            "digit (it names the folder models/exit-risk/<version>/)"
        )
    return version


class S3ModelStore:
    """The models bucket, through a boto3 S3 client (by default the shared one, created on first use)."""

    def __init__(self, bucket: str, s3_client: Any = None) -> None:
        if not bucket:
            raise ValueError("S3ModelStore needs the models bucket's name (MODELS_BUCKET)")
        self.bucket = bucket
        self._client = s3_client

    @property
    def _s3(self) -> Any:
        if self._client is None:
            self._client = client("s3")
        return self._client

    def load(self, version: str) -> bytes:
        """The bytes of the version's ``model.json``.

        Raises :class:`ModelNotFound` when there is none (or the reader may not see it),
        :class:`~journey.errors.TransientError` for throttling, timeouts and 5xx, and any other
        ``ClientError`` as it is."""
        key = exit_risk_model_key(check_version(version))
        try:
            response = self._s3.get_object(Bucket=self.bucket, Key=key)
            return bytes(response["Body"].read())
        except ClientError as exc:
            code = _code(exc)
            if code in _MISSING_CODES:
                raise ModelNotFound(version, self.bucket, code) from exc
            raise as_transient(exc) from exc
        except Exception as exc:
            mapped = as_transient(exc)  # connection errors and read timeouts of botocore: transient
            if mapped is exc:
                raise
            raise mapped from exc

    def publish(self, version: str, model_dir: Path) -> list[str]:
        """Upload the model folder's ``model.json`` and, when present, ``metrics.json`` and ``report.md``
        under the version's folder; return the keys written.

        ``model.json`` is written first and only if the version has none (``If-None-Match: *``): a version
        that exists raises :class:`ModelVersionExists` and nothing is written. ``model.json`` must be a model
        the evaluator accepts (``ModelFormatError`` otherwise) whose ``version`` is the version published:
        a model reports the version it was published as."""
        check_version(version)
        folder = Path(model_dir)
        model_path = folder / MODEL_FILE
        if not model_path.is_file():
            raise FileNotFoundError(f"{model_path} is missing: a model folder holds the trainer's {MODEL_FILE}")
        _check_model(model_path, version)
        written: list[str] = []
        for name, content_type in MODEL_FILES:
            path = folder / name
            if not path.is_file():
                continue
            key = exit_risk_model_key(version, name)
            self._put_new(version, key, path.read_bytes(), content_type)
            written.append(key)
        log.info("published exit-risk model %s to s3://%s/%s", version, self.bucket, exit_risk_model_key(version, ""))
        return written

    def _put_new(self, version: str, key: str, body: bytes, content_type: str) -> None:
        try:
            self._s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type, IfNoneMatch="*")
        except ClientError as exc:
            if _code(exc) in _TAKEN_CODES or _status(exc) == 412:
                raise ModelVersionExists(version, self.bucket, key) from exc
            raise as_transient(exc) from exc


def _check_model(model_path: Path, version: str) -> None:
    """Refuse to publish what the stream processor could not score with: a file the evaluator rejects,
    or a model that reports another version than the folder it would be served from."""
    model = ExitRiskModel.from_json(model_path.read_bytes())  # ModelFormatError (a ValueError) saying what is wrong
    if problem := not_servable(model):
        raise ValueError(f"{model_path}: {problem}")
    if model.version != version:
        raise ValueError(
            f"{model_path} is version '{model.version}' but would be published as '{version}': publish it under its "
            "own version (the one it reports with every score), or retrain it with the version you want"
        )


def not_servable(model: ExitRiskModel) -> str:
    """Why the stream processor cannot score with ``model`` ("" when it can): its inputs must be the
    named features the processor computes (journey.risk.features), in that order."""
    expected = feature_names(model.vocabulary)
    if model.inputs == expected:
        return ""
    unknown = [name for name in model.inputs if name not in expected]
    detail = f"inputs it does not compute: {', '.join(unknown[:5])}" if unknown else "the same inputs in another order or fewer"
    return (
        f"model {model.version} does not take the stream's features ({detail}); a model trained on a table "
        "scores tables (python -m ml score), the stream needs one trained on the journeys"
    )


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


# --- the composition root's loader -----------------------------------------------------------------------
# (bucket, version) -> the model, kept for the life of the container; or None (missing, malformed) with the
# monotonic time it was found so, kept for RETRY_AFTER_S: within it no call and no second log line, after it
# one more read (a version published after the deployment that names it is picked up). A transient failure
# is not kept: the next call reads again.
RETRY_AFTER_S = 300.0
_loaded: dict[tuple[str, str], tuple[ExitRiskModel | None, float]] = {}
_loading = threading.Lock()
_clock = time.monotonic


def load_exit_risk_model(store: S3ModelStore, version: str) -> ExitRiskModel | None:
    """The trained exit-risk model the configuration names, read once per container; ``None`` means
    "score with the points model".

    ``""`` (no model configured) is ``None`` without a call. A version that is not there
    (:class:`ModelNotFound`) or not a valid model (``ModelFormatError``, a bad version name) is logged
    as one error with the reason and is ``None`` for :data:`RETRY_AFTER_S` before it is read again: a
    missing model never stops the stream. A transient failure (throttling, 5xx) is logged as a warning
    and is ``None`` for this call only."""
    if not version:
        return None
    cache_key = (store.bucket, version)
    with _loading:
        known = _loaded.get(cache_key)
        if known is not None and (known[0] is not None or _clock() - known[1] < RETRY_AFTER_S):
            return known[0]
        try:
            model = _read(store, version)
        except TransientError as exc:
            log.warning("exit-risk model %s not loaded yet, scoring with the points model for now: %s", version, exc)
            return None
        _loaded[cache_key] = (model, _clock())
        return model


def models_by_version(bucket: str, s3_client: Any = None) -> Callable[[str], ExitRiskModel | None] | None:
    """The trained exit-risk models of ``bucket`` by version, each read once per container
    (:func:`load_exit_risk_model`): what the insights explain a score with. None without a bucket."""
    if not bucket:
        return None
    store = S3ModelStore(bucket, s3_client)
    return lambda version: load_exit_risk_model(store, version)


def _read(store: S3ModelStore, version: str) -> ExitRiskModel | None:
    try:
        model = ExitRiskModel.from_json(store.load(version))
        if not (reason := not_servable(model)):
            return model
    except ModelNotFound as exc:
        reason = str(exc)
    except ModelFormatError as exc:
        reason = f"s3://{store.bucket}/{exit_risk_model_key(version)} is not a valid exit-risk model: {exc}"
    except ValueError as exc:  # check_version: a name that cannot be a version
        reason = str(exc)
    except ClientError as exc:  # refused for another reason (a bad request): kept like a missing model
        reason = f"s3://{store.bucket}/{exit_risk_model_key(version)} could not be read: {exc}"
    log.error("exit-risk model %s unavailable, scoring with the points model: %s", version, reason)
    return None


def forget_loaded_models() -> None:
    """Drop what :func:`load_exit_risk_model` remembers (tests; a container never needs it)."""
    with _loading:
        _loaded.clear()
