"""Build the held-out field suite: ``python -m tests.field_holdout.build --out DIR``.

Writes ``DIR/events.jsonl`` (native events of 300 users, interleaved, sorted by time) and
``DIR/labels.jsonl`` (one line per labelled episode). Stdlib only and deterministic: the same
seed gives the same bytes. How the stories were written is in README.md next to this file.
"""

from __future__ import annotations

import argparse
import json
import random
import uuid
import zlib
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

SEED = 2026_11_09
SEC, MIN, HOUR, DAY = 1_000, 60_000, 3_600_000, 86_400_000
T0 = int(datetime(2026, 11, 9, 7, tzinfo=UTC).timestamp() * 1000)
T_END = T0 + 4 * DAY
MIDNIGHT0 = int(datetime(2026, 11, 9, tzinfo=UTC).timestamp() * 1000)
CONSENT = {"consent": {"inApp": True, "push": True, "messages": True}}


def camel(key: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in key.split("_"))


def lcamel(key: str) -> str:
    s = camel(key)
    return s[:1].lower() + s[1:]


def an(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def words(key: str) -> str:
    return key.replace("_", " ")


# --------------------------------------------------------------------------------------------------
# How each kind of client build spells things (screen names, targets, widget classes, lifecycle).
# --------------------------------------------------------------------------------------------------


def _kv(spec: str) -> dict[str, str]:
    """'a=b c=d' as {'a': 'b', 'c': 'd'}: the long spelling tables stay readable in a few lines."""
    return dict(pair.split("=", 1) for pair in spec.split())


def _lc(launch: str, start: str, bg: str, fg: str, end: str) -> dict[str, str]:
    return {"launch": launch, "start": start, "bg": bg, "fg": fg, "end": end}


def _fw(screen, target, tap, feat_taps, tt, lc, crash, timeout, server, words, help_events=True) -> dict:
    return {
        "screen": screen,
        "target": target,
        "tap": tap,
        "feat_taps": feat_taps,
        "tt": _kv(tt),
        "lc": lc,
        "crash": crash,
        "timeout": timeout,
        "server": server,
        "words": words,
        "help_events": help_events,
    }


_ANDROID_ID = _kv(
    "button=btn image=iv label=tv toggle=switch stepper=btn carousel=pager tab=nav keypad=key text_field=et "
    "list_item=row card=card map=map pin=marker story=story icon=ib radio=rb checkbox=cb date=day link=tv"
)
_TAGS = (
    "button=BUTTON image=IMG label=SPAN toggle=INPUT stepper=BUTTON carousel=BUTTON tab=A keypad=BUTTON "
    "text_field=INPUT list_item=LI card=DIV map=DIV pin=IMG story=DIV icon=svg radio=INPUT checkbox=INPUT date=TD link=A"
)
_TAG = _kv(_TAGS)

FW = {
    "uikit": _fw(
        lambda k: camel(k) + "ViewController",
        lambda t, kind: lcamel(t),
        "tap",
        False,
        "button=UIButton link=UIButton image=UIImageView label=UILabel toggle=UISwitch stepper=UIStepper "
        "carousel=UIPageViewController tab=UITabBarButton keypad=UIButton text_field=UITextField "
        "list_item=UITableViewCell card=UICollectionViewCell map=MKMapView pin=MKAnnotationView "
        "story=StoryView icon=UIBarButtonItem radio=UIButton checkbox=UIButton date=UICollectionViewCell",
        _lc("launch", "session_start", "didEnterBackground", "didBecomeActive", "willTerminate"),
        [("error", "EXC_BAD_ACCESS", True), ("error", "SIGABRT", True), ("lifecycle", "crash", None)],
        "network_timeout",
        "server_500",
        "plain",
    ),
    "swiftui": _fw(
        lambda k: camel(k) + "View",
        lambda t, kind: t,
        "tap",
        True,
        "button=Button link=Link image=Image label=Text toggle=Toggle stepper=Stepper carousel=carousel "
        "tab=TabItem keypad=keypad text_field=TextField list_item=row card=card map=Map pin=MapAnnotation "
        "story=story icon=Button radio=Button checkbox=Toggle date=date",
        _lc("launch", "session_start", "background", "foreground", "terminate"),
        [("lifecycle", "crash", None)],
        "URLError.timedOut",
        "HTTP 500",
        "plain",
    ),
    "react_native": _fw(
        camel,
        lambda t, kind: t.replace("_", "-"),
        "press",
        True,
        "button=TouchableOpacity link=Text image=Image label=Text toggle=Switch stepper=TouchableOpacity "
        "carousel=Carousel tab=tab keypad=Pressable text_field=TextInput list_item=Pressable card=Pressable "
        "map=MapView pin=Marker story=Pressable icon=Pressable radio=Pressable checkbox=CheckBox date=Pressable",
        _lc("cold_start", "app_open", "background", "foreground", "session_end"),
        [("error", "fatal_js_exception", True)],
        "Network request failed",
        "HTTP_503",
        "past",
    ),
    "android_views": _fw(
        lambda k: camel(k) + "Fragment",
        lambda t, kind: f"{_ANDROID_ID.get(kind, 'view')}_{t}",
        "click",
        False,
        "button=com.google.android.material.button.MaterialButton link=android.widget.TextView "
        "image=android.widget.ImageView label=android.widget.TextView toggle=androidx.appcompat.widget.SwitchCompat "
        "stepper=android.widget.ImageButton carousel=androidx.viewpager2.widget.ViewPager2 "
        "tab=BottomNavigationItemView keypad=android.widget.Button "
        "text_field=com.google.android.material.textfield.TextInputEditText "
        "list_item=androidx.recyclerview.widget.RecyclerView card=com.google.android.material.card.MaterialCardView "
        "map=com.google.android.gms.maps.MapView pin=Marker story=StoryView "
        "icon=androidx.appcompat.widget.AppCompatImageButton radio=android.widget.RadioButton "
        "checkbox=com.google.android.material.checkbox.MaterialCheckBox date=android.widget.TextView",
        _lc("cold_start", "session_start", "app_background", "app_foreground", "session_end"),
        [("error", "fatal_exception", None), ("error", "anr", None)],
        "java.net.SocketTimeoutException",
        "server_500",
        "past",
    ),
    "compose": _fw(
        lambda k: k,
        lambda t, kind: t,
        "click",
        True,
        "button=Button link=TextButton image=Image label=Text toggle=Switch stepper=IconButton carousel=HorizontalPager "
        "tab=NavigationBarItem keypad=keypad text_field=OutlinedTextField list_item=ListItem card=Card map=GoogleMap "
        "pin=Marker story=story icon=IconButton radio=RadioButton checkbox=Checkbox date=date",
        _lc("launch", "session_start", "background", "foreground", "session_end"),
        [("lifecycle", "app_crash", None)],
        "network_timeout",
        "http_502",
        "plain",
    ),
    "flutter": _fw(
        lambda k: "/" + k,
        lambda t, kind: t,
        "tap",
        True,
        "button=ElevatedButton link=TextButton image=Image label=Text toggle=Switch stepper=IconButton "
        "carousel=PageView tab=BottomNavigationBarItem keypad=keypad text_field=TextField list_item=ListTile "
        "card=InkWell map=GoogleMap pin=Marker story=story icon=IconButton radio=Radio checkbox=Checkbox date=date",
        _lc("app_launch", "session_start", "paused", "resumed", "session_end"),
        [("error", "FlutterError", True)],
        "SocketException",
        "server_500",
        "plain",
    ),
    "web_react": _fw(
        None,
        lambda t, kind: f"[data-testid={t.replace('_', '-')}]",
        "click",
        True,
        "button=button link=a image=img label=span toggle=input[type=checkbox] stepper=button carousel=swiper "
        "tab=tab keypad=button text_field=input list_item=li card=div map=map pin=img story=story icon=button "
        "radio=input[type=radio] checkbox=input[type=checkbox] date=button",
        _lc("session_start", "session_start", "visibilitychange", "visibilitychange", "pagehide"),
        [("error", "white_screen", None), ("error", "ChunkLoadError", True)],
        "network_error",
        "HTTP 503",
        "plain",
    ),
    "web_tags": _fw(
        None,
        lambda t, kind: f"{_TAG.get(kind, 'DIV').lower()}#{t.replace('_', '-')}",
        "click",
        False,
        _TAGS,
        _lc("session_start", "session_start", "hidden", "visible", "beforeunload"),
        [("error", "TypeError", True)],
        "timeout",
        "500 Internal Server Error",
        "past",
        help_events=False,
    ),
}

WORDS = {
    "plain": _kv(
        "start=start step=step submit=submit complete=complete fail=fail cancel=cancel back=back scroll=scroll "
        "type=type swipe=swipe refresh=refresh retry=retry send=send save=save skip=skip play=play pause=pause "
        "progress=progress load=load add_to_cart=add_to_cart select=select"
    ),
    "past": _kv(
        "start=started step=step_completed submit=submitted complete=completed fail=failed cancel=cancelled "
        "back=navigate_back scroll=scrolled type=input swipe=swiped refresh=pull_to_refresh retry=retried send=send "
        "save=saved skip=skipped play=played pause=paused progress=progress load=loaded add_to_cart=addToCart "
        "select=selected"
    ),
    "camel": _kv(
        "start=flowStarted step=nextStep submit=formSubmit complete=flowCompleted fail=submitFailed cancel=flowCancel "
        "back=goBack scroll=scrolled type=textInput swipe=swipe refresh=pullToRefresh retry=tryAgain send=send "
        "save=bookmark skip=skipForward play=play pause=pause progress=videoProgress load=loadMore "
        "add_to_cart=addToBasket select=choose"
    ),
}
WORDS["ga4"] = WORDS["plain"]  # plus GA4 e-commerce names on paying flows (step_word, complete)

# (app kind, platform) -> (framework, overrides). A few builds forward their framework's own words.
BUILDS = {
    ("food_delivery", "iOS"): ("uikit", {}),
    ("food_delivery", "Android"): ("compose", {}),
    ("food_delivery", "Web"): ("web_react", {"words": "ga4"}),
    ("banking", "iOS"): ("swiftui", {}),
    ("banking", "Android"): ("android_views", {}),
    ("banking", "Web"): ("web_tags", {}),
    ("e_learning", "iOS"): ("react_native", {"tap": "onPress"}),
    ("e_learning", "Android"): ("react_native", {"tap": "onPress"}),
    ("e_learning", "Web"): ("web_react", {}),
    ("dating", "iOS"): ("uikit", {"tap": "tapped"}),
    ("dating", "Android"): ("flutter", {"tap": "onTap"}),
    ("dating", "Web"): ("web_react", {"end": "beforeunload"}),
    ("ride_hailing", "iOS"): ("swiftui", {"fg": "active"}),
    ("ride_hailing", "Android"): ("android_views", {"words": "camel"}),
    ("ride_hailing", "Web"): ("web_tags", {}),
    ("news", "iOS"): ("uikit", {"fg": "willEnterForeground"}),
    ("news", "Android"): ("android_views", {"bg": "ON_STOP", "fg": "ON_START"}),
    ("news", "Web"): ("web_react", {"help_events": False}),
    ("fitness", "iOS"): ("flutter", {}),
    ("fitness", "Android"): ("flutter", {"tap": "Tap"}),
    ("fitness", "Web"): ("web_react", {}),
    ("travel_booking", "iOS"): ("uikit", {"words": "past"}),
    ("travel_booking", "Android"): ("compose", {"words": "camel"}),
    ("travel_booking", "Web"): ("web_tags", {"words": "ga4"}),
}

FIELDS = {
    step: names.split(",")
    for step, names in _kv(
        "address=street_address,apartment,delivery_instructions payment=card_number,expiry_date,cvc "
        "details=full_name,email,password verify_phone=phone_number credentials=email,password amount=amount,reference "
        "personal_details=first_name,last_name,date_of_birth,address guest=first_name,last_name,email,phone_number "
        "account=email,password name_birthday=first_name,birthday card=card_number,expiry_date,cvc,zip_code "
        "phone=phone_number name=first_name,last_name email=email,password payee=payee_name,iban "
        "profile_basics=display_name,city prompts=prompt_answer body=height,weight newsletter_email=email "
        "contact=email,message"
    ).items()
}

LOCALES = [  # locale, time zone, UTC offset in November 2026 (hours), language, weight
    ("en-US", "America/New_York", -5, "en", 13),
    ("en-US", "America/Chicago", -6, "en", 6),
    ("en-US", "America/Los_Angeles", -8, "en", 7),
    ("en-GB", "Europe/London", 0, "en", 10),
    ("en-IN", "Asia/Kolkata", 5.5, "en", 5),
    ("en-AU", "Australia/Sydney", 11, "en", 4),
    ("es-ES", "Europe/Madrid", 1, "es", 8),
    ("es-MX", "America/Mexico_City", -6, "es", 8),
    ("de-DE", "Europe/Berlin", 1, "de", 12),
    ("fr-FR", "Europe/Paris", 1, "fr", 12),
    ("pt-BR", "America/Sao_Paulo", -3, "pt", 12),
]


# --------------------------------------------------------------------------------------------------
# The eight apps. Screen keys are spelled per build (FW.screen) or as web paths (paths, else /a/b).
# rage: (kind, target, screen, what the user sees, screen that finally appears or None)
# --------------------------------------------------------------------------------------------------


def _flow(feature, entry, steps, submit, text, done, noun, pay=False):
    return {
        "feature": feature,
        "entry": entry,
        "steps": steps,
        "submit": submit,
        "text": text,
        "done": done,
        "noun": noun,
        "pay": pay,
    }


APPS = {
    "food_delivery": {
        "brand": "Forkful",
        "domain": "www.forkful.com",
        "ver": {"iOS": "8.14.1", "Android": "8.14.0", "Web": "web-2026.11.04"},
        "paths": {
            "home": "/",
            "restaurant": "/store",
            "dish": "/store/item",
            "order_detail": "/orders/detail",
            "order_tracking": "/orders/track",
            "help_article": "/help/articles",
        },
        "browse": ["home", "offers", "search", "restaurant", "orders", "account"],
        "items": (
            "search",
            "restaurant",
            [
                "taqueria-el-sol",
                "sakura-sushi-bar",
                "pho-saigon-88",
                "la-piazza-napoli",
                "green-bowl-co",
                "burger-barn",
                "curry-leaf",
            ],
        ),
        "queries": ["sushi", "pad thai", "pizza", "vegan bowl", "tacos", "ramen", "burrito", "bubble tea", "poke"],
        "flow": _flow(
            "checkout",
            ("cart", "checkout"),
            [("checkout_address", "address"), ("checkout_payment", "payment")],
            "place_order",
            "Place order",
            "order_confirmed",
            "checkout of a dinner order",
            pay=True,
        ),
        "signup": _flow(
            "signup",
            ("welcome", "sign_up"),
            [("signup", "details"), ("signup_phone", "verify_phone")],
            "create_account",
            "Create account",
            "home",
            "account sign-up",
        ),
        "otp": True,
        "promo": ("cart", "promo_code"),
        "rage": [
            ("button", "place_order", "checkout_payment", "'Place order' button", "order_confirmed"),
            ("button", "apply_promo", "cart", "'Apply' promo button", None),
            ("image", "dish_photo", "dish", "dish photo", None),
            ("pin", "courier_pin", "order_tracking", "courier pin on the map", None),
            ("label", "delivery_fee_info", "cart", "'Delivery fee ⓘ' text", None),
            ("button", "reorder", "order_detail", "'Reorder' button", "cart"),
        ],
        "special": None,
        "sys": [
            ("menu", "restaurant", "the restaurant menu"),
            ("order_tracking", "order_tracking", "live order tracking"),
            ("orders", "orders", "the order history"),
        ],
        "crash_at": [
            ("restaurant", "add_to_cart", "adding a dish"),
            ("order_tracking", "call_courier", "opening tracking"),
            ("cart", "checkout", "opening checkout"),
        ],
        "loops": [
            (("orders", "order_detail"), "a way to report a missing side dish"),
            (("account", "payment_methods", "settings"), "where to remove an old card"),
            (("order_detail", "order_tracking"), "whether the late order is still coming"),
        ],
        "help": {
            "en": [
                "where is my order",
                "order missing items refund",
                "driver never delivered my food",
                "how do i cancel my order",
                "charged twice??",
                "cancel order",
            ],
            "es": ["dónde está mi pedido", "me falta un producto del pedido", "como cancelo mi pedido"],
            "de": ["wo ist meine bestellung", "bestellung stornieren", "geld zurück fehlende artikel"],
            "fr": ["où est ma commande", "commande incomplète remboursement", "annuler ma commande"],
            "pt": ["cadê meu pedido", "pedido veio errado reembolso", "como cancelar pedido"],
        },
        "articles": ["where-is-my-order", "missing-or-incorrect-items", "cancel-an-order", "refund-timelines"],
        "stepper": ("dish", "quantity", "portions"),
        "carousel": ("dish", "dish photos"),
        "toggles": (
            "notifications",
            ["order_updates", "promotions", "newsletter", "sms_updates", "courier_calls", "push_offers"],
        ),
        "keypad": ("tip", "custom tip"),
        "stories": ("offers", "promo stories"),
        "video": None,
        "map": ("order_tracking", "courier map"),
        "quiz": None,
        "calendar": None,
        "swipes": False,
        "chat": (
            "courier_chat",
            "courier",
            ["I'm in building B, 3rd floor", "buzzer is broken, I'll come down", "thanks!", "can you leave it at the door"],
        ),
        "multi": (
            "menu",
            "restaurant",
            "add_to_cart",
            ["carnitas_taco", "al_pastor_taco", "horchata", "churros", "guacamole"],
            "dishes to the basket",
        ),
        "locked": None,
        "lookalike": "food",
    },
    "banking": {
        "brand": "Ledgerly",
        "domain": "app.ledgerly.com",
        "ver": {"iOS": "5.32.0", "Android": "5.31.2", "Web": "2026.45.1"},
        "paths": {"home": "/overview", "help_article": "/support/articles", "help": "/support"},
        "browse": ["home", "account_detail", "transactions", "cards", "insights", "payees"],
        "items": ("transactions", "transaction_detail", ["tx-88213", "tx-88190", "tx-88177", "tx-88102", "tx-87994"]),
        "queries": ["netflix", "rent", "tesco", "salary", "uber", "amazon", "gym"],
        "flow": _flow(
            "transfer",
            ("payees", "new_transfer"),
            [("transfer", "payee"), ("transfer_amount", "amount"), ("transfer_review", "review")],
            "send_money",
            "Send money",
            "transfer_success",
            "money transfer",
        ),
        "signup": _flow(
            "open_account",
            ("welcome", "open_account"),
            [("signup", "personal_details"), ("id_verification", "upload_id")],
            "submit_application",
            "Submit application",
            "application_submitted",
            "account application",
        ),
        "otp": True,
        "promo": None,
        "rage": [
            ("button", "download_statement", "statements", "'Download PDF' button", None),
            ("button", "send_money", "transfer_review", "'Send money' button", "transfer_success"),
            ("label", "iban_copy", "account_detail", "IBAN text (looks copyable)", None),
            ("image", "cheque_preview", "cheque_deposit", "cheque photo preview", None),
            ("toggle", "freeze_card", "cards", "'Freeze card' switch", None),
            ("button", "view_pin", "cards", "'Show PIN' button", "card_pin"),
        ],
        "special": (
            "add_payee",
            "add_payee",
            "save_payee",
            ["iban_invalid", "IBAN_CHECKSUM_FAILED", "invalid_account_number"],
            "adding a new payee",
            ["payee_name", "iban"],
        ),
        "sys": [
            ("transactions", "transactions", "the transaction history"),
            ("statements", "statements", "statements"),
            ("cheque_deposit", "cheque_deposit", "mobile cheque deposit"),
        ],
        "crash_at": [
            ("cheque_deposit", "capture_cheque", "photographing a cheque"),
            ("cards", "add_to_wallet", "adding the card to the wallet"),
        ],
        "loops": [
            (("home", "account_detail"), "the IBAN to give to an employer"),
            (("profile", "settings", "cards"), "where to change the card PIN"),
            (("statements", "account_detail", "transactions"), "last year's tax statement"),
        ],
        "help": {
            "en": [
                "how to change card pin",
                "card blocked abroad",
                "dispute a transaction",
                "increase transfer limit",
                "didnt get the code",
                "unknown payment on my account",
            ],
            "es": ["cambiar pin tarjeta", "tarjeta bloqueada en el extranjero", "no me llega el sms"],
            "de": ["pin ändern karte", "karte gesperrt ausland", "überweisung zurückholen"],
            "fr": ["changer code carte", "carte bloquée à l'étranger", "contester un paiement"],
            "pt": ["trocar senha do cartão", "cartão bloqueado no exterior", "contestar compra"],
        },
        "articles": ["change-your-card-pin", "card-blocked-abroad", "dispute-a-card-payment", "transfer-limits"],
        "stepper": None,
        "carousel": ("insights", "insight cards"),
        "toggles": (
            "settings",
            ["push_notifications", "face_id_login", "round_ups", "spending_alerts", "marketing_emails", "contactless_payments"],
        ),
        "keypad": ("unlock", "app PIN"),
        "stories": None,
        "video": None,
        "map": None,
        "quiz": None,
        "calendar": ("scheduled_payment", "date"),
        "swipes": False,
        "chat": None,
        "multi": ("bill_pay", "bill_pay", "submit", ["electricity", "water", "mobile_phone", "council_tax"], "bills"),
        "locked": None,
        "lookalike": "banking",
    },
    "e_learning": {
        "brand": "Lumen Academy",
        "domain": "learn.lumenacademy.io",
        "ver": {"iOS": "3.9.2", "Android": "3.9.2", "Web": "v2026.11.2"},
        "paths": {"home": "/dashboard", "course": "/courses", "lesson": "/learn/lesson", "help_article": "/help/article"},
        "browse": ["home", "catalog", "course", "progress", "profile", "discussion"],
        "items": (
            "catalog",
            "course",
            [
                "intro-to-python",
                "data-analysis-with-sql",
                "ux-research-basics",
                "spanish-a2",
                "statistics-101",
                "web-dev-bootcamp",
            ],
        ),
        "queries": ["python", "excel pivot tables", "machine learning", "spanish for beginners", "public speaking", "sql joins"],
        "flow": _flow(
            "checkout",
            ("course", "enroll"),
            [("checkout_plan", "plan"), ("checkout_payment", "payment")],
            "pay_now",
            "Pay now",
            "enrollment_confirmed",
            "paid course enrolment",
            pay=True,
        ),
        "signup": _flow(
            "signup",
            ("welcome", "sign_up"),
            [("signup", "account"), ("onboarding_goals", "goals")],
            "create_account",
            "Create account",
            "home",
            "sign-up",
        ),
        "otp": False,
        "promo": ("redeem", "coupon"),
        "rage": [
            ("button", "next_lesson", "lesson", "'Next lesson' button", "lesson"),
            ("button", "download_certificate", "certificates", "'Download certificate' button", None),
            ("image", "play_overlay", "lesson", "video thumbnail with a play icon", None),
            ("label", "transcript_link", "lesson", "'Show transcript' text", None),
            ("button", "mark_complete", "lesson", "'Mark as complete' button", None),
        ],
        "special": (
            "assignment_upload",
            "assignment",
            "upload_file",
            ["file_too_large", "unsupported_file_type", "upload_rejected"],
            "uploading a homework file",
            ["file_picker"],
        ),
        "sys": [
            ("video_player", "lesson", "the lesson video"),
            ("quiz", "quiz", "the quiz"),
            ("discussion", "discussion", "the discussion forum"),
        ],
        "crash_at": [
            ("lesson", "download_lesson", "downloading a lesson for offline"),
            ("quiz", "start_quiz", "starting a quiz"),
        ],
        "loops": [
            (("course", "lesson"), "where the downloadable slides are"),
            (("profile", "progress", "certificates"), "the certificate for a finished course"),
            (("course", "syllabus"), "the assignment deadline"),
        ],
        "help": {
            "en": [
                "how do i get my certificate",
                "video wont play",
                "refund course",
                "reset progress",
                "can't submit assignment",
                "change email address",
            ],
            "es": ["como descargo mi certificado", "el video no carga", "reembolso del curso"],
            "de": ["zertifikat herunterladen", "video lädt nicht", "kurs erstattung"],
            "fr": ["télécharger mon certificat", "la vidéo ne marche pas", "remboursement cours"],
            "pt": ["como baixar certificado", "vídeo não carrega", "reembolso do curso"],
        },
        "articles": ["download-your-certificate", "video-playback-issues", "refund-policy", "submitting-assignments"],
        "stepper": None,
        "carousel": ("home", "recommended courses"),
        "toggles": (
            "settings",
            ["daily_reminder", "weekly_digest", "autoplay_next", "download_wifi_only", "captions", "streak_alerts"],
        ),
        "keypad": None,
        "stories": None,
        "video": ("lesson", ["vid_py_101_03", "vid_sql_join_02", "vid_ux_interviews_05", "vid_stats_clt_07"]),
        "map": None,
        "quiz": ("quiz", "quiz"),
        "calendar": None,
        "swipes": False,
        "chat": None,
        "multi": (
            "flashcards",
            "flashcards",
            "submit",
            ["card_1", "card_2", "card_3", "card_4", "card_5", "card_6"],
            "flashcard answers",
        ),
        "locked": None,
        "lookalike": "learning",
    },
    "dating": {
        "brand": "Kindred",
        "domain": "kindred.app",
        "ver": {"iOS": "14.2.0", "Android": "14.1.3", "Web": "w-14.2"},
        "paths": {
            "home": "/app/discover",
            "discover": "/app/discover",
            "profile_card": "/app/profile",
            "help_article": "/help/a",
        },
        "browse": ["discover", "profile_card", "matches", "chat_list", "my_profile", "likes_you"],
        "items": ("discover", "profile_card", ["p_51c2", "p_7a19", "p_0b3e", "p_e44f", "p_93d0", "p_2c7a", "p_6f11"]),
        "queries": [],
        "flow": _flow(
            "subscription",
            ("premium", "get_premium"),
            [("premium_plans", "plan"), ("premium_checkout", "payment")],
            "subscribe",
            "Subscribe",
            "premium_welcome",
            "Premium subscription purchase",
            pay=True,
        ),
        "signup": _flow(
            "onboarding",
            ("welcome", "create_profile"),
            [("signup", "name_birthday"), ("onboarding_photos", "photos"), ("onboarding_prompts", "prompts")],
            "finish_profile",
            "Finish",
            "discover",
            "profile set-up",
        ),
        "otp": True,
        "promo": None,
        "rage": [
            ("image", "profile_photo", "profile_card", "profile photo", None),
            ("button", "send_message", "chat", "'Send' button", None),
            ("button", "verify_selfie", "photo_verification", "'Take selfie' button", None),
            ("label", "match_name", "matches", "match's name", None),
            ("button", "see_who_liked", "likes_you", "'See who likes you' button", "premium_plans"),
        ],
        "special": (
            "photo_verification",
            "photo_verification",
            "submit_selfie",
            ["face_mismatch", "verification_failed", "pose_not_matched"],
            "photo verification",
            [],
        ),
        "sys": [
            ("photo_upload", "edit_profile", "photo upload"),
            ("matches", "matches", "the matches list"),
            ("chat", "chat", "messages"),
        ],
        "crash_at": [("edit_profile", "add_photo", "adding a photo"), ("chat", "send_gif", "sending a GIF")],
        "loops": [
            (("settings", "account_settings"), "how to hide the profile for a while"),
            (("my_profile", "edit_profile", "settings"), "where to change the search location"),
            (("premium", "settings"), "how to stop the subscription renewing"),
        ],
        "help": {
            "en": [
                "how to delete my account",
                "pause my profile",
                "cancel subscription refund",
                "report fake profile",
                "why cant i see my matches",
                "unblock someone",
            ],
            "es": ["como borrar mi cuenta", "ocultar mi perfil", "cancelar suscripción"],
            "de": ["konto löschen", "profil pausieren", "abo kündigen"],
            "fr": ["supprimer mon compte", "mettre mon profil en pause", "signaler un faux profil"],
            "pt": ["como excluir minha conta", "pausar perfil", "cancelar assinatura"],
        },
        "articles": ["delete-or-pause-your-account", "cancel-premium", "report-a-profile", "matches-disappeared"],
        "stepper": None,
        "carousel": ("profile_card", "profile photos"),
        "toggles": (
            "settings",
            ["show_me_on_kindred", "new_match_push", "message_push", "read_receipts", "incognito", "email_tips"],
        ),
        "keypad": None,
        "stories": None,
        "video": None,
        "map": None,
        "quiz": None,
        "calendar": None,
        "swipes": True,
        "chat": (
            "chat",
            "match",
            ["haha that's so true", "have you been to the ramen place on 5th?", "I'm free thursday", "deal 🍜", "see you then!"],
        ),
        "multi": ("prompts", "edit_profile", "save", ["prompt_1", "prompt_2", "prompt_3"], "profile prompts"),
        "locked": None,
        "lookalike": None,
    },
    "ride_hailing": {
        "brand": "Swiftly",
        "domain": "m.swiftly.com",
        "ver": {"iOS": "7.88.0", "Android": "7.87.1", "Web": "m-7.88"},
        "paths": {"home": "/", "trip_detail": "/trips/detail", "help_article": "/help/article"},
        "browse": ["home", "trips", "wallet", "account", "promotions", "trip_detail"],
        "items": ("trips", "trip_detail", ["trip_5521", "trip_5488", "trip_5402", "trip_5399", "trip_5310"]),
        "queries": ["airport", "central station", "1600 main st", "city hospital", "westfield mall", "hotel marriott"],
        "flow": _flow(
            "ride_request",
            ("home", "where_to"),
            [("set_destination", "destination"), ("ride_options", "choose_ride"), ("confirm_pickup", "pickup")],
            "request_ride",
            "Request Swiftly",
            "finding_driver",
            "ride request",
        ),
        "signup": _flow(
            "signup",
            ("welcome", "continue_with_phone"),
            [("signup", "phone"), ("signup_name", "name")],
            "create_account",
            "Create account",
            "home",
            "sign-up",
        ),
        "payflow": _flow(
            "add_payment_method",
            ("wallet", "add_card"),
            [("add_card", "card")],
            "save_card",
            "Save card",
            "wallet",
            "card set-up",
            pay=True,
        ),
        "otp": True,
        "promo": ("promotions", "promo_code"),
        "rage": [
            ("pin", "pickup_pin", "confirm_pickup", "pickup pin", None),
            ("button", "add_card", "wallet", "'Add card' button", None),
            ("label", "fare_breakdown", "ride_options", "fare breakdown text", None),
            ("image", "driver_photo", "trip_in_progress", "driver's photo", None),
            ("button", "download_receipt", "trip_detail", "'Get receipt' button", None),
        ],
        "special": None,
        "sys": [
            ("promotions", "promotions", "the promotions list"),
            ("map", "home", "the map"),
            ("trip_receipt", "trip_detail", "the trip receipt"),
        ],
        "crash_at": [("promotions", "apply_offer", "applying an offer"), ("wallet", "add_card", "opening the wallet")],
        "loops": [
            (("trips", "trip_detail"), "the receipt for a business trip"),
            (("wallet", "account"), "where to switch to the business profile"),
            (("trip_detail", "trips", "wallet"), "whether a refund came through"),
        ],
        "help": {
            "en": [
                "driver never arrived refund",
                "charged twice for one ride",
                "lost item in car",
                "cancellation fee unfair",
                "driver took longer route",
            ],
            "es": ["me cobraron dos veces", "olvidé algo en el auto", "cobro por cancelación"],
            "de": ["fahrer nicht gekommen geld zurück", "handy im auto vergessen", "stornogebühr"],
            "fr": ["objet oublié dans la voiture", "frais d'annulation", "chauffeur pas venu"],
            "pt": ["motorista cancelou e cobrou taxa", "esqueci celular no carro", "cobrança em dobro"],
        },
        "articles": ["driver-didnt-arrive", "lost-items", "cancellation-fees", "fare-review"],
        "stepper": None,
        "carousel": ("promotions", "offer cards"),
        "toggles": ("settings", ["trip_updates", "promotions_push", "share_trip_status", "quiet_mode", "email_receipts"]),
        "keypad": ("tip", "custom tip"),
        "stories": None,
        "video": None,
        "map": ("home", "map"),
        "quiz": None,
        "calendar": None,
        "swipes": False,
        "chat": ("driver_chat", "driver", ["I'm at the north entrance", "wearing a red jacket", "ok see you", "2 min!"]),
        "multi": ("saved_places", "saved_places", "save", ["home", "work", "gym"], "saved places"),
        "locked": ("trip", "trip_in_progress", "the ride"),
        "lookalike": "ride",
    },
    "news": {
        "brand": "Morning Wire",
        "domain": "www.morningwire.news",
        "ver": {"iOS": "6.3.0", "Android": "6.3.0", "Web": "fe-6431"},
        "paths": {"home": "/", "article": "/article", "section": "/section", "help_article": "/help/articles"},
        "browse": ["home", "section", "article", "saved", "video_hub", "live_blog"],
        "items": (
            "home",
            "article",
            [
                "election-night-results-live",
                "rates-held-at-4pc",
                "city-derby-report",
                "climate-summit-draft-deal",
                "housing-market-cools",
                "the-best-winter-soups",
            ],
        ),
        "queries": ["election results", "interest rates", "champions league", "climate summit", "housing market"],
        "flow": _flow(
            "subscription",
            ("article", "subscribe"),
            [("subscribe_plan", "plan"), ("subscribe_payment", "payment")],
            "start_subscription",
            "Start subscription",
            "subscription_welcome",
            "digital subscription purchase",
            pay=True,
        ),
        "signup": _flow(
            "registration",
            ("article", "register_free"),
            [("register", "email"), ("register_newsletters", "newsletters")],
            "create_account",
            "Create account",
            "home",
            "free registration",
        ),
        "otp": False,
        "promo": None,
        "rage": [
            ("button", "continue_reading", "article", "'Continue reading' button", None),
            ("image", "article_image", "article", "article photo", None),
            ("button", "load_more", "section", "'Load more' button", "section"),
            ("label", "byline", "article", "author byline", None),
            ("button", "play_audio", "article", "'Listen to this article' button", None),
        ],
        "special": None,
        "sys": [
            ("article", "article", "the article body"),
            ("video", "video_hub", "the video player"),
            ("live_blog", "live_blog", "the live blog"),
        ],
        "crash_at": [("article", "share", "sharing an article"), ("video_hub", "play_video", "starting a video")],
        "loops": [
            (("account", "subscription_settings"), "how to cancel the subscription"),
            (("account", "newsletters", "subscription_settings"), "how to stop the daily email"),
            (("home", "section"), "yesterday's crossword"),
        ],
        "help": {
            "en": [
                "cancel subscription",
                "how to cancel",
                "stop daily emails",
                "can't log in on my ipad",
                "delivery paper missing",
            ],
            "es": ["cancelar suscripción", "darme de baja", "no puedo iniciar sesión"],
            "de": ["abo kündigen", "newsletter abbestellen", "kann mich nicht einloggen"],
            "fr": ["résilier abonnement", "se désabonner newsletter", "impossible de me connecter"],
            "pt": ["cancelar assinatura", "parar de receber emails", "não consigo entrar"],
        },
        "articles": ["cancel-your-subscription", "manage-newsletters", "sign-in-problems", "billing-questions"],
        "stepper": None,
        "carousel": ("article", "photo gallery"),
        "toggles": (
            "settings",
            ["breaking_news", "daily_briefing", "sport_alerts", "dark_mode", "autoplay_video", "offline_reading"],
        ),
        "keypad": None,
        "stories": ("home", "news stories"),
        "video": ("video_hub", ["v_summit_recap", "v_derby_highlights", "v_rates_explainer"]),
        "map": None,
        "quiz": ("news_quiz", "news_quiz"),
        "calendar": None,
        "swipes": False,
        "chat": None,
        "multi": ("saved", "article", "save", ["article_1", "article_2", "article_3", "article_4"], "articles for later"),
        "locked": None,
        "lookalike": "news",
    },
    "fitness": {
        "brand": "Pulse Fit",
        "domain": "app.pulsefit.com",
        "ver": {"iOS": "4.21.0", "Android": "4.21.0", "Web": "4.21.0-web"},
        "paths": {"home": "/today", "workout_detail": "/workouts", "help_article": "/help/articles"},
        "browse": ["home", "workouts", "workout_detail", "activity", "programs", "profile"],
        "items": (
            "workouts",
            "workout_detail",
            ["hiit-20", "yoga-flow-30", "5k-run", "core-blast", "mobility-15", "strength-upper"],
        ),
        "queries": ["yoga", "hiit", "core", "beginner run", "stretching", "pilates"],
        "flow": _flow(
            "membership",
            ("membership", "start_trial"),
            [("membership_plans", "plan"), ("membership_checkout", "payment")],
            "start_membership",
            "Start membership",
            "membership_welcome",
            "membership purchase",
            pay=True,
        ),
        "signup": _flow(
            "onboarding",
            ("welcome", "get_started"),
            [("signup", "account"), ("onboarding_goals", "goals"), ("onboarding_body", "body")],
            "finish_onboarding",
            "Let's go",
            "home",
            "onboarding",
        ),
        "otp": False,
        "promo": None,
        "rage": [
            ("button", "sync_now", "devices", "'Sync now' button", None),
            ("button", "start_workout", "workout_detail", "'Start workout' button", "active_workout"),
            ("button", "connect_watch", "devices", "'Connect' button", None),
            ("image", "exercise_demo", "workout_detail", "exercise demo image", None),
            ("toggle", "auto_pause", "settings", "'Auto-pause' switch", None),
        ],
        "special": (
            "device_pairing",
            "devices",
            "pair_device",
            ["pairing_failed", "wrong_pairing_code", "bluetooth_pairing_rejected"],
            "pairing a watch",
            ["pairing_code"],
        ),
        "sys": [
            ("gps", "active_workout", "GPS tracking"),
            ("sync", "devices", "watch sync"),
            ("activity", "activity", "the activity history"),
        ],
        "crash_at": [
            ("active_workout", "finish_workout", "finishing a workout"),
            ("devices", "connect_watch", "connecting the watch"),
        ],
        "loops": [
            (("profile", "settings"), "where to switch miles to kilometres"),
            (("devices", "settings", "profile"), "how to unpair the old watch"),
            (("programs", "workout_detail"), "today's scheduled session"),
        ],
        "help": {
            "en": ["watch not syncing", "cancel membership", "workout not saved", "calories wrong", "change units to km"],
            "es": ["el reloj no sincroniza", "cancelar membresía", "no se guardó el entrenamiento"],
            "de": ["uhr synchronisiert nicht", "mitgliedschaft kündigen", "training nicht gespeichert"],
            "fr": ["montre ne se synchronise pas", "annuler abonnement", "séance pas enregistrée"],
            "pt": ["relógio não sincroniza", "cancelar plano", "treino não salvou"],
        },
        "articles": ["fix-watch-sync", "cancel-membership", "missing-workouts", "units-and-measurements"],
        "stepper": ("workout_detail", "weight", "kg"),
        "carousel": ("programs", "program cards"),
        "toggles": (
            "settings",
            ["workout_reminders", "auto_pause", "voice_coach", "metric_units", "streak_alerts", "health_sync"],
        ),
        "keypad": None,
        "stories": ("home", "coach stories"),
        "video": ("workout_detail", ["wk_hiit20_intro", "wk_yoga30_full", "wk_core_blast"]),
        "map": None,
        "quiz": None,
        "calendar": ("schedule", "date"),
        "swipes": False,
        "chat": None,
        "multi": ("log_set", "workout_detail", "submit", ["set_1", "set_2", "set_3", "set_4", "set_5"], "sets"),
        "locked": ("workout", "active_workout", "a run"),
        "lookalike": "fitness",
    },
    "travel_booking": {
        "brand": "Wayfarer Stays",
        "domain": "www.wayfarerstays.com",
        "ver": {"iOS": "26.44.0", "Android": "26.44.1", "Web": "web-26.44"},
        "paths": {"home": "/", "property": "/stays", "search_results": "/search", "help_article": "/help/articles"},
        "browse": ["home", "search_results", "property", "wishlists", "trips", "account"],
        "items": (
            "search_results",
            "property",
            [
                "casa-alfama-lisbon",
                "hotel-marais-paris",
                "canal-loft-amsterdam",
                "seaside-villa-algarve",
                "old-town-suites-prague",
            ],
        ),
        "queries": ["lisbon", "paris", "amsterdam", "barcelona", "prague", "porto"],
        "flow": _flow(
            "booking",
            ("property", "reserve"),
            [("room_select", "room"), ("guest_details", "guest"), ("booking_payment", "payment")],
            "confirm_booking",
            "Confirm and pay",
            "booking_confirmed",
            "hotel booking",
            pay=True,
        ),
        "signup": _flow(
            "signup",
            ("welcome", "sign_up"),
            [("signup", "email"), ("signup_profile", "name")],
            "create_account",
            "Create account",
            "home",
            "sign-up",
        ),
        "otp": True,
        "promo": ("rewards", "promo_code"),
        "rage": [
            ("button", "confirm_booking", "booking_payment", "'Confirm and pay' button", "booking_confirmed"),
            ("image", "property_photo", "property", "property photo", None),
            ("button", "apply_filters", "search_results", "'Show 214 stays' button", None),
            ("pin", "price_pin", "search_map", "price pin on the map", None),
            ("label", "cancellation_policy", "room_select", "'Free cancellation' text", None),
        ],
        "special": None,
        "sys": [
            ("availability", "search_results", "the availability search"),
            ("trips", "trips", "the trips list"),
            ("reviews", "property", "the reviews"),
        ],
        "crash_at": [("property", "open_gallery", "opening the gallery"), ("search_map", "open_map", "opening the map")],
        "loops": [
            (("trips", "trip_detail"), "how to change the check-in date"),
            (("account", "payment_methods", "trips"), "the invoice for the stay"),
            (("trip_detail", "trips"), "the host's phone number"),
        ],
        "help": {
            "en": ["change dates of booking", "cancel booking free", "host not responding", "invoice for my stay", "refund when"],
            "es": ["cambiar fechas reserva", "cancelar reserva gratis", "factura de la estancia"],
            "de": ["buchung stornieren kostenlos", "datum ändern buchung", "rechnung unterkunft"],
            "fr": ["modifier réservation", "annulation gratuite", "facture séjour"],
            "pt": ["alterar datas da reserva", "reembolso reserva", "anfitrião não responde"],
        },
        "articles": ["change-your-dates", "cancellation-policies", "contact-your-host", "get-an-invoice"],
        "stepper": ("home", "guests", "adults"),
        "carousel": ("property", "property photos"),
        "toggles": ("settings", ["price_alerts", "trip_reminders", "deals_email", "push_messages", "show_prices_with_tax"]),
        "keypad": None,
        "stories": None,
        "video": None,
        "map": ("search_map", "map"),
        "quiz": None,
        "calendar": ("date_picker", "date"),
        "swipes": False,
        "chat": (
            "host_chat",
            "host",
            ["Hi! What time can we check in?", "we land at 14:30", "perfect, thank you!", "is there parking nearby?"],
        ),
        "multi": ("wishlist", "property", "save", ["stay_1", "stay_2", "stay_3", "stay_4"], "stays to a wishlist"),
        "locked": None,
        "lookalike": "travel",
    },
}
for _app in APPS.values():
    _app.setdefault("payflow", _app["flow"] if _app["flow"]["pay"] else None)

DEFAULT_PATHS = {
    "help": "/help",
    "help_article": "/help/articles",
    "contact_support": "/help/contact",
    "support_chat": "/help/chat",
    "reset_password": "/password/reset",
    "otp": "/login/verify",
}


# --------------------------------------------------------------------------------------------------
# A user and the events they send.
# --------------------------------------------------------------------------------------------------


class Ids:
    def __init__(self) -> None:
        self.r = random.Random(SEED ^ 0x5EED)

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.r.getrandbits(128), version=4)

    def event(self, platform: str) -> str:
        v = self.uuid()
        return str(v).upper() if platform == "iOS" else str(v) if platform == "Android" else "evt_" + v.hex[:22]

    def session(self, platform: str) -> str:
        v = self.uuid()
        return str(v).upper() if platform == "iOS" else str(v) if platform == "Android" else "s." + v.hex[:16]


