"""Help seeking, by intent: help and support places, help requests, and searches that ask for help,
matched as whole words and phrases in English, Spanish, German, French and Portuguese.

Whole words, not substrings: ``helpful-tips-onboarding``, ``Contacts``, ``contactless`` and a helper bot
are not help; ``/es/ayuda`` and ``contact support`` are. A chat screen alone is not support (messaging
apps are made of them); a support chat is. Phrases that look like help and are not ("support this
creator", "help wanted", a film called "The Help") are listed as negatives. Deployments add their
own phrases and negatives (``JOURNEY_DETECTION__HELP_PHRASES``, ``..._HELP_NOT_PHRASES``).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from journey.detection.findings import NONE, Finding
from journey.detection.signals import Severity, SignalType
from journey.detection.words import contains_phrase, phrase_set, words
from journey.events.model import EventType, UserEvent
from journey.kernel.ids import bounded_key
from journey.settings import DetectionSettings
from journey.users.state import UserState

# Places: screens, pages and features whose name says they are where help is.
HELP_PLACES: dict[str, tuple[str, ...]] = {
    "en": (
        "help",
        "faq",
        "faqs",
        "support",
        "helpcenter",
        "help center",
        "help centre",
        "helpdesk",
        "help desk",
        "customer service",
        "customer support",
        "customer care",
        "contact us",
        "contact support",
        "contactus",
        "troubleshoot",
        "troubleshooting",
        "support chat",
        "chat support",
        "chat with support",
        "live chat",
        "livechat",
        "get help",
        "report a problem",
        "report an issue",
    ),
    "es": (
        "ayuda",
        "soporte",
        "atencion al cliente",
        "centro de ayuda",
        "preguntas frecuentes",
        "contactanos",
        "servicio al cliente",
    ),
    "de": ("hilfe", "hilfecenter", "kundenservice", "kundendienst", "kundensupport", "haufige fragen", "kontaktieren sie uns"),
    "fr": ("aide", "centre d aide", "assistance", "service client", "contactez nous", "foire aux questions"),
    "pt": (
        "ajuda",
        "suporte",
        "central de ajuda",
        "atendimento",
        "fale conosco",
        "perguntas frequentes",
        "atendimento ao cliente",
    ),
}
# Searches: the places, plus what people type when something is wrong.
HELP_QUERIES: dict[str, tuple[str, ...]] = {
    "en": (
        "how do i",
        "how can i",
        "how do you",
        "forgot password",
        "forgot my password",
        "reset password",
        "reset my password",
        "cant log in",
        "cant login",
        "cant sign in",
        "cannot log in",
        "cannot login",
        "unable to log in",
        "cant access",
        "locked out",
        "not working",
        "doesnt work",
        "isnt working",
        "wont load",
        "talk to a human",
        "talk to someone",
        "speak to someone",
        "talk to a person",
        "real person",
        "talk to an agent",
        "speak to an agent",
        "live agent",
        "where is my order",
        "wheres my order",
        "order not received",
        "not received",
        "refund",
        "problem with",
        "issue with",
        "error code",
        "getting an error",
        "payment failed",
        "declined",
    ),
    "es": (
        "no puedo",
        "olvide contrasena",
        "olvide mi contrasena",
        "restablecer contrasena",
        "no funciona",
        "donde esta mi pedido",
        "hablar con",
        "reembolso",
        "problema con",
        "mi pedido no",
    ),
    "de": (
        "passwort vergessen",
        "kann mich nicht",
        "funktioniert nicht",
        "geht nicht",
        "wo ist meine bestellung",
        "ruckerstattung",
        "erstattung",
        "problem mit",
        "mitarbeiter sprechen",
        "kontakt aufnehmen",
    ),
    "fr": (
        "mot de passe oublie",
        "je ne peux pas",
        "impossible de",
        "ne fonctionne pas",
        "ne marche pas",
        "ou est ma commande",
        "remboursement",
        "probleme avec",
        "parler a un conseiller",
        "parler a quelqu un",
    ),
    "pt": (
        "esqueci minha senha",
        "esqueci a senha",
        "esqueci senha",
        "nao consigo",
        "nao funciona",
        "onde esta meu pedido",
        "cade meu pedido",
        "reembolso",
        "problema com",
        "falar com atendente",
        "falar com um atendente",
    ),
}
NOT_HELP: tuple[str, ...] = (
    "help wanted",
    "the help",
    "support this",
    "support the creator",
    "support creator",
    "creator support",
    "artist support",
    "support creators",
    "supporter",
    "supporters",
    "support the artist",
    "support artist",
    "support us",
    "support local",
    "support group",
    "how to train your dragon",
)


class Lexicon:
    def __init__(
        self, places: frozenset[tuple[str, ...]], queries: frozenset[tuple[str, ...]], negatives: frozenset[tuple[str, ...]]
    ):
        self.places, self.queries, self.negatives = places, queries, negatives
        self.longest = max(len(p) for p in places | queries | negatives)

    def names_help_place(self, name: str) -> bool:
        """A screen or page is a help place when a help phrase starts or ends one of its path segments
        (``/help/articles``, ``AccountHelpScreen``, ``/es/ayuda``), not when one is buried in a longer
        name (``/workouts/lower-back-support-mobility``)."""
        return _names_place(self, name)

    def asks_for_help(self, query: str) -> bool:
        return _matches(self, query, self.queries)


SCREEN_SUFFIXES = frozenset({"screen", "view", "page", "fragment", "activity", "controller", "tab", "modal", "sheet"})


@lru_cache(maxsize=16384)
def _names_place(lexicon: Lexicon, name: str) -> bool:
    if contains_phrase(words(name), lexicon.negatives, lexicon.longest):
        return False
    for segment in name.split("/"):
        segment_words = words(segment)
        while segment_words and segment_words[-1] in SCREEN_SUFFIXES:
            segment_words = segment_words[:-1]
        for size in range(1, min(lexicon.longest, len(segment_words)) + 1):
            if segment_words[:size] in lexicon.places or segment_words[-size:] in lexicon.places:
                return True
    return False


@lru_cache(maxsize=16384)
def _matches(lexicon: Lexicon, text: str, phrases: frozenset[tuple[str, ...]]) -> bool:
    text_words = words(text)
    return contains_phrase(text_words, phrases, lexicon.longest) and not contains_phrase(
        text_words, lexicon.negatives, lexicon.longest
    )


# Place names that are also everyday words in searches ("lumbar support pillow", "aide soignante",
# "roadside assistance"): a screen so named is a help place, a search containing them is not help.
NOT_ALONE_IN_SEARCHES = frozenset({"support", "aide", "assistance", "atendimento", "soporte", "suporte"})


@lru_cache(maxsize=16)
def lexicon(extra: tuple[str, ...] = (), not_help: tuple[str, ...] = ()) -> Lexicon:
    places = tuple(p for group in HELP_PLACES.values() for p in group) + extra
    queries = tuple(p for p in places if p not in NOT_ALONE_IN_SEARCHES) + tuple(
        q for group in HELP_QUERIES.values() for q in group
    )
    negatives = phrase_set(NOT_HELP + not_help)
    return Lexicon(phrase_set(places) - negatives, phrase_set(queries) - negatives, negatives)


def lexicon_of(cfg: DetectionSettings) -> Lexicon:
    return lexicon(cfg.help_phrases, cfg.help_not_phrases)


def detect_help_seeking(event: UserEvent, state: UserState, cfg: DetectionSettings) -> Sequence[Finding]:
    data = event.eventData
    help_words = lexicon_of(cfg)
    own = data.feature and not help_words.names_help_place(data.feature)
    feature = bounded_key(data.feature) if own and data.feature else (state.current_feature or "help")
    kind = event.eventType
    if kind is EventType.HELP_REQUEST:
        return [(SignalType.HELP_SEEKING, feature, Severity.MEDIUM, {"rule": "help_request"})]
    if kind in (EventType.SCREEN_VIEW, EventType.PAGE_VIEW):
        place = data.screen or data.feature
        if place and help_words.names_help_place(place):
            return [(SignalType.HELP_SEEKING, feature, Severity.LOW, {"rule": "help_screen", "screen": data.screen})]
    elif kind is EventType.SEARCH and data.query and help_words.asks_for_help(data.query):
        return [(SignalType.HELP_SEEKING, feature, Severity.LOW, {"rule": "help_search"})]
    return NONE
