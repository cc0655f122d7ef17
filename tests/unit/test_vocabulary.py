"""The vocabulary: platform spellings read as one word; words nobody taught it reported, not dropped."""

import pytest

from journey.events.vocabulary import canonical_action, canonical_event_type, canonical_target_type
from journey.interventions.catalog import DEFAULT_CATALOG
from journey.settings import PolicySettings, Settings
from localrt.memory_ports import memory_aws
from tests.builders import T0, canonical, event
from tests.unit.test_pipeline import rage, records, run


@pytest.mark.parametrize(
    ("spelled", "word"),
    [
        ("UISwitch", "toggle"),
        ("SwitchCompat", "toggle"),
        ("com.google.android.material.switchmaterial.SwitchMaterial", "toggle"),
        ("input[type=checkbox]", "checkbox"),
        ("android.widget.Button", "button"),
        ("UIStepper", "stepper"),
        ("ViewPager2", "carousel"),
        ("keypad", "keyboard"),
        ("a", "link"),
        ("SeekBar", "slider"),
        ("Spinner", "dropdown"),
    ],
)
def test_target_types_in_platform_spellings(spelled, word):
    assert canonical_target_type(spelled) == word


@pytest.mark.parametrize(
    ("spelled", "word"),
    [
        ("Click", "click"),
        ("TouchUp", "tap"),
        ("app_background", "background"),
        ("pagehide", "background"),
        ("Completed", "complete"),
        ("begin_checkout", "start"),
        ("ANR", "crash"),
        ("sessionStart", "session_start"),
    ],
)
def test_actions_in_platform_spellings(spelled, word):
    assert canonical_action(spelled) == word


def test_event_types_in_other_spellings_and_unknown_ones_refused_with_the_list():
    assert canonical(event("screenView", screen="home")).eventType.value == "screen_view"
    assert canonical(event("Page_View", screen="/")).eventType.value == "page_view"
    assert canonical_event_type("purchase_made") == "purchase_made"  # not a type: validation names the known ones
    import json

    from journey.events.decoding import decode_event

    rejected = decode_event(json.dumps(event("purchase_made")).encode(), 65_536)
    assert "feature_interaction" in str(rejected)


def test_unknown_words_are_kept_as_written_and_counted_per_batch():
    aws = memory_aws()
    result = run(aws, records(event(feature="home", action="Wiggle", target="logo", targetType="FancyWidget", t=T0), *rage("u2")))
    assert result.applied == 4  # nothing dropped
    assert result.unknown_vocabulary == {("action", "wiggle"): 1, ("targetType", "fancy_widget"): 1}


def test_every_signal_records_what_became_of_it():
    aws = memory_aws()
    settings = Settings(policy=PolicySettings(holdout_percent=0))
    low = event("screen_view", user="u3", screen="help", t=T0)  # help screens are low: below the action threshold
    result = run(aws, records(*rage("u1"), *rage("u1", t=T0 + 120_000), low), settings)
    outcomes = {(s.userId, s.outcome) for s in result.signals}
    assert ("u1", "sent") in outcomes and ("u3", "below_action_threshold") in outcomes
    assert any(o.startswith("suppressed:") for _, o in outcomes)  # the second rage on checkout: the feature's cooldown
    stored = {item["outcome"]["S"] for item in aws.dynamodb.tables["StruggleSignals"].values()}
    assert stored == {o for _, o in outcomes}
    held = run(memory_aws(), records(*rage("u9")), Settings(policy=PolicySettings(holdout_percent=100)))
    assert [s.outcome for s in held.signals] == ["held_out"]
    assert DEFAULT_CATALOG  # the default catalog answers rage taps (so "sent" above is the policy's doing)