_USER_ID = {
    "food_delivery": lambda r: "fk_" + f"{r.getrandbits(40):010x}",
    "banking": lambda r: f"cust-{r.randint(10_000_000, 99_999_999):08d}",
    "e_learning": lambda r: f"learner_{r.randint(1_000_000, 9_999_999)}",
    "dating": lambda r: str(uuid.UUID(int=r.getrandbits(128), version=4)),
    "ride_hailing": lambda r: "rider:" + f"{r.getrandbits(48):012x}",
    "news": lambda r: "mw-" + f"{r.getrandbits(32):08x}",
    "fitness": lambda r: f"pf_{r.randint(100_000, 999_999)}",
    "travel_booking": lambda r: "wf_" + f"{r.getrandbits(64):016x}",
}


class User:
    def __init__(self, rng: random.Random, ids: Ids, platform: str, kind: str, loc: tuple, taken: set) -> None:
        self.rng, self.ids, self.platform, self.kind, self.app = rng, ids, platform, kind, APPS[kind]
        fw_name, over = BUILDS[(kind, platform)]
        fw = dict(FW[fw_name])
        fw["lc"] = dict(fw["lc"], **{k: v for k, v in over.items() if k in ("bg", "fg", "end", "launch", "start")})
        fw.update({k: v for k, v in over.items() if k in ("tap", "help_events")})
        self.fw, self.fw_name = fw, fw_name
        self.w = WORDS[over.get("words", fw["words"])]
        self.ga4 = over.get("words") == "ga4"
        self.locale, self.tz, self.off, self.lang, _ = loc
        self.web = platform == "Web"
        while True:
            uid = _USER_ID[kind](rng)
            if uid not in taken:
                taken.add(uid)
                break
        self.id = uid
        dev = {"platform": platform, "appVersion": self.app["ver"][platform], "timezone": self.tz, "locale": self.locale}
        if platform == "iOS":
            dev.update(
                deviceModel=rng.choice(["iPhone15,2", "iPhone16,1", "iPhone14,5", "iPhone17,3", "iPhone13,2"]),
                osVersion=rng.choice(["18.6.2", "26.0.1", "26.1"]),
            )
            self.size = (393, 852)
        elif platform == "Android":
            dev.update(
                deviceModel=rng.choice(
                    ["SM-S928B", "Pixel 8", "Pixel 9 Pro", "SM-A546B", "moto g54 5G", "2311DRK48G", "CPH2581"]
                ),
                osVersion=rng.choice(["14", "15", "16"]),
            )
            self.size = (412, 915)
        else:
            browser, osname = rng.choice(
                [
                    ("Chrome 142", "Windows"),
                    ("Chrome 142", "macOS"),
                    ("Safari 26.1", "macOS"),
                    ("Firefox 145", "Windows"),
                    ("Edge 142", "Windows"),
                    ("Safari 26.1", "iOS"),
                    ("Chrome 142", "Android"),
                ]
            )
            dev.update(browser=browser, os=osname)
            self.size = (390, 844) if osname in ("iOS", "Android") else (1440, 900)
        self.device = dev
        self.events: list[dict] = []
        self.t = 0
        self.sid = ""
        self.cur, self.item = "home", None
        self.flow: str | None = None
        self.want: dict = {}
        self.fail_events = zlib.crc32(f"{kind}/{platform}".encode()) % 4 != 0
        self.ended = False

    # time
    def wait(self, lo: float, hi: float) -> None:
        self.t += int(self.rng.uniform(lo, hi) * SEC)

    def ms(self, lo: int, hi: int) -> None:
        self.t += self.rng.randint(lo, hi)

    # naming
    def sname(self, key: str | None, item: str | None = None) -> str | None:
        if key is None:
            return None
        if self.web:
            path = self.app["paths"].get(key) or DEFAULT_PATHS.get(key) or ("/" + key.replace("_", "-"))
            return path.rstrip("/") + "/" + item if item else path
        return self.fw["screen"](key)

    def here(self) -> str | None:
        return self.sname(self.cur, self.item if self.web else None)

    def tname(self, target: str, kind: str) -> str:
        return self.fw["target"](target, kind)

    def tt(self, kind: str) -> str:
        return self.fw["tt"].get(kind, kind)

    def xy(self, target: str) -> tuple[float, float]:
        w, h = self.size
        c = zlib.crc32(f"{self.kind}/{target}".encode())
        return float(16 + c % (w - 32)), float(90 + (c >> 11) % (h - 180))

    def jit(self, xy: tuple[float, float], r: float = 6) -> tuple[float, float]:
        return round(xy[0] + self.rng.uniform(-r, r), 1), round(xy[1] + self.rng.uniform(-r, r), 1)

    # events
    def ev(self, etype: str, **data) -> dict:
        if self.events and self.t <= self.events[-1]["timestamp"]:
            self.t = self.events[-1]["timestamp"] + self.rng.randint(1, 40)
        e = {
            "eventId": self.ids.event(self.platform),
            "eventType": etype,
            "userId": self.id,
            "sessionId": self.sid,
            "timestamp": self.t,
            "eventData": {k: v for k, v in data.items() if v is not None},
            "deviceInfo": self.device,
            "userContext": CONSENT,
        }
        self.events.append(e)
        return e

    def screen(self, key: str, item: str | None = None, feature: str | None = None, **extra) -> None:
        self.cur, self.item = key, item
        if self.web:
            path = self.sname(key, item)
            title = (
                f"{camel(key).replace('Home', self.app['brand'])} | {self.app['brand']}" if key != "home" else self.app["brand"]
            )
            self.ev("page_view", screen=path, feature=feature, title=title, url=f"https://{self.app['domain']}{path}", **extra)
        else:
            self.ev("screen_view", screen=self.sname(key), feature=feature, itemId=item, **extra)

    def feat(self, feature: str | None = None) -> str | None:
        return feature or self.flow or (self.cur if self.fw["feat_taps"] else None)

    def press(self, kind: str, target: str, feature: str | None = None, at=None, action: str | None = None, **extra) -> None:
        x, y = at or self.jit(self.xy(target), 3)
        self.ev(
            "feature_interaction",
            feature=self.feat(feature),
            action=action or self.fw["tap"],
            screen=self.sname(self.cur, self.item if self.web else None),
            target=self.tname(target, kind),
            targetType=self.tt(kind),
            x=x,
            y=y,
            **extra,
        )

    def fi(self, word: str, feature: str | None = None, **extra) -> None:
        self.ev(
            "feature_interaction",
            feature=feature or self.flow or self.cur,
            action=self.w.get(word, word),
            screen=self.sname(self.cur, self.item if self.web else None),
            **extra,
        )

    def typ(self, field: str, feature: str | None = None) -> None:
        self.ev(
            "feature_interaction",
            feature=feature or self.flow or self.cur,
            action=self.w["type"],
            screen=self.here(),
            target=self.tname(field, "text_field"),
            targetType=self.tt("text_field"),
        )
        self.ms(400, 2500)

    def err(self, etype: str, feature: str | None = None, **extra) -> None:
        self.ev("error", feature=feature or self.flow or self.cur, screen=self.here(), errorType=etype, **extra)

    def search(self, query: str, feature: str = "search", **extra) -> None:
        self.ev("search", feature=feature, screen=self.here(), query=query, **extra)
        self.ms(1500, 6000)

    def life(self, which: str, **extra) -> None:
        word = self.fw["lc"][which]
        if word == "visibilitychange":
            extra["visibilityState"] = "visible" if which in ("fg", "launch", "start") else "hidden"
        self.ev("app_lifecycle", action=word, screen=self.here(), **extra)

    def helpev(self, action: str, feature: str = "help_center", **extra) -> None:
        if self.fw["help_events"]:
            self.ev("help_request", feature=feature, action=action, screen=self.here(), **extra)

    def video(self, word: str, vid: str, **extra) -> None:
        self.ev(
            "video_engagement", feature="video_player", action=self.w.get(word, word), screen=self.here(), videoId=vid, **extra
        )

    # sessions
    def open(self, cold: bool | None = None) -> None:
        self.sid, self.flow, self.ended = self.ids.session(self.platform), None, False
        self.cur, self.item = None, None
        if self.web:
            if self.fw_name == "web_react":
                self.ev(
                    "app_lifecycle",
                    action="session_start",
                    referrer=self.rng.choice(
                        ["https://www.google.com/", "", "android-app://com.google.android.gm/", "https://t.co/"]
                    ),
                )
            return
        cold = self.rng.random() < 0.6 if cold is None else cold
        self.life("launch" if cold else "fg")
        if cold and self.rng.random() < 0.5:
            self.ms(20, 200)
            self.life("start")

    def close(self) -> None:
        if self.web:
            r = self.rng.random()
            if r < 0.45:
                self.life("end")
            elif r < 0.75:
                self.life("bg")
        else:
            self.life("bg")
        self.ended = True

    def nav(self, key: str, item: str | None = None, via: str = "tab", feature: str | None = None) -> None:
        """Move to a screen the way a person does: a tab/row/link press, then the screen."""
        if via == "tab":
            self.press("tab", f"tab_{key}")
        elif via == "row":
            self.press("list_item", f"{key}_row", itemId=item)
        elif via == "back":
            if self.platform == "Android" and self.rng.random() < 0.5:
                self.fi("back", feature=self.cur)
            else:
                self.press("icon", "back")
        elif via == "link":
            self.press("link", f"{key}_link")
        elif via == "card":
            self.press("card", f"{key}_{item or 'card'}")
        self.ms(250, 1200)
        self.screen(key, item=item, feature=feature)


