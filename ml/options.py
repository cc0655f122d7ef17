"""Option values that ``python -m ml`` and the SageMaker entry point (ml.sagemaker_entry) read alike."""

from __future__ import annotations

from collections.abc import Sequence


def id_columns(values: Sequence[str]) -> list[str]:
    """The id columns of repeated ``--id`` options, each of which may name several, comma-separated
    (``ID=a,b`` with make): trimmed, each once, in order."""
    return list(dict.fromkeys(column.strip() for value in values for column in value.split(",") if column.strip()))
