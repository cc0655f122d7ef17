"""The documentation names every setting the code reads, so README and docs stay true to the code."""

from pathlib import Path

from journey.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_is_documented():
    text = (ROOT / "docs" / "configuration.md").read_text()
    names = [
        f"JOURNEY_{name.upper()}" for name, field in Settings.model_fields.items() if field.annotation in (int, float, str, bool)
    ]
    for section in ("detection", "risk", "policy", "switches", "agent"):
        model = Settings.model_fields[section].annotation
        names += [f"JOURNEY_{section.upper()}__{name.upper()}" for name in model.model_fields]
    missing = [name for name in names if f"`{name}`" not in text]
    assert not missing, missing


def test_readme_opens_with_the_two_commands():
    head = (ROOT / "README.md").read_text().split("##")[0]
    assert "make demo" in head and "make test" in head