# --------------------------------------------------------------------------------------------------
# Ordinary use and flows.
# --------------------------------------------------------------------------------------------------


def ordinary(u: User, n: int, avoid: tuple = ()) -> None:
    """Unremarkable browsing: distinct screens, human dwell times, a few spaced presses."""
    app, r = u.app, u.rng
    lst, detail, items = app["items"]
    pool = [k for k in app["browse"] if k not in avoid]
    for k in r.sample(pool, min(n, len(pool))):
        if k == detail:
            if u.cur != lst:
                u.nav(lst)
                u.wait(4, 14)
            item = r.choice(items)
            u.nav(detail, item=item, via="row")
        else:
            u.nav(k, via="tab" if r.random() < 0.8 else "link")
        u.wait(3, 12)
        if k == lst and app["queries"] and r.random() < 0.6:
            u.search(r.choice(app["queries"]), resultCount=r.randint(3, 60))
            u.wait(4, 15)
        if r.random() < 0.5:
            u.fi("scroll", depth=r.choice([25, 50, 75, 100]))
            u.wait(5, 25)
        if app["video"] and k == app["video"][0] and r.random() < 0.35:
            vid = r.choice(app["video"][1])
            u.video("play", vid, duration=r.randint(180, 900) * 1.0)
            u.wait(40, 140)
            u.video("progress", vid, completionRate=0.25, progress=25.0)
            u.wait(30, 90)
            u.video("pause", vid, completionRate=round(r.uniform(0.3, 0.6), 2))
        u.wait(6, 50)


