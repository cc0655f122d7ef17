"""One user, one id: look-alike spellings of a user id are the same id, whatever the input format;
ids that cannot be an id are rejected with a reason naming userId."""

from __future__ import annotations

import json
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journey.events.decoding import Rejection, RejectionCode, decode_event
from journey.events.identity import normalize_user_id
from journey.events.model import UserEvent
from tests.builders import event
from tests.unit.test_decoding import FIREBASE_ROW

ROOT = Path(__file__).resolve().parents[2]
JOSE_NFC = "Jos\u00e9"
JOSE_NFD = "Jose\u0301"


def decode(user_id: str) -> UserEvent | Rejection:
    return decode_event(json.dumps(event(user=user_id)).encode(), 65_536)


LOOK_ALIKES = [
    ("alice\u200b", "alice"),  # zero-width space
    ("ali\u200cce", "alice"),  # zero-width non-joiner
    ("alice\u200d", "alice"),  # zero-width joiner
    ("\u2060alice", "alice"),  # word joiner
    ("\ufeffalice", "alice"),  # byte-order mark / zero-width no-break space
    ("al\u00adice", "alice"),  # soft hyphen
    ("\u202ealice", "alice"),  # right-to-left override
    ("\u202aalice\u202c", "alice"),  # left-to-right embedding ... pop
    ("\u2066alice\u2069", "alice"),  # left-to-right isolate ... pop
    ("\u200ealice\u200f", "alice"),  # left-to-right mark, right-to-left mark
    ("  alice\t\n", "alice"),  # surrounding whitespace
    ("\u200b alice \u200b", "alice"),  # whitespace behind invisible characters
    (JOSE_NFD, JOSE_NFC),  # decomposed: e + combining acute
    ("Jose\u200b\u0301", JOSE_NFC),  # an invisible character between the letter and its accent
]


@pytest.mark.parametrize("spelling, canonical", LOOK_ALIKES)
def test_look_alike_spellings_are_one_id(spelling, canonical):
    assert normalize_user_id(spelling) == canonical


@pytest.mark.parametrize("spelling, canonical", LOOK_ALIKES)
def test_every_event_of_a_look_alike_spelling_belongs_to_the_same_user(spelling, canonical):
    result = decode(spelling)
    assert isinstance(result, UserEvent), result
    assert result.userId == canonical


def test_firebase_rows_get_the_same_normalization():
    result = decode_event(json.dumps({**FIREBASE_ROW, "user_pseudo_id": "\u202epseudo-1\u200b"}).encode(), 65_536, "firebase")
    assert isinstance(result, UserEvent), result
    assert result.userId == "pseudo-1"


def test_an_ordinary_ascii_id_is_unchanged():
    for user_id in ("u1", "user-000123", "a3f9c2e1-8b7d-4c6a-9e5f-0d1b2c3d4e5f", "x" * 128, "with inner spaces ok"):
        assert normalize_user_id(user_id) == user_id
        assert decode(user_id).userId == user_id


def test_scripts_are_not_merged():
    cyrillic = "\u0430lice"  # Cyrillic small a, then Latin
    assert normalize_user_id(cyrillic) == cyrillic != "alice"
    assert normalize_user_id("\u00e9") != normalize_user_id("e")  # an accent is part of the id


@pytest.mark.parametrize(
    "user_id, words",
    [
        ("ali\x00ce", "U+0000"),
        ("ali\x07ce", "U+0007"),
        ("ali\nce", "U+000A"),  # a newline inside an id (around it, it is whitespace and stripped)
        ("\x1b[31malice", "U+001B"),
        ("al\u0085ice", "U+0085"),
        ("\u200bal\x7fice", "U+007F"),  # the slow path checks too
    ],
)
def test_control_characters_are_rejected_naming_userid(user_id, words):
    with pytest.raises(ValueError, match="control character"):
        normalize_user_id(user_id)
    result = decode(user_id)
    assert isinstance(result, Rejection), result
    assert result.code is RejectionCode.SCHEMA
    assert result.reason.startswith("userId") and words in result.reason, result.reason


@pytest.mark.parametrize("user_id", ["\u200b", "\u202e\u202c", " \u00ad\u2060 ", "\ufeff", "   "])
def test_an_id_of_nothing_but_invisible_characters_is_rejected_naming_userid(user_id):
    with pytest.raises(ValueError, match="empty"):
        normalize_user_id(user_id)
    result = decode(user_id)
    assert isinstance(result, Rejection), result
    assert result.code is RejectionCode.SCHEMA
    assert result.reason.startswith("userId") and "empty" in result.reason, result.reason


def test_a_lone_surrogate_is_rejected():  # JSON input cannot carry one; a Python producer could
    with pytest.raises(ValueError, match="surrogate"):
        normalize_user_id("alice\ud800")


def test_the_length_bound_holds_after_normalization():
    padded = "a" * 128 + "\u200b" * 20  # 148 characters, 128 once the invisible ones go
    assert decode(padded).userId == "a" * 128
    grows = "\u0958" * 100  # DEVANAGARI QA: NFC decomposes it (a composition exclusion), 200 characters
    assert len(unicodedata.normalize("NFC", grows)) == 200
    result = decode(grows)
    assert isinstance(result, Rejection) and result.reason.startswith("userId") and "128" in result.reason
    result = decode("a" * 129)
    assert isinstance(result, Rejection) and result.reason.startswith("userId") and "128" in result.reason
    result = decode("\u200b" * 5000 + "alice")  # hostile padding: refused before it is normalized
    assert isinstance(result, Rejection) and result.reason.startswith("userId")


def _by_the_rule(value: str) -> str | None:
    """The documented rule, written plainly (no fast path): the id, or None when it is rejected."""
    if any(unicodedata.category(char) == "Cs" for char in value):
        return None
    kept = unicodedata.normalize("NFC", "".join(c for c in value if unicodedata.category(c) != "Cf")).strip()
    if not kept or any(unicodedata.category(char) == "Cc" for char in kept):
        return None
    return kept


tricky = st.sampled_from([" ", "\t", "\n", "\x00", "\x85", "\u00a0", "\u200b", "\u202e", "\u00ad", "e", "\u0301", "\u0958", "a"])
ids = st.text(alphabet=st.one_of(st.characters(), tricky), max_size=40)


@settings(max_examples=1000, deadline=None)
@given(ids)
def test_normalization_follows_the_rule_and_is_idempotent(value):
    expected = _by_the_rule(value)
    try:
        once = normalize_user_id(value)
    except ValueError:
        assert expected is None
        return
    assert once == expected
    assert unicodedata.is_normalized("NFC", once)
    assert normalize_user_id(once) == once


def test_nfc_is_idempotent_on_the_look_alikes():
    for spelling, canonical in LOOK_ALIKES:
        assert normalize_user_id(normalize_user_id(spelling)) == canonical


def test_producers_can_import_it_without_pydantic():
    probe = (
        "import sys; from journey.events.identity import normalize_user_id;"
        "assert normalize_user_id('alice\\u200b') == 'alice';"
        "print('heavy:', sorted(m for m in ('pydantic', 'pydantic_core', 'orjson') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT / "layers" / "journey" / "python"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "heavy: []" in result.stdout
