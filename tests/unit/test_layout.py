"""The layout stays readable: no long modules in what ships or deploys, thin handlers."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_MODULE_LINES = 400
MAX_HANDLER_LINES = 80


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_no_module_that_ships_or_deploys_is_over_400_lines():
    modules = [
        *(ROOT / "layers/journey/python/journey").rglob("*.py"),
        *(ROOT / "functions").rglob("*.py"),
        *(ROOT / "infra").rglob("*.py"),
    ]
    assert modules
    too_long = {str(p.relative_to(ROOT)): _lines(p) for p in modules if _lines(p) > MAX_MODULE_LINES}
    assert not too_long, f"split these by responsibility: {too_long}"


def test_every_handler_is_a_composition_root_of_at_most_80_lines():
    handlers = list((ROOT / "functions").glob("*/handler.py"))
    assert handlers
    too_long = {str(p.relative_to(ROOT)): _lines(p) for p in handlers if _lines(p) > MAX_HANDLER_LINES}
    assert not too_long, f"move the logic into a use case or lambda_kit: {too_long}"