def fields_for(step: str) -> list[str]:
    return FIELDS.get(step, [])


def step_word(u: User, flow: dict, i: int, step: str) -> str:
    if i == 0:
        if u.ga4:
            return "begin_checkout" if flow["pay"] else "signup_start"
        return "start"
    if u.ga4 and flow["pay"]:
        return {"address": "add_shipping_info", "payment": "add_payment_info", "guest": "add_shipping_info"}.get(step, "step")
    return "step"


def auto_via(u: User, key: str) -> str:
    return "tab" if key in u.app["browse"] and u.rng.random() < 0.8 else "link"


def enter_flow(u: User, flow: dict) -> None:
    scr, target = flow["entry"]
    if scr == "welcome" and u.cur != "welcome":
        u.screen("welcome")  # signed out: the app opens on its welcome screen
        u.wait(2, 8)
    elif u.cur != scr:
        item = u.rng.choice(u.app["items"][2]) if scr == u.app["items"][1] else None
        u.nav(scr, item=item, via="row" if item else auto_via(u, scr))
        u.wait(4, 20)
    u.press("button", target)
    u.ms(300, 1500)


def walk(u: User, flow: dict, start: int = 0, upto: int | None = None, dwell=(4, 25), fill: bool = True) -> None:
    """Steps [start, upto) of a flow: each step's screen, its start/step event, the fields a person fills."""
    steps = flow["steps"]
    upto = len(steps) if upto is None else upto
    u.flow = flow["feature"]
    for i in range(start, upto):
        scr, step = steps[i]
        if i > 0:
            u.press("button", "continue")
            u.ms(250, 1100)
        u.screen(scr, feature=flow["feature"])
        u.ms(200, 900)
        u.fi(step_word(u, flow, i, step), step=step, stepIndex=i + 1)
        for f in fields_for(step) if fill else []:
            u.wait(2, 9)
            u.typ(f)
        if not fields_for(step) and step != "review":
            u.wait(2, 8)
            u.press("radio" if u.rng.random() < 0.5 else "list_item", f"{step}_option_{u.rng.randint(1, 3)}", selected=True)
        u.wait(*dwell)


def submit(u: User, flow: dict, attempt: int | None = 1, target: str | None = None) -> None:
    u.press("button", target or flow["submit"])
    u.ms(40, 220)
    u.fi("submit", attemptCount=attempt)


def complete(u: User, flow: dict, **extra) -> None:
    u.ms(700, 3500)
    u.fi("purchase" if u.ga4 and flow["pay"] else ("sign_up" if u.ga4 and flow is u.app["signup"] else "complete"), **extra)
    u.flow = None
    u.ms(150, 700)
    u.screen(flow["done"])


def full_flow(u: User, flow: dict, dwell=(4, 25)) -> None:
    enter_flow(u, flow)
    walk(u, flow, dwell=dwell)
    u.wait(3, 15)
    submit(u, flow, attempt=1 if u.rng.random() < 0.6 else None)
    complete(u, flow)


def find_flow(u: User, screen: str):
    for flow in (u.app["flow"], u.app["signup"], u.app["payflow"]):
        if flow:
            for i, (scr, _) in enumerate(flow["steps"]):
                if scr == screen:
                    return flow, i
    return None, None


def goto(u: User, screen: str) -> tuple[dict | None, int | None]:
    """Bring the user to a screen: through its flow when it is a flow step, else by navigation."""
    flow, i = find_flow(u, screen)
    if flow:
        enter_flow(u, flow)
        walk(u, flow, 0, i + 1)
        return flow, i
    lst, detail, items = u.app["items"]
    if screen == detail or screen in ("dish", "order_detail", "trip_detail", "transaction_detail"):
        parent = {
            "dish": "restaurant",
            "order_detail": "orders",
            "trip_detail": "trips",
            "transaction_detail": "transactions",
            detail: lst,
        }[screen]
        if u.cur != parent:
            u.nav(parent, item=u.rng.choice(items) if parent == detail else None)
            u.wait(3, 12)
        u.nav(screen, item=u.rng.choice(items) if screen == detail else f"{screen[:3]}-{u.rng.randint(1000, 9999)}", via="row")
    else:
        u.nav(screen, via=auto_via(u, screen))
    return None, None


# --------------------------------------------------------------------------------------------------
# Episodes. Each writes one story into the user's stream and returns its one-sentence note.
# --------------------------------------------------------------------------------------------------

TEMPOS = [(110, 330), (160, 460), (250, 650), (350, 900)]
OTP_ERRORS = ["otp_invalid", "INVALID_OTP", "invalid_code", "wrong_verification_code", "OTP_MISMATCH", "code_incorrect"]
CARD_ERRORS = ["card_declined", "payment_declined", "do_not_honor", "insufficient_funds", "PAYMENT_FAILED", "generic_decline"]
FORM_ERRORS = {
    "password": ["password_requirements_not_met", "validation_error", "PASSWORD_TOO_WEAK"],
    "email": ["invalid_email", "VALIDATION_FAILED", "email_format"],
    "phone_number": ["invalid_phone_number", "phone_invalid", "validation_error"],
    "date_of_birth": ["invalid_date", "VALIDATION_FAILED"],
    "birthday": ["invalid_date", "validation_error"],
    "first_name": ["field_required", "invalid_characters"],
    "full_name": ["field_required", "validation_error"],
}
LOGIN_ERRORS = ["invalid_credentials", "wrong_password", "INVALID_LOGIN_CREDENTIALS", "auth/wrong-password", "login_failed"]
PROMO_ERRORS = ["promo_invalid", "coupon_expired", "code_not_applicable", "PROMO_NOT_FOUND", "invalid_coupon"]


def secs(u: User, t0: int) -> float:
    return (u.t - t0) / SEC


def val_key(u: User) -> str:
    return "checked" if u.web else "isOn"


def burst(u: User, kind: str, target: str, n: int, tempo: tuple, **extra) -> None:
    base = u.xy(target)
    for i in range(n):
        u.press(kind, target, at=u.jit(base, 4 if u.web else 8), **extra)
        if i < n - 1:
            u.ms(*tempo)


def finish(u: User, flow: dict | None, i: int | None, target: str) -> str:
    """After a stall on a flow screen the person goes on and completes the flow."""
    if not flow:
        return ""
    if target != flow["submit"]:
        walk(u, flow, i + 1)
        u.wait(3, 12)
        submit(u, flow)
    else:
        u.press("button", target)
        u.ms(60, 200)
        u.fi("submit", attemptCount=None)
    complete(u, flow)
    return f" and finally completes the {flow['noun']}"


def crash(u: User) -> str:
    kind, word, fatal = u.rng.choice(u.fw["crash"])
    if kind == "lifecycle":
        u.ev("app_lifecycle", action=word, screen=u.sname(u.cur))
        return word
    extra = {"fatal": fatal} if fatal else {}
    msg = {
        "EXC_BAD_ACCESS": "KERN_INVALID_ADDRESS at 0x0000000000000010",
        "SIGABRT": "*** -[__NSArrayM objectAtIndex:]: index 3 beyond bounds",
        "fatal_exception": "java.lang.IllegalStateException: Fragment not attached to a context.",
        "anr": "Input dispatching timed out (Waiting to send non-key event)",
        "fatal_js_exception": "TypeError: undefined is not an object (evaluating 'item.price.amount')",
        "FlutterError": "Null check operator used on a null value",
        "white_screen": "Root element rendered empty",
        "ChunkLoadError": "Loading chunk 412 failed.",
        "TypeError": "Cannot read properties of undefined (reading 'items')",
    }
    u.err(word, message=msg.get(word), **extra)
    return word


def relaunch(u: User, back_to: str | None = None) -> None:
    if u.web:
        u.screen(u.cur, item=getattr(u, "item", None), navigationType="reload")
    else:
        u.open(cold=True)
        u.ms(600, 2500)
        u.screen("home")


# ---- rage_tap -----------------------------------------------------------------------------------


