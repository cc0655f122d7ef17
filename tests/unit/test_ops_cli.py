"""Operator tools run from the repository root as the runbook says, without the Makefile's environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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
