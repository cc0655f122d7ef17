"""The import rules of DESIGN.md hold, each has a contract, and a broken rule fails `make lint` naming it.

The violations are injected into a copy of the source trees, never into the checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
TREES = ("layers/journey/python/journey", "functions", "infra", "localrt", "ops", "scripts")


@pytest.fixture(scope="module")
def copy(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tree")
    for tree in TREES:
        shutil.copytree(ROOT / tree, root / tree, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", root / ".importlinter")
    return root


def lint(root: Path, config: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": f"{root / 'layers/journey/python'}{os.pathsep}{root}"}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", "--config", str(config or root / ".importlinter")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def inject(path: Path, line: str) -> str:
    original = path.read_text()
    path.write_text(original + f"\n{line}\n")
    return original


def test_the_checkout_keeps_every_import_rule(copy):
    result = lint(copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "9 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "rule"),
    [
        (
            "layers/journey/python/journey/detection/rules.py",
            "import boto3  # noqa",
            "contexts import only the standard library, pydantic and orjson",
        ),
        (
            "layers/journey/python/journey/users/state.py",
            "from journey.app import stream_batch  # noqa",
            "contexts import only lower contexts",
        ),
        (
            "layers/journey/python/journey/app/stream_batch.py",
            "import aws_lambda_powertools  # noqa",
            "app/ sees ports, never boto3 or Powertools",
        ),
        (
            "layers/journey/python/journey/adapters/aws/s3.py",
            "from journey.app import stream_batch  # noqa",
            "adapters never import use cases",
        ),
        ("ops/redrive.py", "from localrt import esm  # noqa", "only tests import localrt"),
        ("infra/storage.py", "from journey import settings  # noqa", "infra/ imports only journey.resources"),
    ],
)
def test_a_forbidden_import_fails_naming_the_rule(copy, module, line, rule):
    path = copy / module
    original = inject(path, line)
    try:
        result = lint(copy)
    finally:
        path.write_text(original)
    assert result.returncode != 0
    broken = result.stdout[result.stdout.index("Broken contracts") :]
    assert rule in broken.replace("\n", " "), result.stdout


def test_deleting_a_contract_fails_the_completeness_check(copy, tmp_path):
    text = (copy / ".importlinter").read_text()
    start = text.index("[importlinter:contract:localrt-tests-only]")
    end = text.index("[importlinter:contract:", start + 1)
    trimmed = tmp_path / ".importlinter"
    trimmed.write_text(text[:start] + text[end:])
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts/check_contracts.py"), "--config", str(trimmed)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "localrt-tests-only: only tests import localrt" in result.stderr