def _rage(u: User, kinds: tuple, n_range: tuple, result: bool = False, value=None) -> str:
    entries = [e for e in u.app["rage"] if e[0] in kinds and (e[4] or not result)]
    kind, target, scr, text, res = u.rng.choice(entries)
    flow, i = goto(u, scr)
    u.wait(3, 14)
    extra = {val_key(u): value} if value is not None else {}
    t0 = u.t
    u.press(kind, target, **extra)
    u.ms(900, 2600)
    n = u.rng.randint(*n_range)
    burst(u, kind, target, n, u.rng.choice(TEMPOS[:2] if result else TEMPOS), **extra)
    dur = secs(u, t0)
    if result:
        u.ms(500, 3000)
        if flow:
            tail = finish(u, flow, i, target)
        else:
            u.screen(res)
            tail = f" before the {words(res)} screen finally loads"
        return f"Presses the {text} on the {words(scr)} screen {n + 1} times in {dur:.0f} s while it hangs{tail}."
    if flow:
        u.wait(3, 9)
        tail = finish(u, flow, i, target)
    else:
        end = u.rng.random()
        u.wait(2, 8)
        if end < 0.5:
            u.nav(u.rng.choice([k for k in u.app["browse"] if k != scr and k != u.app["items"][1]]), via="back")
            tail = " and then backs out"
        else:
            u.fi("scroll", depth=50)
            tail = " and then scrolls on, giving up on it"
    return f"Taps the {text} on the {words(scr)} screen {n + 1} times in {dur:.0f} s with no response{tail}."


def p_rage_dead_button(u):
    return _rage(u, ("button",), (5, 11))


def p_rage_image(u):
    return _rage(u, ("image",), (4, 9))


def p_rage_pin(u):
    return _rage(u, ("pin",), (5, 10))


def p_rage_label(u):
    return _rage(u, ("label",), (4, 8))


def p_rage_slow(u):
    return _rage(u, ("button",), (6, 13), result=True)


def p_rage_toggle(u):
    return _rage(u, ("toggle",), (5, 8), value=False).replace("with no response", "but it never flips")


# ---- repeated_attempts --------------------------------------------------------------------------


def _fail(u: User, etype: str, feature: str | None = None, **extra) -> None:
    u.ms(350, 2200)
    if u.fail_events:
        u.err(etype, feature=feature, **extra)
    else:
        u.fi("fail", feature=feature, reason=etype, **extra)


def to_login(u: User, feat: str = "login") -> None:
    """Signed out (new phone, expired session): the welcome screen, then 'Log in'."""
    if u.cur != "welcome":
        u.screen("welcome")
    u.wait(2, 8)
    u.press("button", "log_in")
    u.ms(300, 1200)
    u.screen("login", feature=feat)


def signed_out_exit(u: User) -> None:
    """Still signed out, nothing else to do: the person puts the phone away (part of the story)."""
    u.wait(20, 60)
    u.close()


def p_att_otp(u):
    feat = u.rng.choice(["login", "phone_verification", "2fa"])
    to_login(u, feat)
    u.flow = feat
    u.wait(3, 8)
    u.fi("start", step="phone")
    u.typ("phone_number")
    u.wait(1, 4)
    u.press("button", "send_code")
    u.ms(600, 2500)
    u.screen("otp", feature=feat)
    n = u.rng.randint(3, 5)
    etype, show = u.rng.choice(OTP_ERRORS), u.rng.random() < 0.6
    resent = False
    for k in range(1, n + 1):
        u.wait(6, 28)
        u.typ("otp_code")
        u.ms(300, 1500)
        u.press("button", "verify")
        u.ms(40, 200)
        u.fi("submit", attemptCount=k if show else None)
        _fail(u, etype, attemptsRemaining=max(0, 5 - k) if show else None)
        if k == 2 and u.rng.random() < 0.5:
            u.wait(15, 40)
            u.press("link", "resend_code")
            resent = True
    if u.rng.random() < 0.5:
        u.wait(10, 30)
        u.typ("otp_code")
        u.press("button", "verify")
        u.ms(40, 200)
        u.fi("submit", attemptCount=n + 1 if show else None)
        u.ms(500, 1500)
        u.fi("complete")
        u.flow = None
        u.screen("home")
        tail = "until the code is finally accepted"
    else:
        u.ms(400, 1500)
        u.err("too_many_attempts", retryAfterSeconds=900)
        u.wait(4, 12)
        u.flow = None
        u.nav("welcome", via="back")
        signed_out_exit(u)
        tail = "and is locked out for 15 minutes"
    return f"Enters the SMS code {n} times{' (asking for a new one midway)' if resent else ''}, each rejected as {etype}, {tail}."


def p_att_card(u):
    flow = u.app["payflow"]
    enter_flow(u, flow)
    walk(u, flow)
    n = u.rng.randint(3, 4)
    etype, show = u.rng.choice(CARD_ERRORS), u.rng.random() < 0.5
    for k in range(1, n + 1):
        u.wait(3, 12) if k == 1 else u.wait(8, 35)
        if k > 1:
            for f in ["card_number", "expiry_date", "cvc"] if u.rng.random() < 0.6 else ["cvc"]:
                u.typ(f)
                u.wait(2, 7)
        submit(u, flow, attempt=k if show else None)
        _fail(u, etype, declineCode=etype if u.rng.random() < 0.3 else None)
    u.wait(8, 30)
    if u.rng.random() < 0.6:
        alt = u.rng.choice(["apple_pay", "paypal", "google_pay"] if u.platform != "iOS" else ["apple_pay", "paypal"])
        u.press("button", alt)
        u.wait(6, 20)
        u.fi("submit", attemptCount=n + 1 if show else None, paymentMethod=alt)
        complete(u, flow)
        tail = f"then pays with {words(alt)}"
    else:
        u.press("icon", "close")
        u.ms(100, 400)
        u.fi("cancel", reason="payment_failed")
        u.flow = None
        u.nav("home")
        tail = "then gives up on paying"
    return f"Tries {n} times to get a card accepted in the {flow['noun']}, declined each time ({etype}); {tail}."


def p_att_form(u):
    flow = u.app["signup"]
    enter_flow(u, flow)
    scr, step = flow["steps"][0]
    u.flow = flow["feature"]
    u.screen(scr, feature=flow["feature"])
    u.fi(step_word(u, flow, 0, step), step=step, stepIndex=1)
    for f in fields_for(step) or ["email"]:
        u.wait(3, 10)
        u.typ(f)
    field = u.rng.choice([f for f in fields_for(step) if f in FORM_ERRORS] or ["email"])
    etype = u.rng.choice(FORM_ERRORS[field])
    n, show = u.rng.randint(3, 5), u.rng.random() < 0.5
    for k in range(1, n + 1):
        if k > 1:
            u.wait(5, 25)
            u.typ(field)
        u.wait(1, 4)
        u.press("button", "continue")
        u.ms(40, 200)
        u.fi("submit", attemptCount=k if show else None, step=step)
        _fail(u, etype, field=field)
    if u.rng.random() < 0.6:
        u.wait(10, 40)
        u.typ(field)
        walk(u, flow, 1)
        submit(u, flow)
        complete(u, flow)
        tail = "before a version is accepted and the sign-up completes"
    else:
        u.wait(5, 15)
        u.press("icon", "close")
        u.fi("cancel")
        u.flow = None
        u.nav("welcome", via=None)
        signed_out_exit(u)
        tail = "and closes the form, then the app"
    return f"Submits the {flow['noun']} form {n} times and is rejected each time on the {words(field)} field ({etype}) {tail}."


def p_att_login(u):
    to_login(u)
    u.flow = "login"
    u.fi("start")
    u.wait(3, 9)
    u.typ("email")
    etype, n, show = u.rng.choice(LOGIN_ERRORS), u.rng.randint(3, 5), u.rng.random() < 0.5
    for k in range(1, n + 1):
        u.wait(4, 18)
        u.typ("password")
        u.press("button", "log_in")
        u.ms(40, 200)
        u.fi("submit", attemptCount=k if show else None)
        _fail(u, etype)
    end = u.rng.random()
    if end < 0.35:
        u.wait(8, 25)
        u.typ("password")
        u.press("button", "log_in")
        u.fi("submit", attemptCount=n + 1 if show else None)
        u.ms(600, 1500)
        u.fi("complete")
        u.flow = None
        u.screen("home")
        tail = "then gets in"
    elif end < 0.7:
        u.ms(300, 900)
        u.err("account_locked")
        u.flow = None
        signed_out_exit(u)
        tail = "and the account gets locked"
    else:
        u.wait(4, 12)
        u.press("link", "forgot_password")
        u.flow = None
        u.screen("reset_password")
        u.wait(10, 30)
        u.typ("email", feature="reset_password")
        u.press("button", "send_reset_link", feature="reset_password")
        signed_out_exit(u)
        tail = "then asks for a reset e-mail"
    return f"Logs in {n} times with a wrong password ({etype}) {tail}."


def p_att_promo(u):
    scr, feat = u.app["promo"]
    goto(u, scr)
    base = u.rng.choice(["WELCOME10", "FALL25", "NOV15OFF", "FRIEND20", "BLACKFRI"])
    variants = [base, base.lower(), base[:-2] + "-" + base[-2:], base + " ", base.replace("0", "O")]
    n, etype = u.rng.randint(3, 5), u.rng.choice(PROMO_ERRORS)
    for k in range(n):
        u.wait(4, 20)
        u.typ("promo_code", feature=feat)
        u.press("button", "apply_code", feature=feat)
        u.ms(40, 200)
        u.fi("submit", feature=feat, code=variants[k % len(variants)], attemptCount=k + 1 if u.rng.random() < 0.3 else None)
        _fail(u, etype, feature=feat)
    u.wait(5, 20)
    u.nav("home", via="back")
    return f"Types the promo code {base} {n} different ways; each is refused ({etype}) and the user leaves the screen."


def p_att_special(u):
    feat, scr, target, errs, noun, flds = u.app["special"]
    goto(u, scr)
    u.flow = feat
    u.fi("start")
    n, etype = u.rng.randint(3, 5), u.rng.choice(errs)
    for k in range(1, n + 1):
        u.wait(6, 30)
        for f in flds:
            u.typ(f)
            u.wait(1, 5)
        u.press("button", target)
        u.ms(40, 200)
        u.fi("submit", attemptCount=k if u.rng.random() < 0.5 else None)
        _fail(u, etype)
    if u.rng.random() < 0.5:
        u.wait(10, 40)
        for f in flds:
            u.typ(f)
        u.press("button", target)
        u.fi("submit")
        u.ms(800, 3000)
        u.fi("complete")
        tail = "succeeds only on the next try"
    else:
        u.wait(5, 15)
        u.fi("cancel")
        tail = "gives up"
    u.flow = None
    return f"Fails {noun} {n} times in a row ({etype}) and {tail}."


# ---- error_pattern ------------------------------------------------------------------------------


def p_err_crash(u, times=1):
    scr, target, doing = u.rng.choice(u.app["crash_at"])
    goto(u, scr)
    words_ = []
    for k in range(times):
        u.wait(4, 20)
        u.press("button", target)
        u.ms(150, 2500)
        words_.append(crash(u))
        u.wait(4, 40)
        relaunch(u)
        if u.web:
            continue
        if k < times - 1 or u.rng.random() < 0.6:
            u.wait(5, 20)
            goto(u, scr)
    again = "reloads the page" if u.web else "relaunches the app"
    if times == 1:
        return f"The app crashes ({words_[0]}) while {doing}; the user {again} and tries again."
    return f"The app crashes {times} times ({', '.join(words_)}) while {doing}; the user {again} each time."


def p_err_crash_loop(u):
    return p_err_crash(u, times=u.rng.randint(2, 3))


def _sys_error(u: User) -> str:
    return u.rng.choice([u.fw["timeout"], u.fw["server"], u.fw["server"], "service_unavailable", "connection_reset"])


def p_err_repeated(u):
    feat, scr, noun = u.rng.choice(u.app["sys"])
    goto(u, scr)
    u.ms(600, 4000)
    n = u.rng.randint(3, 5)
    first = _sys_error(u)
    u.err(first, feature=feat, statusCode=503 if "503" in first else None)
    for _ in range(n - 1):
        u.wait(3, 15)
        if u.rng.random() < 0.5:
            u.press("button", "try_again", feature=feat)
        else:
            u.fi("refresh", feature=feat)
        u.ms(900, 7000)
        u.err(first if u.rng.random() < 0.7 else _sys_error(u), feature=feat)
    u.wait(4, 15)
    if u.rng.random() < 0.4:
        u.fi("refresh", feature=feat)
        u.ms(800, 3000)
        u.fi("load", feature=feat)
        tail = "before it finally loads"
    else:
        u.nav("home", via="back")
        tail = "and then leaves the screen"
    return f"{noun[0].upper() + noun[1:]} fails to load {n} times in a row ({first}) as the user retries, {tail}."


def p_err_exit(u):
    feat, scr, noun = u.rng.choice(u.app["sys"])
    goto(u, scr)
    u.wait(3, 20)
    u.press("button", u.rng.choice(["refresh", "open", "continue"]), feature=feat)
    u.ms(500, 4000)
    etype = u.rng.choice([_sys_error(u), "something_went_wrong", "unexpected_error"])
    u.err(etype, feature=feat, message="Something went wrong. Please try again later.")
    u.wait(2, 9)
    if u.web:
        u.life(u.rng.choice(["end", "bg"]))
    else:
        u.life(u.rng.choice(["bg", "bg", "end"]))
    u.ended = True
    return f"{noun[0].upper() + noun[1:]} errors ({etype}) and the user leaves the app within seconds."


def p_err_crash_web(u):
    return p_err_crash(u, times=u.rng.randint(1, 2))


# ---- abandonment --------------------------------------------------------------------------------


def _abandon(u: User, how: str) -> str:
    flow = u.want["flow"]
    enter_flow(u, flow)
    k = u.rng.randint(1, len(flow["steps"]))
    walk(u, flow, 0, k, dwell=(5, 35))
    step = flow["steps"][k - 1][1]
    u.wait(8, 70)
    if u.rng.random() < 0.4:
        u.fi("scroll", depth=100)
        u.wait(4, 30)
    if how == "bg":
        u.life("bg")
        left = "sends the app to the background"
    elif how == "end":
        u.life("end")
        left = "closes the app" if not u.web else "closes the tab"
    elif how == "tab":
        u.life(u.rng.choice(["end", "bg"]))
        left = "closes the tab"
    else:
        left = "leaves the site"
    u.ended = True
    return f"Starts {an(flow['noun'])}, reaches the {words(step)} step, hesitates and {left}; never comes back to it."


def p_ab_background(u):
    return _abandon(u, "bg")


def p_ab_closed(u):
    return _abandon(u, "end")


def p_ab_tab(u):
    return _abandon(u, "tab")


def p_ab_silent(u):
    return _abandon(u, "silent")


def p_ab_quiz(u):
    feat, scr = u.app["quiz"]
    u.nav(scr, via="tab")
    u.flow = feat
    u.wait(3, 10)
    u.press("button", "start_quiz")
    u.fi("start", questions=10)
    answered = u.rng.randint(3, 6)
    for q in range(1, answered + 1):
        u.wait(8, 35)
        u.press("radio", f"option_{'abcd'[u.rng.randint(0, 3)]}", question=q, selected=True)
        u.wait(1, 4)
        u.press("button", "next_question", question=q)
    u.wait(15, 60)
    if u.web:
        u.life("end") if u.rng.random() < 0.6 else None
    else:
        u.life("bg")
    u.ended = True
    return f"Starts a 10-question quiz, answers {answered} questions, stalls on the next one and leaves the app."


# ---- screen_loop --------------------------------------------------------------------------------


