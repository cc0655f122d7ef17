"""The key of the pseudonymous user ids (:func:`journey.kernel.tenancy.pseudonym`), read once per
container: from Secrets Manager (``PSEUDONYM_SECRET_ARN``) on AWS, from ``JOURNEY_PSEUDONYM_KEY`` in
the local runtime. A missing key is a configuration error, loud: a made-up key would give every user
an id no other function can find."""

from __future__ import annotations

import os
import threading
from typing import Any

from journey.adapters.aws.clients import as_transient, client
from journey.errors import JourneyError
from journey.resources import Env


class MissingPseudonymKey(JourneyError):
    """Neither the secret nor the local key is configured (or the secret is empty)."""


class PseudonymKey:
    """Callable: the key's bytes (the secret's string, UTF-8, or its binary)."""

    def __init__(self, secret_arn: str | None = None, key: bytes | None = None, secrets: Any = None):
        self.secret_arn = secret_arn
        self._key = key
        self._secrets = secrets
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls) -> PseudonymKey:
        arn = os.environ.get(Env.PSEUDONYM_SECRET_ARN) or None
        local = os.environ.get(Env.PSEUDONYM_KEY)
        return cls(secret_arn=arn, key=None if arn or not local else local.encode())

    def __call__(self) -> bytes:
        if self._key is None:
            with self._lock:
                if self._key is None:
                    self._key = self._read()
        return self._key

    def _read(self) -> bytes:
        if not self.secret_arn:
            raise MissingPseudonymKey(f"set {Env.PSEUDONYM_SECRET_ARN} (a Secrets Manager secret) or {Env.PSEUDONYM_KEY}")
        secrets = self._secrets or client("secretsmanager")
        try:
            secret = secrets.get_secret_value(SecretId=self.secret_arn)
        except Exception as exc:
            raise as_transient(exc) from exc
        value = secret.get("SecretBinary") or str(secret.get("SecretString") or "").encode()
        if not value:
            raise MissingPseudonymKey(f"the secret {self.secret_arn} is empty")
        return bytes(value)
