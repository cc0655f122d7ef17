"""A trained model's contributors are explained on read: the stream processor stores the score, the
model version and the time it scored, never the contributors; the insights compute them from the
stored state, and they are exactly the contributors that score had."""

from __future__ import annotations

import random

from journey.adapters.aws.codecs.user_state import state_from_item, state_item
from journey.app.insights import user_insights
from journey.kernel.clock import DAY_MS
from journey.risk.features import feature_values
from journey.risk.history import record_event, record_signal
from journey.risk.scoring import contributors_in_points, explain_score, score_into
from journey.settings import Settings
from journey.users.state import UserState
from localrt.bench import full_size_model
from tests.unit.api_fakes import NOW, Fakes, pid, server

RISK = Settings().risk
MODEL = full_size_model(trees=30, depth=3, vocabulary_size=2, seed=11)


def active_user(user_id: str, seed: int) -> UserState:
    """A user with a few days of varied activity up to NOW."""
    rng = random.Random(seed)
    state = UserState(userId=user_id)
    t = NOW - 20 * DAY_MS
    kinds = ("page_view", "feature_interaction", "video_engagement", "search", "error", "app_lifecycle")
    for n in range(rng.randint(5, 60)):
        t += rng.randint(60_000, 2 * DAY_MS)
        kind = rng.choice(kinds)
        record_event(state.activity, min(t, NOW), kind, rng.choice(["feature_0", "feature_1", None]), "start", f"s{n // 4}", None)
        if rng.random() < 0.2:
            record_signal(state.activity, min(t, NOW))
    state.last_event_at = NOW
    return state


def test_a_model_score_stores_its_version_and_time_but_no_contributors():
    state = active_user("u1", 1)
    risk = score_into(state, NOW + DAY_MS, RISK, MODEL)
    assert risk.contributors == () and state.risk_contributors == []
    assert state.risk_model == MODEL.version and state.risk_scored_at == NOW + DAY_MS
    assert state.risk_score == round(MODEL.probability(feature_values(state.activity, NOW + DAY_MS, MODEL.vocabulary)) * 100)


def test_the_points_model_keeps_its_contributors_on_the_state():
    state = active_user("u1", 2)
    risk = score_into(state, NOW, RISK, None)
    assert state.risk_model == "" and state.risk_scored_at == NOW
    assert state.risk_contributors == [[name, points] for name, points in risk.contributors]


def test_explained_on_read_are_the_contributors_of_the_score_as_it_was_stored():
    for seed in range(25):
        state = active_user(f"u{seed}", seed)
        scored_at = NOW + seed * 3_600_000
        score_into(state, scored_at, RISK, MODEL)
        stored = state_from_item(state_item(state, 0))  # written and read back, as the API reads it
        probability, raising, total = MODEL.explain_top(feature_values(state.activity, scored_at, MODEL.vocabulary))
        assert explain_score(stored, MODEL) == contributors_in_points(raising, total, stored.risk_score)
        assert round(probability * 100) == stored.risk_score
        assert sum(points for _, points in explain_score(stored, MODEL)) <= stored.risk_score + 0.01


def with_state(fakes: Fakes, state: UserState) -> None:
    fakes.reads.states[state.userId] = state


def test_insights_explain_a_trained_models_score_with_the_version_that_scored_it():
    fakes = Fakes()
    state = active_user(pid("demo-user-1"), 5)
    score_into(state, NOW, RISK, MODEL)
    with_state(fakes, state)
    asked: list[str] = []
    ports = fakes.ports()
    ports.exit_risk_models = lambda version: asked.append(version) or MODEL
    risk = user_insights(server(), "demo-user-1", ports).exitRisk
    assert asked == [MODEL.version] and risk.scoredBy == MODEL.version and risk.contributorsUnavailable is None
    assert [(c.feature, c.points) for c in risk.contributors] == list(explain_score(state, MODEL))
    assert risk.contributors, "this user's score was raised by something"


def test_insights_say_why_a_score_has_no_contributors_when_its_model_cannot_be_read():
    fakes = Fakes()
    state = active_user(pid("demo-user-1"), 6)
    score_into(state, NOW, RISK, MODEL)
    with_state(fakes, state)
    for models in (None, lambda version: None):  # no models bucket wired; the version is not there
        ports = fakes.ports()
        ports.exit_risk_models = models
        risk = user_insights(server(), "demo-user-1", ports).exitRisk
        assert risk.contributors == [] and risk.score == state.risk_score
        assert risk.contributorsUnavailable == f"exit-risk model {MODEL.version} could not be read to explain this score"


def test_insights_of_a_points_score_read_the_stored_contributors_and_ask_for_no_model():
    fakes = Fakes()
    state = active_user(pid("demo-user-1"), 7)
    score_into(state, NOW, RISK, None)
    with_state(fakes, state)
    ports = fakes.ports()
    ports.exit_risk_models = lambda version: (_ for _ in ()).throw(AssertionError("no model is needed"))
    risk = user_insights(server(), "demo-user-1", ports).exitRisk
    assert risk.scoredBy == "points" and risk.contributorsUnavailable is None
    assert [[c.feature, c.points] for c in risk.contributors] == state.risk_contributors


def test_the_apis_models_are_read_from_the_models_bucket_by_version(monkeypatch):
    """ApiPorts.exit_risk_models (the API function's, and localrt.api_local's over the runtime's bucket):
    a published version is read, one that is not there is None (the insights then say why)."""
    import json

    import boto3
    from moto import mock_aws

    from journey.adapters.aws.models import forget_loaded_models, models_by_version
    from journey.resources import exit_risk_model_key
    from journey.risk.features import feature_names
    from tests.builders import use_fake_aws_credentials

    use_fake_aws_credentials(monkeypatch, "us-east-1")
    inputs = feature_names(())
    document = {
        "format": "journey-exit-risk-gbt/1",
        "version": "v-explain",
        "inputs": list(inputs),
        "vocabulary": [],
        "baseScore": 0.0,
        "trees": [[[inputs.index("events_7d"), 3.0, 1, 1, 2, 0.0], [-1, 0, 0, 0, 0, 1.0], [-1, 0, 0, 0, 0, -1.0]]],
        "calibration": {"x": [0.0, 1.0], "y": [0.0, 1.0]},
    }
    forget_loaded_models()
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="models")
        s3.put_object(Bucket="models", Key=exit_risk_model_key("v-explain"), Body=json.dumps(document).encode())
        models = models_by_version("models", s3)
        assert models is not None and models("v-explain").version == "v-explain"
        assert models("v-missing") is None
    forget_loaded_models()
    assert models_by_version("", None) is None


def test_a_model_score_stored_before_scores_had_their_time_keeps_what_it_stored():
    """The previous release stored a trained model's contributors with its score (none when nothing
    raised it) and no scoring time: read as stored, never re-explained at time 0."""
    fakes = Fakes()
    state = active_user(pid("demo-user-1"), 8)
    state.risk_score, state.risk_band, state.risk_model, state.risk_contributors = 12, "LOW", MODEL.version, []
    with_state(fakes, state)
    ports = fakes.ports()
    ports.exit_risk_models = lambda version: (_ for _ in ()).throw(AssertionError("nothing to explain"))
    risk = user_insights(server(), "demo-user-1", ports).exitRisk
    assert risk.contributors == [] and risk.contributorsUnavailable is None and risk.scoredBy == MODEL.version
    state.risk_contributors = [["events_7d", 7.5]]
    risk = user_insights(server(), "demo-user-1", ports).exitRisk
    assert [(c.feature, c.points) for c in risk.contributors] == [("events_7d", 7.5)]