def _loop(u: User, shape: str) -> str:
    loops = [lp for lp in u.app["loops"] if (len(lp[0]) == 2) == (shape == "two")]
    screens, goal = u.rng.choice(loops or u.app["loops"])
    if shape == "two":
        seq = list(screens) * u.rng.randint(3, 4)
    elif shape == "three":
        seq = list(screens) * u.rng.randint(2, 3) + [screens[0]]
    else:  # hub and spokes
        a, b, c = screens if len(screens) == 3 else (screens[0], screens[1], screens[1])
        seq = [a, b, a, c, a, b, a, c][: u.rng.randint(7, 8)]
    t0 = u.t
    goto(u, seq[0])
    seen = {seq[0]: u.item}  # the same order / trip / course each time round
    prev = seq[0]
    for s in seq[1:]:
        u.wait(2, 10)
        if u.rng.random() < 0.35:
            u.fi("scroll", depth=u.rng.choice([50, 100]))
            u.wait(1, 5)
        via = "back" if (s == seq[0] and u.rng.random() < 0.6) else ("row" if u.rng.random() < 0.5 else auto_via(u, s))
        if s not in seen and s in DETAIL_SCREENS:
            seen[s] = f"{s[:3]}-{u.rng.randint(1000, 9999)}"
        u.nav(s, item=seen.get(s), via=via)
        prev = s
    u.wait(3, 9)
    u.nav("home" if prev != "home" else u.app["browse"][1], via="tab")
    names = " / ".join(words(s) for s in screens)
    return f"Circles between {names} ({len(seq)} screen views in {secs(u, t0):.0f} s) looking for {goal}, then gives up."


def p_loop_two(u):
    return _loop(u, "two")


def p_loop_three(u):
    return _loop(u, "three")


def p_loop_hub(u):
    return _loop(u, "hub")


# ---- help_seeking -------------------------------------------------------------------------------


def _help_query(u: User) -> str:
    qs = u.app["help"]
    return u.rng.choice(qs.get(u.lang, qs["en"]))


ACCOUNT_SCREEN = {"banking": "profile", "e_learning": "profile", "fitness": "profile", "dating": "settings"}


def _to_help(u: User) -> None:
    u.nav(ACCOUNT_SCREEN.get(u.kind, "account"), via="tab")
    u.wait(2, 8)
    u.press("list_item", "help_center")
    u.ms(300, 1200)
    u.screen("help")
    u.helpev(u.rng.choice(["view", "open", "opened"]))


def p_help_center(u):
    _to_help(u)
    if u.rng.random() < 0.5:
        u.wait(3, 10)
        q = _help_query(u)
        u.search(q, feature="help_center", resultCount=u.rng.randint(2, 9))
        u.helpev("search", query=q)
    arts = u.rng.sample(u.app["articles"], u.rng.randint(1, 3))
    for a in arts:
        u.wait(4, 15)
        u.press("list_item", "article_row", itemId=a)
        u.ms(300, 1200)
        u.screen("help_article", item=a)
        u.helpev("view", articleId=a)
        u.wait(15, 70)
        if u.rng.random() < 0.4:
            u.press("button", "article_feedback_no", helpful=False)
            u.ms(500, 2000)
        u.nav("help", via="back")
    return f"Opens the help centre and reads {len(arts)} article(s) ({', '.join(arts)})."


def p_help_search_main(u):
    return p_help_search(u, main=True)


def p_help_search(u, main=False):
    q = _help_query(u)
    if main:
        u.nav(u.app["items"][0], via="tab")
        u.wait(2, 6)
        u.search(q, resultCount=0)
        u.wait(4, 12)
        where = "the app's main search box"
        _to_help(u)
    else:
        _to_help(u)
        where = "the help centre"
    u.wait(2, 8)
    u.search(q, feature="help_center", resultCount=u.rng.randint(1, 8))
    u.helpev("search", query=q)
    u.wait(3, 10)
    a = u.rng.choice(u.app["articles"])
    u.nav("help_article", item=a, via="row")
    u.wait(20, 80)
    return f"Types “{q}” into {where} and reads the help article it finds."


def p_help_chat(u):
    _to_help(u)
    u.wait(5, 20)
    u.press("button", "chat_with_us")
    u.ms(300, 1000)
    u.screen("support_chat")
    u.helpev(u.rng.choice(["open_chat", "livechat", "chat"]), feature="support_chat")
    msgs = u.rng.randint(2, 4)
    for _ in range(msgs):
        u.wait(15, 60)
        u.typ("message", feature="support_chat")
        u.press("button", "send", feature="support_chat")
    u.wait(30, 120)
    return f"Opens the help centre and starts a chat with support, sending {msgs} messages."


def p_help_contact(u):
    _to_help(u)
    u.wait(5, 25)
    u.press("button", "contact_us")
    u.ms(300, 1000)
    u.screen("contact_support")
    u.helpev(u.rng.choice(["contact_support", "contactUs", "callSupport"]), feature="contact_support")
    u.wait(5, 15)
    u.press("list_item", "topic_row", topic=u.rng.choice(["payment", "account", "order", "technical"]))
    u.wait(20, 90)
    u.typ("message", feature="contact_support")
    u.press("button", "send", feature="contact_support")
    u.ms(600, 2000)
    u.fi("complete", feature="contact_support", ticket=f"T-{u.rng.randint(100000, 999999)}")
    return "Goes to Help, then 'Contact us', picks a topic and sends a message to support."


# ---- hard negatives: presses made fast on purpose -----------------------------------------------


def hn_stepper(u):
    scr, target, unit = u.app["stepper"]
    goto(u, scr)
    u.wait(3, 12)
    n, tempo = u.rng.randint(4, 9), u.rng.choice(TEMPOS[:3])
    step, q = (2.5, 20.0) if unit == "kg" else (1, 1)
    key = "quantity" if u.kind == "food_delivery" else "value"
    base = u.xy(f"increase_{target}")
    for _ in range(n):
        q += step
        u.press("stepper", f"increase_{target}", at=u.jit(base, 4 if u.web else 8), **{key: q})
        u.ms(*tempo)
    over = u.rng.random() < 0.4
    if over:
        u.ms(300, 900)
        q -= step
        u.press("stepper", f"decrease_{target}", **{key: q})
    u.wait(1, 5)
    if u.kind == "food_delivery":
        u.press("button", "add_to_cart")
        u.fi("add_to_cart", quantity=q, itemId=u.rng.choice(["margherita", "pad-see-ew", "chicken-burrito", "tonkotsu"]))
    elif u.kind == "travel_booking":
        u.press("button", "search")
        u.ms(500, 2000)
        u.screen("search_results")
    else:
        u.press("button", "save_weight")
        u.fi("save", value=q)
    return f"Taps + on the {words(target)} stepper {n} times in a quick run to set {q:g} {unit}{' (one tap back)' if over else ''}; every tap changed the value."


def hn_toggles(u):
    scr, names = u.app["toggles"]
    u.nav(ACCOUNT_SCREEN.get(u.kind, "account"), via="tab")
    u.wait(2, 6)
    u.nav(scr, via="row")
    u.wait(2, 8)
    picks = u.rng.sample(names, min(len(names), u.rng.randint(4, 6)))
    state = {p: u.rng.random() < 0.6 for p in picks}
    order = picks + ([picks[1]] if u.rng.random() < 0.5 else [])
    for p in order:
        state[p] = not state[p]
        u.press("toggle", p, **{val_key(u): state[p]})
        u.ms(350, 1400)
    return f"Flips {len(order)} notification/settings switches one after another in a few seconds ({', '.join(words(p) for p in picks)})."


def hn_carousel(u):
    scr, noun = u.app["carousel"]
    goto(u, scr)
    u.wait(2, 8)
    n = u.rng.randint(6, 14)
    tempo = u.rng.choice(TEMPOS[1:])
    if u.kind == "dating":
        for i in range(1, n + 1):
            u.press("image", "profile_photo", index=i % 6, at=u.jit(u.xy("profile_photo_right"), 15))
            u.ms(*tempo)
        how = "tapping the right side of the photo"
    elif u.web:
        for i in range(1, n + 1):
            u.press("button", "gallery_next", slide=i + 1)
            u.ms(*tempo)
        how = "clicking the next arrow"
    else:
        for i in range(1, n + 1):
            u.ev(
                "feature_interaction",
                feature=u.feat(),
                action=u.w["swipe"],
                screen=u.sname(u.cur),
                target=u.tname("gallery", "carousel"),
                targetType=u.tt("carousel"),
                index=i,
                direction="left",
            )
            u.ms(*tempo)
        how = "swiping"
    u.wait(2, 10)
    return f"Flicks through {n} {noun} by {how}, one after another, each one moving on to the next."


def hn_keypad(u):
    scr, noun = u.app["keypad"]
    if noun == "app PIN":
        u.screen("unlock")
        digits = u.rng.choice(["119007", "220415", "445566", "100988", "333170"])
        u.wait(1, 3)
        for i, d in enumerate(digits, 1):
            u.press("keypad", f"key_{d}", position=i)
            u.ms(180, 520)
        u.ms(300, 900)
        u.fi("complete", feature="unlock")
        u.screen("home")
        return f"Unlocks the app by typing the 6-digit PIN on the keypad ({len(digits)} quick presses, some on the same key)."
    u.screen(scr, feature="tip")  # the rate-and-tip prompt after the delivery / ride
    u.wait(3, 10)
    u.press("button", "custom_tip")
    u.ms(600, 1800)
    amount = u.rng.choice(["10", "15", "20", "100", "12.50", "5.00"])
    typed = ""
    for ch in amount:
        typed += ch
        u.press("keypad", f"key_{'dot' if ch == '.' else ch}", value=typed)
        u.ms(200, 650)
    u.wait(1, 4)
    u.press("button", "confirm_tip")
    u.fi("complete", feature="tip", amount=float(amount))
    return f"Types a custom tip of {amount} on the number pad in quick presses and confirms it."


def hn_stories(u):
    scr, noun = u.app["stories"]
    u.nav(scr, via="tab")
    u.wait(2, 8)
    u.press("story", "story_ring", storyId="st_0")
    u.screen("stories")
    n = u.rng.randint(6, 12)
    for i in range(1, n + 1):
        u.ms(400, 2600)
        u.press("story", "story_next", storyId=f"st_{i}", at=u.jit(u.xy("story_next"), 20))
    u.wait(1, 4)
    u.fi("swipe", direction="down")
    u.screen(scr)
    return f"Taps through {n} {noun} in quick succession, each tap opening the next one."


def hn_video_skip(u):
    scr, vids = u.app["video"]
    goto(u, scr)
    vid = u.rng.choice(vids)
    u.press("button", "play_video")
    u.video("play", vid, duration=float(u.rng.randint(600, 2400)))
    u.wait(5, 40)
    pos = u.rng.randint(20, 90)
    n, via_events = u.rng.randint(4, 8), u.rng.random() < 0.5
    for _ in range(n):
        pos += 10
        if via_events:
            u.video("skip", vid, position=pos, skipSeconds=10)
        else:
            u.press("video_control", "skip_forward_10", position=pos, videoId=vid)
        u.ms(250, 700)
    u.wait(20, 90)
    u.video("progress", vid, progress=25.0, completionRate=0.25)
    return f"Skips the intro of a video with {n} quick +10 s taps and then keeps watching."


def hn_map_zoom(u):
    scr, noun = u.app["map"]
    goto(u, scr)
    u.wait(2, 8)
    n, z = u.rng.randint(3, 6), 12
    for _ in range(n):
        z += 1
        u.press("icon", "zoom_in", zoom=z)
        u.ms(200, 550)
    if u.rng.random() < 0.5:
        u.wait(1, 3)
        u.press("map", "map", action="double_tap", zoom=z + 1)
    u.wait(3, 10)
    u.press("map", "map", action="long_press")
    return f"Zooms the {noun} in with {n} quick taps on + (the zoom level changes each time) and picks a spot."


def hn_quiz(u):
    feat, scr = u.app["quiz"]
    u.nav(scr, via="tab")
    u.flow = feat
    u.wait(3, 10)
    u.press("button", "start_quiz")
    u.fi("start", questions=8)
    for q in range(1, 9):
        u.wait(1.2, 4.5)
        letter = "abcd"[u.rng.randint(0, 3)]
        u.press("radio", f"option_{letter}", question=q, selected=letter)
        u.ms(300, 900)
        u.press("button", "next_question", question=q)
    u.ms(500, 1500)
    u.fi("submit", attemptCount=1)
    u.ms(600, 1500)
    score = u.rng.randint(5, 8)
    u.fi("complete", score=score)
    u.flow = None
    u.screen("quiz_results")
    return f"Races through an easy 8-question quiz, pressing an answer and 'Next' every couple of seconds, and scores {score}/8."


def hn_swipes(u):
    u.nav("discover", via="tab")
    n = u.rng.randint(8, 16)
    likes = 0
    profiles = [f"p_{u.rng.getrandbits(16):04x}" for _ in range(n)]
    for p in profiles:
        u.wait(0.8, 3.5)
        for i in range(u.rng.randint(0, 3)):
            u.press("image", "profile_photo", index=i + 1, itemId=p)
            u.ms(300, 900)
        like = u.rng.random() < 0.35
        likes += like
        if u.rng.random() < 0.6:
            u.fi("swipe", direction="right" if like else "left", itemId=p)
        else:
            u.press("button", "like" if like else "pass", itemId=p)
    return f"Swipes through {n} profiles in a couple of minutes ({likes} likes), tapping through photos on some."


def hn_calendar(u):
    scr, _ = u.app["calendar"]
    u.nav(scr, via="link")
    u.wait(2, 6)
    n = u.rng.randint(2, 4)
    months = ["2026-12", "2027-01", "2027-02", "2027-03", "2027-04"]
    for i in range(n):
        u.press("icon", "next_month", month=months[i])
        u.ms(250, 700)
    u.wait(1, 4)
    day = u.rng.randint(3, 20)
    u.press("date", "day_cell", value=f"{months[n - 1]}-{day:02d}")
    u.ms(700, 2000)
    u.press("date", "day_cell", value=f"{months[n - 1]}-{day + u.rng.randint(2, 6):02d}")
    u.wait(1, 4)
    u.press("button", "apply_dates")
    return f"Jumps {n} months ahead with quick taps on the calendar's next arrow and picks dates."


# ---- hard negatives: attempts, errors ------------------------------------------------------------


def hn_one_fail(u):
    kind = u.want["kind"]
    if kind == "card":
        flow = u.app["payflow"]
        enter_flow(u, flow)
        walk(u, flow)
        submit(u, flow)
        _fail(u, u.rng.choice(CARD_ERRORS))
        u.wait(10, 30)
        for f in ("card_number", "expiry_date", "cvc"):
            u.typ(f)
            u.wait(2, 6)
        submit(u, flow, attempt=2)
        complete(u, flow)
        return f"The first card is declined on the {flow['noun']}; the user types another card and it goes through."
    if kind == "promo":
        scr, feat = u.app["promo"]
        goto(u, scr)
        u.wait(3, 10)
        u.typ("promo_code", feature=feat)
        u.press("button", "apply_code", feature=feat)
        u.fi("submit", feature=feat, code="WELCOM10")
        _fail(u, "promo_invalid", feature=feat)
        u.wait(5, 15)
        u.typ("promo_code", feature=feat)
        u.press("button", "apply_code", feature=feat)
        u.fi("submit", feature=feat, code="WELCOME10")
        u.ms(500, 1500)
        u.fi("complete", feature=feat, discount=10)
        return "Mistypes a promo code once, corrects it, and the discount is applied."
    to_login(u)
    u.flow = "login"
    u.fi("start")
    u.typ("email" if kind == "login" else "phone_number")
    if kind == "login":
        u.wait(3, 9)
        u.typ("password")
        u.press("button", "log_in")
        u.fi("submit", attemptCount=1)
        _fail(u, u.rng.choice(LOGIN_ERRORS))
        u.wait(4, 12)
        u.typ("password")
        u.press("button", "log_in")
        u.fi("submit", attemptCount=2)
        what = "password"
    else:
        u.press("button", "send_code")
        u.screen("otp", feature="login")
        u.wait(8, 25)
        u.typ("otp_code")
        u.press("button", "verify")
        u.fi("submit", attemptCount=1)
        _fail(u, u.rng.choice(OTP_ERRORS))
        u.wait(4, 12)
        u.typ("otp_code")
        u.press("button", "verify")
        u.fi("submit", attemptCount=2)
        what = "SMS code"
    u.ms(500, 1500)
    u.fi("complete")
    u.flow = None
    u.screen("home")
    return f"Gets the {what} wrong once, retypes it and logs in."


