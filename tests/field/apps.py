"""The five kinds of app in the suite and the words each one uses: its screens, controls, flows and
what can go wrong in them. Screen keys are snake_case here; each person's app spells them its own
way (see world.Person.screen_name)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Flow:
    feature: str
    screens: tuple[str, ...]  # the screens of the flow, in order; it starts on the first
    submit: str  # the control that submits it
    done: str  # the screen shown once it succeeds
    errors: tuple[str, ...]  # how a submission fails (the first is the usual one)
    field: str  # the field a person re-types after a failure


@dataclass(frozen=True)
class Button:
    screen: str
    target: str
    label: str
    feature: str
    opens: str | None = None  # the screen it shows once it does work (outside flows)


@dataclass(frozen=True)
class Decoy:  # something that looks pressable and is not
    screen: str
    target: str
    kind: str  # "image" or "label"
    looks_like: str


@dataclass(frozen=True)
class Fault:  # a failure outside any flow
    screen: str
    feature: str
    error: str
    what: str


@dataclass(frozen=True)
class App:
    kind: str
    home: str
    tabs: tuple[str, ...]
    listing: str  # a list of things ...
    detail: str  # ... and one of them
    browse_feature: str
    items: tuple[str, ...]
    searches: tuple[str, ...]
    flows: dict[str, Flow]
    everyday: tuple[str, ...]  # flows people complete in ordinary use
    buttons: tuple[Button, ...]  # buttons that sometimes hang
    decoys: tuple[Decoy, ...]
    pairs: tuple[tuple[str, str], ...]  # two screens a lost person bounces between
    circles: tuple[tuple[str, str, str], ...]  # three screens a lost person goes round
    faults: tuple[Fault, ...]
    help_topics: tuple[str, ...]
    switches: tuple[str, ...]  # settings a person may flip
    copyable: str  # text a person may select and copy
    videos: bool
    web_paths: dict[str, str]


def _login(home: str) -> Flow:
    return Flow("login", ("login",), "sign_in", home, ("invalid_credentials",), "password_field")


def _signup(done: str = "welcome") -> Flow:
    return Flow("signup", ("signup", "signup_details"), "create_account", done, ("validation", "email_taken"), "email_field")


def _onboarding(home: str) -> Flow:
    return Flow(
        "onboarding",
        ("onboarding_welcome", "onboarding_preferences", "onboarding_notifications"),
        "finish_onboarding",
        home,
        ("validation",),
        "name_field",
    )


SHOP = App(
    kind="shop",
    home="home",
    tabs=("home", "categories", "wishlist", "cart", "account"),
    listing="product_list",
    detail="product_detail",
    browse_feature="catalog",
    items=(
        "trail running shoes",
        "wireless earbuds",
        "linen shirt",
        "coffee grinder",
        "yoga mat",
        "rain jacket",
        "desk lamp",
        "leather wallet",
        "cast iron pan",
        "kids backpack",
        "wool scarf",
        "bluetooth speaker",
    ),
    searches=(
        "running shoes",
        "usb c charger",
        "winter jacket",
        "espresso machine",
        "lego",
        "air fryer",
        "phone case",
        "nike air max",
    ),
    flows={
        "checkout": Flow(
            "checkout",
            ("cart", "checkout_address", "delivery_options", "checkout_payment"),
            "place_order",
            "order_confirmation",
            ("card_declined", "payment_failed"),
            "card_number",
        ),
        "signup": _signup(),
        "login": _login("home"),
        "onboarding": _onboarding("home"),
    },
    everyday=("checkout",),
    buttons=(
        Button("checkout_payment", "place_order", "Place order", "checkout"),
        Button("product_detail", "add_to_cart", "Add to cart", "catalog", "cart"),
        Button("cart", "apply_coupon", "Apply coupon", "cart"),
        Button("product_detail", "notify_me", "Notify me", "catalog"),
    ),
    decoys=(
        Decoy("product_detail", "product_photo", "image", "the main product photo, expecting it to zoom"),
        Decoy("cart", "free_returns_badge", "label", "the 'Free returns' badge, expecting the returns policy"),
        Decoy("product_detail", "size_chart_thumbnail", "image", "the size-chart thumbnail, expecting it to open"),
        Decoy("order_detail", "tracking_status", "label", "the 'In transit' status, expecting tracking details"),
    ),
    pairs=(("cart", "delivery_options"), ("product_detail", "size_guide"), ("checkout_payment", "payment_methods")),
    circles=(
        ("orders", "order_detail", "returns"),
        ("account", "addresses", "payment_methods"),
        ("cart", "delivery_options", "checkout_address"),
    ),
    faults=(
        Fault("search_results", "search", "server_500", "search results"),
        Fault("order_detail", "order_tracking", "network_timeout", "order tracking"),
        Fault("product_list", "catalog", "network_timeout", "the product list"),
    ),
    help_topics=("order", "refund", "login", "human", "generic"),
    switches=("order_updates", "promo_emails", "push_offers", "dark_mode", "one_click_buy"),
    copyable="tracking_number",
    videos=False,
    web_paths={
        "home": "/",
        "product_list": "/shop/new-in",
        "product_detail": "/p/{item}",
        "checkout_address": "/checkout/address",
        "delivery_options": "/checkout/delivery",
        "checkout_payment": "/checkout/payment",
        "order_confirmation": "/checkout/confirmation",
        "order_detail": "/account/orders/detail",
        "orders": "/account/orders",
    },
)

MEDIA = App(
    kind="media",
    home="home",
    tabs=("home", "browse", "search", "downloads", "profile"),
    listing="browse",
    detail="title_detail",
    browse_feature="catalog",
    items=(
        "The Long Coast",
        "Night Shift",
        "Paper Moons",
        "Orbit Kitchen",
        "Quiet Harbor",
        "Glass Garden",
        "The Last Ferry",
        "Northern Lights Live",
        "Salt and Stone",
        "Midnight Radio",
    ),
    searches=(
        "stranger things",
        "nature documentary",
        "stand up comedy",
        "the bear",
        "jazz",
        "cooking show",
        "champions league highlights",
        "true crime",
    ),
    flows={
        "subscription": Flow(
            "subscription",
            ("plans", "plan_detail", "payment"),
            "start_membership",
            "subscription_confirmed",
            ("card_declined", "payment_failed"),
            "card_number",
        ),
        "add_profile": Flow(
            "add_profile", ("profiles", "profile_create"), "save_profile", "profiles", ("validation",), "name_field"
        ),
        "signup": _signup("plans"),
        "login": _login("home"),
        "onboarding": _onboarding("home"),
    },
    everyday=("add_profile",),
    buttons=(
        Button("title_detail", "download_button", "Download", "downloads", "downloads"),
        Button("title_detail", "play_button", "Play", "playback", "player"),
        Button("plans", "continue_button", "Continue", "subscription"),
        Button("title_detail", "add_to_list", "My List", "catalog", "my_list"),
    ),
    decoys=(
        Decoy("title_detail", "hero_poster", "image", "the big poster, expecting the trailer"),
        Decoy("title_detail", "cast_name", "label", "an actor's name, expecting their filmography"),
        Decoy("browse", "top10_badge", "image", "the 'Top 10' badge, expecting the chart"),
    ),
    pairs=(("account", "subscription"), ("downloads", "download_settings"), ("plans", "plan_comparison")),
    circles=(
        ("account", "subscription", "billing"),
        ("settings", "playback_settings", "downloads"),
        ("profiles", "profile_edit", "parental_controls"),
    ),
    faults=(
        Fault("player", "playback", "playback_error", "playback"),
        Fault("player", "playback", "network_timeout", "the stream"),
        Fault("downloads", "downloads", "download_failed", "a download"),
        Fault("browse", "catalog", "server_500", "the catalogue"),
    ),
    help_topics=("cancel", "login", "refund", "human", "generic"),
    switches=("autoplay_next", "autoplay_previews", "download_wifi_only", "subtitles", "dark_mode"),
    copyable="episode_quote",
    videos=True,
    web_paths={"home": "/", "browse": "/browse", "title_detail": "/title/{item}", "player": "/watch/{item}"},
)

SOCIAL = App(
    kind="social",
    home="feed",
    tabs=("feed", "explore", "notifications", "messages", "profile"),
    listing="explore",
    detail="post_detail",
    browse_feature="feed",
    items=(
        "sunset hike",
        "new puppy",
        "homemade ramen",
        "city marathon",
        "street art",
        "birthday party",
        "vinyl collection",
        "garden update",
        "first pottery class",
        "road trip",
    ),
    searches=("street photography", "@mara.k", "running club", "recipes", "#sunday", "book club", "surf", "cats"),
    flows={
        "post": Flow("post", ("compose", "compose_preview"), "share_post", "feed", ("upload_failed",), "caption_field"),
        "signup": _signup("onboarding_welcome"),
        "login": _login("feed"),
        "onboarding": _onboarding("feed"),
    },
    everyday=("post",),
    buttons=(
        Button("compose_preview", "share_post", "Share", "post"),
        Button("profile", "follow_button", "Follow", "profile"),
        Button("post_detail", "send_comment", "Send", "comments"),
        Button("notifications", "accept_request", "Accept", "notifications"),
    ),
    decoys=(
        Decoy("post_detail", "username_label", "label", "the poster's name, expecting their profile"),
        Decoy("explore", "event_banner", "image", "an event banner, expecting the event page"),
        Decoy("profile", "follower_count", "label", "the follower count, expecting the list of followers"),
    ),
    pairs=(("settings", "privacy"), ("profile", "edit_profile"), ("notifications", "notification_settings")),
    circles=(
        ("settings", "privacy", "account_center"),
        ("profile", "edit_profile", "settings"),
        ("notifications", "notification_settings", "settings"),
    ),
    faults=(
        Fault("feed", "feed", "network_timeout", "the feed"),
        Fault("explore", "explore", "server_500", "explore"),
        Fault("stories", "stories", "media_load_failed", "a story"),
    ),
    help_topics=("login", "human", "generic"),
    switches=("private_account", "show_activity", "push_likes", "push_comments", "dark_mode"),
    copyable="post_caption",
    videos=True,
    web_paths={"feed": "/", "explore": "/explore", "post_detail": "/p/{item}", "chat": "/messages/chat", "messages": "/messages"},
)

TRAVEL = App(
    kind="travel",
    home="home",
    tabs=("home", "search", "trips", "saved", "profile"),
    listing="hotel_results",
    detail="hotel_detail",
    browse_feature="search",
    items=(
        "Hotel Alfama",
        "Casa Verde",
        "Harbor Inn",
        "Alpine Lodge",
        "Riad Zitoun",
        "Canal House",
        "Seaside Suites",
        "Old Town Loft",
        "Pension Mar",
        "Garden Rooms",
    ),
    searches=(
        "lisbon",
        "barcelona hotels",
        "flights to rome",
        "paris",
        "tokyo ryokan",
        "beach house",
        "new york",
        "berlin weekend",
    ),
    flows={
        "booking": Flow(
            "booking",
            ("hotel_detail", "booking_details", "guest_details", "payment"),
            "pay_now",
            "booking_confirmation",
            ("card_declined", "fare_unavailable"),
            "card_number",
        ),
        "checkin": Flow(
            "checkin",
            ("checkin", "checkin_passengers", "checkin_seat"),
            "confirm_checkin",
            "boarding_pass",
            ("validation",),
            "passport_number",
        ),
        "signup": _signup(),
        "login": _login("home"),
        "onboarding": _onboarding("home"),
    },
    everyday=("booking", "checkin"),
    buttons=(
        Button("payment", "pay_now", "Pay now", "booking"),
        Button("checkin_seat", "confirm_seat", "Confirm seat", "checkin"),
        Button("hotel_detail", "reserve_button", "Reserve", "booking"),
        Button("hotel_results", "apply_filters", "Apply filters", "search"),
    ),
    decoys=(
        Decoy("hotel_detail", "map_thumbnail", "image", "the small map preview, expecting a full map"),
        Decoy("hotel_results", "breakfast_included", "label", "the 'Breakfast included' label, expecting details"),
        Decoy("hotel_detail", "rating_badge", "image", "the review-score badge, expecting the reviews"),
    ),
    pairs=(("booking_details", "cancellation_policy"), ("checkin_seat", "baggage"), ("trip_detail", "manage_booking")),
    circles=(
        ("trips", "trip_detail", "manage_booking"),
        ("checkin", "checkin_passengers", "travel_documents"),
        ("booking_details", "cancellation_policy", "room_options"),
    ),
    faults=(
        Fault("hotel_results", "search", "server_500", "the search"),
        Fault("map", "map", "map_load_failed", "the map"),
        Fault("trips", "trips", "network_timeout", "the trips list"),
    ),
    help_topics=("refund", "cancel", "human", "generic", "order"),
    switches=("price_alerts", "trip_reminders", "promo_emails", "dark_mode", "share_location"),
    copyable="booking_reference",
    videos=False,
    web_paths={
        "home": "/",
        "hotel_results": "/hotels/search",
        "hotel_detail": "/hotels/{item}",
        "payment": "/book/payment",
        "booking_details": "/book/details",
        "guest_details": "/book/guests",
        "booking_confirmation": "/book/confirmation",
    },
)

FINTECH = App(
    kind="fintech",
    home="accounts",
    tabs=("accounts", "payments", "cards", "insights", "profile"),
    listing="transactions",
    detail="transaction_detail",
    browse_feature="transactions",
    items=(
        "Grocery store",
        "Coffee shop",
        "Rent",
        "Salary",
        "Gym",
        "Electricity",
        "Train ticket",
        "Bookstore",
        "Pharmacy",
        "Streaming service",
    ),
    searches=("grocery", "rent", "amazon", "salary", "uber", "spotify", "gym", "pharmacy"),
    flows={
        "transfer": Flow(
            "transfer",
            ("transfer", "transfer_amount", "transfer_review"),
            "confirm_transfer",
            "transfer_success",
            ("otp_invalid", "insufficient_funds"),
            "otp_field",
        ),
        "kyc": Flow(
            "kyc",
            ("kyc_intro", "kyc_document", "kyc_selfie", "kyc_address"),
            "submit_verification",
            "kyc_submitted",
            ("document_unreadable", "validation"),
            "document_photo",
        ),
        "signup": _signup("kyc_intro"),
        "login": Flow("login", ("login",), "sign_in", "accounts", ("invalid_credentials", "otp_invalid"), "password_field"),
        "onboarding": _onboarding("accounts"),
    },
    everyday=("transfer",),
    buttons=(
        Button("transfer_review", "confirm_transfer", "Confirm transfer", "transfer"),
        Button("cards", "freeze_card", "Freeze card", "cards"),
        Button("login", "sign_in", "Sign in", "login"),
        Button("payments", "pay_bill", "Pay", "payments", "payment_success"),
    ),
    decoys=(
        Decoy("account_detail", "balance_chart", "image", "the balance chart, expecting a breakdown"),
        Decoy("transactions", "pending_badge", "label", "a 'Pending' badge, expecting an explanation"),
        Decoy("cards", "card_image", "image", "the picture of the card, expecting the card details"),
    ),
    pairs=(("cards", "card_settings"), ("transfer_amount", "transfer_limits"), ("accounts", "account_detail")),
    circles=(
        ("accounts", "cards", "card_settings"),
        ("settings", "security", "devices"),
        ("payments", "payees", "transfer_limits"),
    ),
    faults=(
        Fault("transactions", "transactions", "server_500", "the transaction list"),
        Fault("statements", "statements", "network_timeout", "statements"),
        Fault("insights", "insights", "server_500", "spending insights"),
    ),
    help_topics=("login", "refund", "human", "generic"),
    switches=("spending_alerts", "face_id_login", "round_ups", "marketing_emails", "dark_mode"),
    copyable="iban",
    videos=False,
    web_paths={"accounts": "/", "transactions": "/transactions", "transaction_detail": "/transactions/{item}"},
)

# Flows a person can start and walk away from.
ABANDONABLE = ("checkout", "signup", "booking", "kyc", "transfer", "onboarding", "subscription")

APPS = {app.kind: app for app in (SHOP, MEDIA, SOCIAL, TRAVEL, FINTECH)}
APP_KINDS = tuple(APPS)

# What a person types or opens when they need help, by language and topic.
HELP_QUERIES = {
    "en": {
        "login": ("forgot password", "cant log in"),
        "order": ("where is my order",),
        "refund": ("refund not received",),
        "cancel": ("how do i cancel",),
        "human": ("talk to a human", "contact support"),
        "generic": ("help", "customer service"),
    },
    "es": {
        "login": ("olvidé mi contraseña", "no puedo iniciar sesión"),
        "order": ("ayuda con mi pedido", "dónde está mi pedido"),
        "refund": ("reembolso no recibido",),
        "cancel": ("cómo cancelo",),
        "human": ("hablar con una persona", "contactar soporte"),
        "generic": ("ayuda",),
    },
    "de": {
        "login": ("passwort vergessen", "kann mich nicht anmelden"),
        "order": ("wo ist meine bestellung",),
        "refund": ("rückerstattung nicht erhalten",),
        "cancel": ("wie kündige ich",),
        "human": ("kontakt kundenservice", "mit einem mitarbeiter sprechen"),
        "generic": ("Hilfe",),
    },
    "fr": {
        "login": ("mot de passe oublié", "je n'arrive pas à me connecter"),
        "order": ("où est ma commande",),
        "refund": ("remboursement non reçu",),
        "cancel": ("comment annuler",),
        "human": ("parler à un conseiller", "contacter le service client"),
        "generic": ("aide",),
    },
    "pt": {
        "login": ("esqueci minha senha", "não consigo entrar"),
        "order": ("onde está meu pedido",),
        "refund": ("reembolso não recebido",),
        "cancel": ("como cancelar",),
        "human": ("falar com atendente", "contato suporte"),
        "generic": ("ajuda",),
    },
}

# The word a person types for "cancel" alone (ambiguous).
CANCEL_WORD = {"en": "cancel", "es": "cancelar", "de": "kündigen", "fr": "annuler", "pt": "cancelar"}

# Help pages on the web, by language.
HELP_PATHS = {
    "en": {
        "help_center": "/help",
        "faq_article": "/help/faq",
        "contact_support": "/help/contact",
        "support_chat": "/support/chat",
    },
    "es": {
        "help_center": "/es/ayuda",
        "faq_article": "/es/ayuda/preguntas-frecuentes",
        "contact_support": "/es/ayuda/contacto",
        "support_chat": "/es/ayuda/chat",
    },
    "de": {
        "help_center": "/de/hilfe",
        "faq_article": "/de/hilfe/faq",
        "contact_support": "/de/hilfe/kontakt",
        "support_chat": "/de/hilfe/chat",
    },
    "fr": {
        "help_center": "/fr/aide",
        "faq_article": "/fr/aide/faq",
        "contact_support": "/fr/aide/contact",
        "support_chat": "/fr/aide/chat",
    },
    "pt": {
        "help_center": "/pt/ajuda",
        "faq_article": "/pt/ajuda/perguntas-frequentes",
        "contact_support": "/pt/ajuda/fale-conosco",
        "support_chat": "/pt/ajuda/chat",
    },
}
