"""docs/events.md lists every word of the vocabulary and every spelling read as it."""

from pathlib import Path

from journey.events.model import EventType
from journey.events.vocabulary import ACTIONS, EVENT_TYPE_SYNONYMS, TARGET_TYPES

DOC = (Path(__file__).parents[2] / "docs" / "events.md").read_text(encoding="utf-8")


def test_every_word_and_spelling_is_documented():
    words = [t.value for t in EventType] + list(EVENT_TYPE_SYNONYMS)
    for table in (ACTIONS, TARGET_TYPES):
        for canonical, spellings in table.items():
            words += [canonical, *spellings]
    missing = [w for w in words if f"`{w}`" not in DOC]
    assert not missing, f"docs/events.md lacks {missing[:10]}"


def test_the_documented_repeatable_controls_are_the_settings_default():
    from journey.settings import DetectionSettings

    marked = {line.split("`")[1] for line in DOC.splitlines() if line.startswith("| `") and line.rstrip().endswith("| yes |")}
    assert marked == set(DetectionSettings().rage_tap_excluded_targets)