def hn_multi(u):
    feat, scr, action, targets, noun = u.app["multi"]
    k = u.rng.randint(3, len(targets))
    detail = u.app["items"][1]
    if scr != detail:
        goto(u, scr)
    for t in targets[:k]:
        if scr == detail:
            goto(u, detail)
            u.wait(10, 45)
        else:
            u.wait(5, 30)
        u.press("button", action, feature=feat, itemId=t)
        u.ms(60, 300)
        u.fi(action, feature=feat, itemId=t)
        if action == "submit":
            u.ms(600, 2000)
            u.fi("complete", feature=feat, itemId=t)
    return f"Adds/submits {k} {noun} one after another; every one succeeds."


def hn_recovered(u):
    feat, scr, noun = u.rng.choice(u.app["sys"])
    goto(u, scr)
    u.ms(800, 5000)
    etype = u.rng.choice([u.fw["timeout"], "network_timeout", "no_connection"])
    u.err(etype, feature=feat)
    u.wait(2, 8)
    if u.rng.random() < 0.5:
        u.press("button", "try_again", feature=feat)
    else:
        u.fi("refresh", feature=feat)
    u.ms(700, 2500)
    u.fi("load", feature=feat)
    u.wait(10, 40)
    u.fi("scroll", depth=75)
    u.wait(10, 40)
    ordinary(u, 2)
    return f"{noun[0].upper() + noun[1:]} fails once ({etype}) on a weak connection; one retry loads it and the user carries on."


def hn_bg_error(u):
    ordinary(u, 1)
    u.wait(3, 15)
    etype = u.rng.choice(
        ["image_load_failed", "thumbnail_decode_error", "analytics_flush_failed", "prefetch_failed", "font_load_error"]
    )
    u.err(etype, fatal=False, handled=True)
    u.wait(10, 40)
    ordinary(u, u.rng.randint(2, 3))
    return f"A background {etype} is logged while browsing; nothing visible breaks and the user keeps browsing normally."


# ---- hard negatives: leaving briefly, finishing -------------------------------------------------


def _away(u: User, lo: float, hi: float) -> None:
    if u.web and u.device.get("os") in ("Windows", "macOS") and u.rng.random() < 0.5:
        u.wait(lo, hi)  # confirmed on the phone; the desktop tab just waits
        return
    u.life("bg")
    u.wait(lo, hi)
    u.life("fg")
    u.ms(300, 1500)


def hn_otp_fetch(u):
    to_login(u)
    u.flow = "login"
    u.fi("start", step="phone")
    u.typ("phone_number")
    u.press("button", "send_code")
    u.ms(600, 2500)
    u.screen("otp", feature="login")
    u.wait(2, 6)
    away = u.rng.uniform(8, 45)
    _away(u, away, away)
    u.typ("otp_code")
    u.press("button", "verify")
    u.fi("submit", attemptCount=1)
    u.ms(500, 1500)
    u.fi("complete")
    u.flow = None
    u.screen("home")
    return f"Goes to Messages for the SMS code ({away:.0f} s away from the login), comes back, enters it and is logged in."


def hn_3ds(u):
    flow = u.app["payflow"]
    enter_flow(u, flow)
    walk(u, flow)
    submit(u, flow)
    u.ms(800, 2500)
    u.screen("3ds_challenge", feature=flow["feature"])
    away = u.rng.uniform(20, 100)
    _away(u, away, away)
    u.screen(flow["steps"][-1][0], feature=flow["feature"])
    complete(u, flow)
    return f"Pays for the {flow['noun']}, switches to the bank's app for {away:.0f} s to approve 3-D Secure, returns and the payment completes."


def hn_call(u):
    flow = u.app["flow"]
    enter_flow(u, flow)
    k = u.rng.randint(1, len(flow["steps"]))
    walk(u, flow, 0, k)
    away = u.rng.uniform(60, 300)
    _away(u, away, away)
    walk(u, flow, k)
    u.wait(3, 10)
    submit(u, flow)
    complete(u, flow)
    return (
        f"Halfway through the {flow['noun']} the user leaves the app for {away / 60:.0f} min (a call), returns and completes it."
    )


def hn_long_flow(u):
    flow = u.want["flow"]
    enter_flow(u, flow)
    walk(u, flow, dwell=(60, 240))
    u.wait(30, 120)
    submit(u, flow)
    complete(u, flow)
    return f"Takes a long, careful time over every step of the {flow['noun']} (minutes per step) and completes it."


def hn_locked(u):
    feat, scr, noun = u.app["locked"]
    if u.kind == "ride_hailing":
        flow = u.app["flow"]
        enter_flow(u, flow)
        walk(u, flow)
        submit(u, flow)
        complete(u, flow)
        u.wait(60, 240)
        u.screen("trip_in_progress", feature=feat)
        u.fi("start", feature=feat)
    else:
        u.nav("workout_detail", item=u.rng.choice(u.app["items"][2]), via="row")
        u.wait(5, 20)
        u.press("button", "start_workout")
        u.screen(scr, feature=feat)
        u.fi("start", feature=feat)
    away = u.rng.uniform(12, 38) * 60
    u.life("bg")
    u.wait(away, away)
    u.life("fg")
    u.ms(500, 2000)
    u.fi("complete", feature=feat, duration=float(int(away / 60) + 2) * 60.0)
    u.screen("trip_receipt" if u.kind == "ride_hailing" else "workout_summary")
    u.wait(4, 15)
    u.press("button", "rate_5" if u.kind == "ride_hailing" else "save_workout")
    return f"Starts {noun}, locks the phone for {away / 60:.0f} min while it runs, then comes back and finishes it."


def hn_done_close(u):
    flow = u.app["flow"]
    full_flow(u, flow)
    u.wait(3, 15)
    u.life("bg" if not u.web else u.rng.choice(["end", "bg"]))
    u.ended = True
    return f"Completes the {flow['noun']}, glances at the confirmation and leaves the app seconds later."


def hn_browse_leave(u):
    ordinary(u, u.rng.randint(2, 3))
    u.wait(5, 30)
    u.life("bg" if not u.web else u.rng.choice(["end", "bg"]))
    u.ended = True
    return "Browses a few screens without starting anything and leaves the app."


# ---- hard negatives: back and forth -------------------------------------------------------------


def hn_comparison(u):
    lst, detail, items = u.app["items"]
    u.nav(lst, via="tab")
    u.wait(4, 15)
    picks = u.rng.sample(items, u.rng.randint(3, min(4, len(items))))
    for p in picks:
        u.nav(detail, item=p, via="row")
        u.wait(8, 25)
        u.fi("scroll", depth=u.rng.choice([50, 75, 100]))
        u.wait(8, 40)
        u.nav(lst, via="back")
        u.wait(3, 12)
    u.nav(detail, item=picks[-2], via="row")
    u.wait(5, 15)
    u.press("button", "save", itemId=picks[-2])
    return (
        f"Compares {len(picks)} {words(detail)} pages one by one from the list, reading each, then returns to one and saves it."
    )


def hn_dup_views(u):
    keys = u.rng.sample(u.app["browse"], 3)
    for k in keys:
        item = u.rng.choice(u.app["items"][2]) if k == u.app["items"][1] else None
        u.nav(k, item=item, via="tab" if not item else "row")
        if u.rng.random() < 0.8:
            u.ms(15, 400)
            u.screen(k, item=item)
        u.wait(10, 45)
        u.fi("scroll", depth=50)
        u.wait(8, 30)
    return "Browses three screens; the app logs most screen views twice within a fraction of a second (a double-fired tracker)."


def hn_wizard_back(u):
    flow = u.app["flow"] if len(u.app["flow"]["steps"]) >= 2 else u.app["signup"]
    enter_flow(u, flow)
    walk(u, flow, 0, 2)
    u.wait(2, 6)
    u.nav(flow["steps"][0][0], via="back", feature=flow["feature"])
    f = (fields_for(flow["steps"][0][1]) or ["selection"])[0]
    u.wait(3, 10)
    u.typ(f)
    walk(u, flow, 1)
    u.wait(3, 10)
    submit(u, flow)
    complete(u, flow)
    return f"Steps back once in the {flow['noun']} to fix the {words(f)}, goes forward again and completes it."


def hn_tabs(u):
    a, b = u.rng.sample([k for k in u.app["browse"] if k != u.app["items"][1]], 2)
    for k in [a, b, a, b, a]:
        u.nav(k, via="tab")
        u.wait(10, 30)
        u.fi("scroll", depth=u.rng.choice([25, 50, 75]))
        u.wait(10, 40)
        if u.rng.random() < 0.4:
            u.press("card", f"{k}_card_{u.rng.randint(1, 9)}")
            u.wait(5, 20)
    return f"Switches between the {words(a)} and {words(b)} tabs a few times, spending half a minute or more reading each."


# ---- hard negatives: help-like words, chats -----------------------------------------------------


def hn_lookalike(u):
    kind = u.app["lookalike"]
    r = u.rng
    if kind == "food":
        if r.random() < 0.5:
            u.nav("search", via="tab")
            u.search("hamburger helper", resultCount=6)
            u.wait(3, 8)
            u.nav("dish", item="hamburger-helper-cheeseburger-macaroni", via="row")
            u.wait(5, 15)
            u.press("button", "add_to_cart")
            u.fi("add_to_cart", itemId="hamburger-helper-cheeseburger-macaroni")
            return "Searches the grocery tab for “hamburger helper” and adds a box to the basket."
        u.nav("collection", item="kitchen-helpers", via="card")
        u.wait(20, 60)
        u.fi("scroll", depth=100)
        return "Browses the “Kitchen Helpers” collection (gadgets and meal kits) on the offers page."
    if kind == "banking":
        u.nav("search", via="tab")
        u.search(r.choice(["help to buy isa", "Help to Buy ISA interest"]), resultCount=2)
        u.wait(2, 6)
        u.nav("savings_product", item="help-to-buy-isa", via="row")
        u.wait(30, 90)
        u.press("button", "find_out_more")
        return "Searches for the “Help to Buy ISA” savings product and reads its page."
    if kind == "learning":
        if r.random() < 0.5:
            u.nav("catalog", via="tab")
            u.search("it support", resultCount=14)
            u.nav("course", item="it-support-fundamentals", via="row")
            u.wait(30, 80)
            u.press("button", "save_course")
            return "Searches the catalogue for “it support” and saves the “IT Support Fundamentals” course."
        u.nav("quiz_category", item="docker-faq", via="card")
        u.wait(20, 50)
        return "Opens the “Docker FAQ” practice-quiz category and looks through the questions."
    if kind == "ride":
        flow = u.app["flow"]
        enter_flow(u, flow)
        walk(u, flow, 0, 1)
        u.press("button", "continue")
        u.screen("ride_options", feature=flow["feature"])
        u.fi("step", step="choose_ride")
        u.wait(4, 12)
        u.press("list_item", "ride_type_assist", selected=True, label="Swiftly Assist — drivers trained to help")
        u.wait(2, 6)
        u.press("toggle", "support_animal", **{val_key(u): True})
        walk(u, flow, 2)
        submit(u, flow)
        complete(u, flow)
        return "Books a ride with the “Assist” option (drivers trained to help) and ticks “travelling with a support animal”."
    if kind == "news":
        if r.random() < 0.5:
            u.nav("article", item="how-to-get-help-with-your-energy-bills-this-winter", via="row")
            u.wait(60, 180)
            u.fi("scroll", depth=100)
            return "Reads the article “How to get help with your energy bills this winter”."
        u.nav("article", item=r.choice(u.app["items"][2]), via="row")
        u.wait(30, 90)
        u.press("button", "support_our_journalism")
        u.screen("contribute")
        u.wait(10, 30)
        u.press("radio", "amount_5", selected=True)
        u.fi("complete", feature="contribution", amount=5.0)
        return "Clicks “Support our journalism” under an article and makes a one-off contribution."
    if kind == "fitness":
        u.nav("workouts", via="tab")
        u.search("lumbar support stretches", resultCount=4)
        u.nav("workout_detail", item="lower-back-support-mobility", via="row")
        u.wait(10, 30)
        u.video("play", "wk_lumbar_support_12", duration=720.0)
        u.wait(60, 200)
        return "Searches “lumbar support stretches”, opens a lower-back mobility class and starts the video."
    # travel
    u.nav("property", item=r.choice(u.app["items"][2]), via="row")
    u.wait(10, 30)
    u.press("dropdown", "sort_reviews", value="most_helpful")
    for _ in range(r.randint(2, 3)):
        u.wait(8, 25)
        u.press("button", "helpful", reviewId=f"rv_{r.randint(10000, 99999)}")
    return "Sorts a stay's reviews by “Most helpful” and marks a few reviews as helpful."


def hn_chat(u):
    feat, partner, lines = u.app["chat"]
    u.nav(feat, via="row")
    u.ev(
        "feature_interaction", feature="chat", action=u.rng.choice(["open_chat", "open"]), screen=u.sname(u.cur), partner=partner
    )
    n = u.rng.randint(3, len(lines))
    for line in lines[:n]:
        u.wait(8, 50)
        u.typ("message", feature="chat")
        u.press("button", "send", feature="chat")
        u.ms(40, 150)
        u.fi("send", feature="chat", messageLength=len(line))
    return f"Chats with the {partner} ({n} messages) in the in-app messaging screen."


# ---- ambiguous ----------------------------------------------------------------------------------


def amb_slow_taps(u):
    kind, target, scr, text, res = u.rng.choice([e for e in u.app["rage"] if e[0] == "button"])
    flow, i = goto(u, scr)
    u.wait(3, 12)
    for _ in range(3):
        u.press(kind, target)
        u.ms(900, 1800)
    if flow:
        finish(u, flow, i, target)
    elif res:
        u.screen(res)
    return f"Presses the {text} three times about a second apart before anything visibly happens; could be impatience or a slow network."


def amb_short_loop(u):
    (a, b, *_), goal = u.rng.choice(u.app["loops"])
    goto(u, a)
    seen = {a: u.item, b: f"{b[:3]}-{u.rng.randint(1000, 9999)}" if b in DETAIL_SCREENS else None}
    for s in (b, a, b):
        u.wait(3, 10)
        u.nav(s, item=seen[s], via="back" if s == a else auto_via(u, s))
    u.wait(10, 30)
    u.nav(u.rng.choice([k for k in u.app["browse"] if k not in (a, b, u.app["items"][1])]), via="tab")
    return f"Goes {words(a)} → {words(b)} → {words(a)} → {words(b)} and then moves on; maybe looking for {goal}, maybe not."


def amb_cancel(u):
    flow = u.app["flow"]
    enter_flow(u, flow)
    walk(u, flow)
    u.wait(15, 60)
    u.press("icon", "close")
    u.fi("cancel", reason=u.rng.choice(["changed_mind", None]))
    u.flow = None
    u.wait(10, 30)
    u.life("bg" if not u.web else "end")
    u.ended = True
    return f"Reaches the last step of the {flow['noun']}, looks at the total, deliberately cancels and leaves the app."


def amb_two_fail(u):
    to_login(u)
    u.flow = "login"
    u.fi("start")
    u.typ("email")
    etype = u.rng.choice(LOGIN_ERRORS)
    for k in (1, 2):
        u.wait(4, 15)
        u.typ("password")
        u.press("button", "log_in")
        u.fi("submit", attemptCount=k)
        _fail(u, etype)
    u.wait(5, 20)
    u.flow = None
    u.nav("welcome", via="back")
    signed_out_exit(u)
    return "Two wrong passwords in a row, then backs out of the login screen; may have stopped trying or gone to look it up."


def amb_faq_before_buy(u):
    _to_help(u)
    a = u.rng.choice(
        [x for x in u.app["articles"] if any(w in x for w in ("refund", "cancel", "billing", "polic", "fee"))]
        or u.app["articles"]
    )
    u.nav("help_article", item=a, via="row")
    u.wait(30, 90)
    flow = u.app["payflow"] or u.app["flow"]
    full_flow(u, flow)
    return f"Reads the help article “{a}” before buying, then completes the {flow['noun']}: research or worry, hard to say."


def amb_error_linger(u):
    feat, scr, noun = u.rng.choice(u.app["sys"])
    goto(u, scr)
    u.ms(800, 4000)
    etype = _sys_error(u)
    u.err(etype, feature=feat)
    u.wait(30, 70)
    u.fi("scroll", depth=25)
    u.wait(5, 20)
    u.life("bg" if not u.web else "end")
    u.ended = True
    return f"{noun[0].upper() + noun[1:]} fails once ({etype}); the user lingers about a minute and then leaves."


# --------------------------------------------------------------------------------------------------
# Registry, quotas, schedule.
# --------------------------------------------------------------------------------------------------


def _has_rage(kind, result=False):
    return lambda u: any(e[0] == kind and (e[4] or not result) for e in u.app["rage"])


def _loop_len(n):
    return lambda u: any(len(lp[0]) == n for lp in u.app["loops"])


ALL = lambda u: True  # noqa: E731
APP = lambda key: lambda u: bool(u.app.get(key))  # noqa: E731

# class -> (label, signalType, story, available for this user)
CLASSES = {
    "rage_tap.dead_button": ("positive", "rage_tap", p_rage_dead_button, _has_rage("button")),
    "rage_tap.unresponsive_image": ("positive", "rage_tap", p_rage_image, _has_rage("image")),
    "rage_tap.map_pin": ("positive", "rage_tap", p_rage_pin, _has_rage("pin")),
    "rage_tap.dead_text": ("positive", "rage_tap", p_rage_label, _has_rage("label")),
    "rage_tap.slow_button": ("positive", "rage_tap", p_rage_slow, _has_rage("button", True)),
    "rage_tap.stuck_switch": ("positive", "rage_tap", p_rage_toggle, _has_rage("toggle")),
    "repeated_attempts.wrong_otp": ("positive", "repeated_attempts", p_att_otp, APP("otp")),
    "repeated_attempts.card_declined": ("positive", "repeated_attempts", p_att_card, APP("payflow")),
    "repeated_attempts.form_validation": ("positive", "repeated_attempts", p_att_form, ALL),
    "repeated_attempts.wrong_password": ("positive", "repeated_attempts", p_att_login, ALL),
    "repeated_attempts.promo_code": ("positive", "repeated_attempts", p_att_promo, APP("promo")),
    "repeated_attempts.app_task": ("positive", "repeated_attempts", p_att_special, APP("special")),
    "error_pattern.crash_relaunch": ("positive", "error_pattern", p_err_crash, ALL),
    "error_pattern.crash_loop": ("positive", "error_pattern", p_err_crash_loop, ALL),
    "error_pattern.repeated_errors": ("positive", "error_pattern", p_err_repeated, ALL),
    "error_pattern.error_then_exit": ("positive", "error_pattern", p_err_exit, ALL),
    "abandonment.backgrounded": ("positive", "abandonment", p_ab_background, lambda u: not u.web),
    "abandonment.app_closed": ("positive", "abandonment", p_ab_closed, lambda u: not u.web),
    "abandonment.tab_closed": ("positive", "abandonment", p_ab_tab, lambda u: u.web),
    "abandonment.silent_exit": ("positive", "abandonment", p_ab_silent, lambda u: u.web),
    "abandonment.quiz_left": ("positive", "abandonment", p_ab_quiz, APP("quiz")),
    "screen_loop.two_screens": ("positive", "screen_loop", p_loop_two, _loop_len(2)),
    "screen_loop.three_screens": ("positive", "screen_loop", p_loop_three, _loop_len(3)),
    "screen_loop.hub_and_spokes": ("positive", "screen_loop", p_loop_hub, _loop_len(3)),
    "help_seeking.help_centre": ("positive", "help_seeking", p_help_center, ALL),
    "help_seeking.help_search": ("positive", "help_seeking", p_help_search, ALL),
    "help_seeking.help_words_in_app_search": ("positive", "help_seeking", p_help_search_main, APP("queries")),
    "help_seeking.support_chat": ("positive", "help_seeking", p_help_chat, ALL),
    "help_seeking.contact_form": ("positive", "help_seeking", p_help_contact, ALL),
    "hn.quantity_stepper": ("hard_negative", "rage_tap", hn_stepper, APP("stepper")),
    "hn.settings_switches": ("hard_negative", "rage_tap", hn_toggles, ALL),
    "hn.photo_carousel": ("hard_negative", "rage_tap", hn_carousel, ALL),
    "hn.keypad_entry": ("hard_negative", "rage_tap", hn_keypad, APP("keypad")),
    "hn.story_taps": ("hard_negative", "rage_tap", hn_stories, APP("stories")),
    "hn.video_skip": ("hard_negative", "rage_tap", hn_video_skip, APP("video")),
    "hn.map_zoom": ("hard_negative", "rage_tap", hn_map_zoom, APP("map")),
    "hn.quick_quiz": ("hard_negative", "rage_tap", hn_quiz, APP("quiz")),
    "hn.profile_swipes": ("hard_negative", "rage_tap", hn_swipes, APP("swipes")),
    "hn.calendar_months": ("hard_negative", "rage_tap", hn_calendar, APP("calendar")),
    "hn.one_failure_then_success": ("hard_negative", "repeated_attempts", hn_one_fail, ALL),
    "hn.several_successful_submits": ("hard_negative", "repeated_attempts", hn_multi, ALL),
    "hn.recovered_error": ("hard_negative", "error_pattern", hn_recovered, ALL),
    "hn.silent_background_error": ("hard_negative", "error_pattern", hn_bg_error, ALL),
    "hn.otp_from_sms": ("hard_negative", "abandonment", hn_otp_fetch, APP("otp")),
    "hn.three_d_secure": ("hard_negative", "abandonment", hn_3ds, APP("payflow")),
    "hn.call_mid_flow": ("hard_negative", "abandonment", hn_call, ALL),
    "hn.long_completed_flow": ("hard_negative", "abandonment", hn_long_flow, ALL),
    "hn.phone_locked_during_activity": ("hard_negative", "abandonment", hn_locked, APP("locked")),
    "hn.done_then_leave": ("hard_negative", "abandonment", hn_done_close, ALL),
    "hn.browse_then_leave": ("hard_negative", "abandonment", hn_browse_leave, ALL),
    "hn.comparison_browsing": ("hard_negative", "screen_loop", hn_comparison, ALL),
    "hn.duplicate_screen_views": ("hard_negative", "screen_loop", hn_dup_views, ALL),
    "hn.wizard_step_back": ("hard_negative", "screen_loop", hn_wizard_back, ALL),
    "hn.tab_switching": ("hard_negative", "screen_loop", hn_tabs, ALL),
    "hn.help_lookalike_words": ("hard_negative", "help_seeking", hn_lookalike, APP("lookalike")),
    "hn.messaging_chat": ("hard_negative", "help_seeking", hn_chat, APP("chat")),
    "amb.three_slow_presses": ("ambiguous", "rage_tap", amb_slow_taps, ALL),
    "amb.short_back_and_forth": ("ambiguous", "screen_loop", amb_short_loop, ALL),
    "amb.deliberate_cancel": ("ambiguous", "abandonment", amb_cancel, ALL),
    "amb.two_failures_then_away": ("ambiguous", "repeated_attempts", amb_two_fail, ALL),
    "amb.faq_before_buying": ("ambiguous", "help_seeking", amb_faq_before_buy, ALL),
    "amb.error_then_slow_exit": ("ambiguous", "error_pattern", amb_error_linger, ALL),
}
SIGNALS = ["rage_tap", "repeated_attempts", "error_pattern", "abandonment", "screen_loop", "help_seeking"]
QUOTA = {
    "positive": dict.fromkeys(SIGNALS, 40),
    "hard_negative": {
        "rage_tap": 60,
        "repeated_attempts": 30,
        "error_pattern": 30,
        "abandonment": 40,
        "screen_loop": 25,
        "help_seeking": 25,
    },
    "ambiguous": {
        "rage_tap": 5,
        "repeated_attempts": 4,
        "error_pattern": 4,
        "abandonment": 4,
        "screen_loop": 4,
        "help_seeking": 4,
    },
}
EPISODES_PER_USER = [0] * 35 + [1] * 110 + [2] * 100 + [3] * 55  # 475 episodes over 300 users
DETAIL_SCREENS = ("order_detail", "trip_detail", "transaction_detail", "course", "restaurant", "property")
LOOP_SCREENS = {k: tuple(sorted({s for lp in a["loops"] for s in lp[0]})) for k, a in APPS.items()}


def blocks(u: User) -> list[int]:
    """Candidate session starts: five local day-parts a day, 3 h apart, inside the 4-day window."""
    out = []
    for day in range(-1, 5):
        midnight = MIDNIGHT0 + day * DAY - int(u.off * HOUR)
        for h in (7.5, 10.5, 13.5, 16.5, 19.5):
            t = midnight + int(h * HOUR) + u.rng.randint(0, 45 * MIN)
            if T0 + 5 * MIN <= t <= T_END - 2 * HOUR:
                out.append(t)
    return out


FRESH = {
    "repeated_attempts.wrong_otp",
    "repeated_attempts.wrong_password",
    "repeated_attempts.form_validation",
    "hn.otp_from_sms",
    "amb.two_failures_then_away",
}


def prepick(u: User, ep: str | None) -> bool:
    """Choose a story's variant up front; True when it starts signed out (no browsing before it)."""
    r, app = u.rng, u.app
    u.want = {}
    if ep is None:
        return False
    if ep.startswith("abandonment.") and ep != "abandonment.quiz_left":
        flows = [f for f in (app["flow"], app["signup"], app["payflow"]) if f]
        u.want["flow"] = r.choice([*flows, app["flow"]])
        return u.want["flow"] is app["signup"]
    if ep == "hn.long_completed_flow":
        u.want["flow"] = r.choice([app["flow"], app["flow"], app["signup"]])
        return u.want["flow"] is app["signup"]
    if ep == "hn.one_failure_then_success":
        kinds = (
            ["login"]
            + (["otp"] if app["otp"] else [])
            + (["card"] if app["payflow"] else [])
            + (["promo"] if app["promo"] else [])
        )
        u.want["kind"] = r.choice(kinds)
        return u.want["kind"] in ("login", "otp")
    return ep in FRESH


def run_session(u: User, start: int, ep: str | None, n_ep: int) -> dict | None:
    r = u.rng
    u.t = start
    fresh = prepick(u, ep)
    u.open(cold=True if fresh else None)
    u.ms(300, 2000)
    if fresh:
        u.screen("welcome")
        u.wait(3, 12)
        i0 = len(u.events)
        note = CLASSES[ep][2](u)
        return finish_session(u, ep, i0, note, n_ep, ())
    if u.web and r.random() < 0.3:
        _, detail, items = u.app["items"]
        u.screen(detail, item=r.choice(items), referrer="https://www.google.com/")
    else:
        u.screen("home")
    u.wait(4, 20)
    avoid = LOOP_SCREENS[u.kind] if ep and CLASSES[ep][1] == "screen_loop" else ()
    if ep is None:
        ordinary(u, r.randint(2, 5))
        if u.kind in ("food_delivery", "ride_hailing", "banking") and r.random() < 0.3:
            u.wait(10, 40)
            full_flow(u, u.app["flow"])
        elif r.random() < 0.1:
            u.life("bg")
            u.wait(5, 90)
            u.life("fg")
            u.wait(3, 10)
            ordinary(u, 1)
        u.wait(5, 40)
        u.close()
        return None
    ordinary(u, r.randint(0, 2), avoid)
    u.wait(20, 75)
    i0 = len(u.events)
    note = CLASSES[ep][2](u)
    return finish_session(u, ep, i0, note, n_ep, avoid)


def finish_session(u: User, ep: str, i0: int, note: str, n_ep: int, avoid: tuple) -> dict:
    r = u.rng
    label, signal, _, _ = CLASSES[ep]
    first, last = u.events[i0]["timestamp"], u.events[-1]["timestamp"]
    if not u.ended:
        u.wait(25, 90)
        ordinary(u, r.randint(0, 2), avoid)
        u.wait(5, 40)
        u.close()
    return {
        "episodeId": f"fh-{n_ep:04d}",
        "userId": u.id,
        "platform": u.platform,
        "appKind": u.kind,
        "class": ep,
        "label": label,
        "signalType": signal,
        "start": first,
        "end": last,
        "note": note,
    }


def deal(rng: random.Random, kinds: list, platforms: list, counts: list) -> list[list[tuple[str, str]]]:
    """Give each user their episodes' (label, signal), spreading every kind of episode over the
    24 app x platform builds (the build with the fewest of that kind so far gets the next one)."""
    tokens = [(label, sig) for label, per in QUOTA.items() for sig, n in per.items() for _ in range(n)]
    rng.shuffle(tokens)
    cap, mine = list(counts), [[] for _ in counts]
    spread: Counter = Counter()
    for tok in tokens:
        free = [i for i, c in enumerate(cap) if c > 0]
        low = min(spread[tok, kinds[i], platforms[i]] for i in free)
        best = [i for i in free if spread[tok, kinds[i], platforms[i]] == low]
        most = max(cap[i] for i in best)
        i = rng.choice([i for i in best if cap[i] == most])
        cap[i] -= 1
        mine[i].append(tok)
        spread[tok, kinds[i], platforms[i]] += 1
    return mine


def build(out: Path) -> tuple[int, int]:
    rng = random.Random(SEED)
    ids = Ids()
    platforms = ["iOS", "Android", "Web"] * 100
    kinds = (list(APPS) * 38)[:300]
    counts = list(EPISODES_PER_USER)
    rng.shuffle(platforms)
    rng.shuffle(kinds)
    rng.shuffle(counts)
    locs = rng.choices(LOCALES, weights=[loc[4] for loc in LOCALES], k=300)
    dealt = deal(rng, kinds, platforms, counts)
    # People who look for help write in their own language: spread the five over those users.
    langs = ["en", "es", "de", "fr", "pt"]
    seekers = [i for i in range(300) if ("positive", "help_seeking") in dealt[i]]
    for n, i in enumerate(seekers):
        locs[i] = rng.choice([loc for loc in LOCALES if loc[3] == langs[n % 5]])
    taken: set = set()
    used: Counter = Counter()
    events, labels = [], []
    for i in range(300):
        u = User(random.Random(SEED * 1000 + i), ids, platforms[i], kinds[i], locs[i], taken)
        eps = []
        for label, sig in dealt[i]:
            options = [c for c, (lb, sg, _, ok) in CLASSES.items() if lb == label and sg == sig and ok(u)]
            pick = u.rng.choices(options, weights=[1 / (1 + used[c]) ** 2 for c in options])[0]
            used[pick] += 1
            eps.append(pick)
        cand = blocks(u)
        n_sess = min(len(cand), len(eps) + u.rng.randint(2, 4))
        starts = sorted(u.rng.sample(cand, n_sess))
        slots = dict(zip(sorted(u.rng.sample(range(n_sess), len(eps))), eps, strict=False))
        for s, start in enumerate(starts):
            if u.events:  # at least 100 minutes of silence between two sessions
                start = max(start, u.events[-1]["timestamp"] + 100 * MIN)
            lab = run_session(u, start, slots.get(s), len(labels) + 1)
            if lab:
                labels.append(lab)
        events.extend(u.events)
    events.sort(key=lambda e: (e["timestamp"], e["userId"], e["eventId"]))
    labels.sort(key=lambda lab: (lab["start"], lab["userId"]))
    for n, lab in enumerate(labels, 1):
        lab["episodeId"] = f"fh-{n:04d}"
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "events.jsonl", "w", encoding="utf-8") as f:
        for e in events:
            f.write(json.dumps(e, ensure_ascii=False, separators=(",", ":")) + "\n")
    with open(out / "labels.jsonl", "w", encoding="utf-8") as f:
        for lab in labels:
            f.write(json.dumps(lab, ensure_ascii=False, separators=(",", ":")) + "\n")
    return len(events), len(labels)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path, help="directory for events.jsonl and labels.jsonl")
    args = parser.parse_args(argv)
    n_events, n_labels = build(args.out)
    print(f"wrote {n_events} events and {n_labels} labelled episodes to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
