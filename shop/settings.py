"""Settings of the reference store: Oscar 4.2 and Wagtail 8 in one project.

Everything a deployment changes comes from the environment (see README,
"Configuration"). Without ``DATABASE_URL``/``REDIS_URL`` the store runs on a
SQLite file and the embedded Redis under ``var/``.
"""

from pathlib import Path

from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _
from oscar.defaults import *  # noqa: F401,F403  Oscar's documented way to take its defaults
from oscar.defaults import OSCAR_DASHBOARD_NAVIGATION

from shop import config
from shop import processes

BASE_DIR = Path(__file__).resolve().parent.parent

# --- Core -------------------------------------------------------------------

DEBUG = config.env_bool("DEBUG", False)
_DEV_SECRET = "django-insecure-demo-only-key-never-use-in-production"
SECRET_KEY = config.env_str("SECRET_KEY") or (_DEV_SECRET if DEBUG else "")
if not SECRET_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "SECRET_KEY is not set. Set SECRET_KEY to a long random string, "
        "or DEBUG=1 for a local demo."
    )
ALLOWED_HOSTS = config.env_list(
    "ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = config.env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_ID = 1
ROOT_URLCONF = "shop.urls"
WSGI_APPLICATION = "shop.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
# The forked offer app (shop/offer) keeps Oscar's models, so it keeps Oscar's migrations too.
MIGRATION_MODULES = {"offer": "oscar.apps.offer.migrations"}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.flatpages",
    # Oscar
    "oscar.config.Shop",
    "oscar.apps.analytics.apps.AnalyticsConfig",
    "oscar.apps.checkout.apps.CheckoutConfig",
    "oscar.apps.address.apps.AddressConfig",
    "oscar.apps.shipping.apps.ShippingConfig",
    "oscar.apps.catalogue.apps.CatalogueConfig",
    "oscar.apps.catalogue.reviews.apps.CatalogueReviewsConfig",
    "oscar.apps.communication.apps.CommunicationConfig",
    "oscar.apps.partner.apps.PartnerConfig",
    "oscar.apps.basket.apps.BasketConfig",
    "oscar.apps.payment.apps.PaymentConfig",
    "shop.offer.apps.OfferConfig",  # forked: segment-targeted user offers (shop/offer)
    "oscar.apps.order.apps.OrderConfig",
    "oscar.apps.customer.apps.CustomerConfig",
    "oscar.apps.search.apps.SearchConfig",
    "oscar.apps.voucher.apps.VoucherConfig",
    "oscar.apps.wishlists.apps.WishlistsConfig",
    "oscar.apps.dashboard.apps.DashboardConfig",
    "oscar.apps.dashboard.reports.apps.ReportsDashboardConfig",
    "oscar.apps.dashboard.users.apps.UsersDashboardConfig",
    "oscar.apps.dashboard.orders.apps.OrdersDashboardConfig",
    "oscar.apps.dashboard.catalogue.apps.CatalogueDashboardConfig",
    "oscar.apps.dashboard.offers.apps.OffersDashboardConfig",
    "oscar.apps.dashboard.partners.apps.PartnersDashboardConfig",
    "oscar.apps.dashboard.pages.apps.PagesDashboardConfig",
    "oscar.apps.dashboard.ranges.apps.RangesDashboardConfig",
    "oscar.apps.dashboard.reviews.apps.ReviewsDashboardConfig",
    "oscar.apps.dashboard.vouchers.apps.VouchersDashboardConfig",
    "oscar.apps.dashboard.communications.apps.CommunicationsDashboardConfig",
    "oscar.apps.dashboard.shipping.apps.ShippingDashboardConfig",
    "widget_tweaks",
    "haystack",
    "treebeard",
    "django_tables2",
    "sorl.thumbnail",
    # Wagtail (its search app is labelled ``wagtailsearch``: no clash with Oscar's ``search``)
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.contrib.frontend_cache",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    # The eCRM layer: reusable apps, in the direction data flows.
    "tracking",
    "ecrm",
    "recommender",
    "campaigns",
    # The reference store itself.
    "shop.apps.ShopConfig",
    "shop.pages",
]

MIDDLEWARE = [
    # First: it sees pages every anonymous visitor shares last, after the others (shop.pages.caching).
    "shop.pages.caching.SharedPageMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Answers /tracking/v1/* before the storefront's middleware, which SDK calls do not need.
    "tracking.api.middleware.TrackingApiMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "oscar.apps.basket.middleware.BasketMiddleware",
    "tracking.context.TrackingMiddleware",
    "tracking.basket.BasketEventsMiddleware",
    "django.contrib.flatpages.middleware.FlatpageFallbackMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "shop" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.template.context_processors.i18n",
                "django.contrib.messages.context_processors.messages",
                "oscar.apps.search.context_processors.search_form",
                "oscar.apps.checkout.context_processors.checkout",
                "oscar.apps.communication.notifications.context_processors.notifications",
                "oscar.core.context_processors.metadata",
                "wagtail.contrib.settings.context_processors.settings",
            ],
        },
    },
]

AUTHENTICATION_BACKENDS = (
    "oscar.apps.customer.auth_backends.EmailBackend",
    "django.contrib.auth.backends.ModelBackend",
)
LOGIN_REDIRECT_URL = "/"

# --- Data stores -------------------------------------------------------------

DATABASES = {"default": config.database_settings(BASE_DIR)}

REDIS_URL, REDIS_EMBEDDED = config.redis_url(BASE_DIR)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": config.cache_url(REDIS_URL, 1),
        "KEY_PREFIX": config.env_str("CACHE_KEY_PREFIX", "shop"),
    }
}
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Oscar's catalogue browsing and search go through Haystack. Whoosh is a pure-Python
# index on disk: it supports Oscar's filters (public products, category pages) that
# Haystack's "simple" backend ignores. Products are re-indexed as they are saved.
HAYSTACK_CONNECTIONS = {
    "default": {
        "ENGINE": "haystack.backends.whoosh_backend.WhooshEngine",
        "PATH": config.env_str("SEARCH_INDEX_PATH", str(BASE_DIR / "var" / "whoosh_index")),
    },
}
HAYSTACK_SIGNAL_PROCESSOR = "haystack.signals.RealtimeSignalProcessor"

# --- Celery: a real broker always (no eager mode, not even in the demo) -------

CELERY_BROKER_URL = config.celery_url(REDIS_URL, 0)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
# The catch-up work behind the tracking consumers (profiles they marked, batches to count into
# the reports' aggregates) has its own queue, taken by a worker at the lowest CPU priority so
# that it never takes the consumers' cores (shop.processes; README, Running in production).
CELERY_TASK_ROUTES = {
    "ecrm.tasks.refresh_marked_profiles": {"queue": processes.BACKGROUND_QUEUE},
    "ecrm.tasks.apply_pending_aggregates": {"queue": processes.BACKGROUND_QUEUE},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(BASE_DIR / "var" / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    # The periodic jobs an Oscar + Wagtail store otherwise runs from cron.
    "publish-scheduled-pages": {"task": "shop.tasks.publish_scheduled_pages", "schedule": 60.0},
    "send-product-alerts": {"task": "shop.tasks.send_product_alerts", "schedule": 15 * 60.0},
    "cleanup-product-alerts": {"task": "shop.tasks.cleanup_product_alerts", "schedule": 24 * 3600.0},
    "clear-expired-sessions": {"task": "shop.tasks.clear_expired_sessions", "schedule": 24 * 3600.0},
    # Customer profiles: those with new events every few seconds, all of them nightly.
    "refresh-marked-profiles": {"task": "ecrm.tasks.refresh_marked_profiles", "schedule": 5.0},
    "rebuild-profiles": {"task": "ecrm.tasks.rebuild_profiles", "schedule": 24 * 3600.0},
    "refresh-segments": {"task": "ecrm.tasks.refresh_segments", "schedule": 15 * 60.0},
    "refresh-scores": {"task": "ecrm.tasks.refresh_scores", "schedule": 24 * 3600.0},
    # The reports' daily aggregates: the batches the tracking consumers stored, counted off their path.
    "apply-pending-aggregates": {"task": "ecrm.tasks.apply_pending_aggregates", "schedule": 2.0},
    "rebuild-recent-aggregates": {"task": "ecrm.tasks.rebuild_recent_aggregates", "schedule": crontab(hour=3, minute=30)},
    "train-recommender": {"task": "recommender.tasks.train", "schedule": 24 * 3600.0},
    # Hourly: the KPI digests due (from ECRM_DIGEST_SEND_HOUR, once per recipient and period).
    "send-kpi-digests": {"task": "ecrm.tasks.send_kpi_digests", "schedule": crontab(minute=5)},
    # Campaigns: queue the outbox messages that are due (new, deferred, retries, recovered).
    "campaigns-tick": {"task": "campaigns.tasks.tick", "schedule": 15.0},
}

# The store's public address: links in customer e-mails, the KPI digest and Wagtail's admin e-mails.
SITE_URL = config.env_str("SITE_URL", "http://127.0.0.1:8000")
# Tabs that other apps add to ecrm's customer card (ecrm itself does not depend on them).
ECRM_CARD_TABS = ["recommender.card.recommendations_tab", "campaigns.card.outbox_tab",
                  "campaigns.flows.card.flows_tab"]
# Where the KPI digest's links point.
ECRM_SITE_URL = SITE_URL
# Campaigns' messages and preferences, and the recommender's recent activity in Redis, are part
# of a customer's export and erasure.
ECRM_PERSONAL_DATA = ["campaigns.privacy.personal_data", "recommender.privacy.personal_data"]

# --- Campaigns: links in e-mails use the site's public address; the delivery-events webhook
# (django-anymail's normalised shape) is enabled by a "user:password" secret.
CAMPAIGNS_BASE_URL = SITE_URL
# SMS: the store's provider backend in production; the demo writes each SMS to var/sent-sms/.
CAMPAIGNS_SMS_BACKEND = config.env_str("CAMPAIGNS_SMS_BACKEND", "campaigns.sms.backends.filebased.SmsBackend")
CAMPAIGNS_SMS_FILE_PATH = str(BASE_DIR / "var" / "sent-sms")
CAMPAIGNS_SMS_FROM = config.env_str("CAMPAIGNS_SMS_FROM", "")
CAMPAIGNS_WEBHOOK_SECRET = config.env_str("CAMPAIGNS_WEBHOOK_SECRET", "")

# --- REST API (ecrm.api): staff only, with a token (manage.py drf_create_token USER) or
# the dashboard's session (which then needs the CSRF token, as Django REST framework checks).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "oscar-ecrm API",
    "DESCRIPTION": "Customers (search, 360° profile, timeline, consents) and segments, for staff.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "PREPROCESSING_HOOKS": ["ecrm.api.schema.only_our_api"],
}

# --- Internationalisation -------------------------------------------------------

LANGUAGE_CODE = "en-gb"
LANGUAGES = [("en-gb", "English")]
TIME_ZONE = config.env_str("TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

# --- Static and media ------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(config.env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- E-mail ------------------------------------------------------------------------

EMAIL_BACKEND = config.env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if config.env_str("EMAIL_HOST")
    # No SMTP server (the demo): each message is an .eml file in EMAIL_FILE_PATH, listed under
    # Dashboard → Campaigns → Sent mail.
    else "campaigns.sent_mail.FolderEmailBackend",
)
EMAIL_FILE_PATH = str(BASE_DIR / "var" / "sent-mail")
EMAIL_HOST = config.env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = config.env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = config.env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = config.env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = config.env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = config.env_bool("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = config.env_str("DEFAULT_FROM_EMAIL", "Oscar Outfitters <shop@example.com>")
SERVER_EMAIL = config.env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)

# --- Security: production values pass ``manage.py check --deploy`` ------------------

SECURE_SSL_REDIRECT = config.env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = config.env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = config.env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = config.env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = config.env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = config.env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if config.env_bool("BEHIND_TLS_PROXY", False) else None
)
OSCAR_BASKET_COOKIE_SECURE = SESSION_COOKIE_SECURE
OSCAR_RECENTLY_VIEWED_COOKIE_SECURE = SESSION_COOKIE_SECURE

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": config.env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Oscar's catalogue import logs a harmless warning per product with the simple backend.
        "haystack": {"level": "ERROR"},
        # Wagtail 8 logs every background task it runs (search index, references).
        "django_tasks": {"level": "WARNING"},
    },
}

# --- Oscar ---------------------------------------------------------------------------

OSCAR_SHOP_NAME = config.env_str("OSCAR_SHOP_NAME", "Oscar Outfitters")
OSCAR_SHOP_TAGLINE = config.env_str("OSCAR_SHOP_TAGLINE", "Everything for home, garden and outdoors")
OSCAR_HOMEPAGE = "/"
OSCAR_DEFAULT_CURRENCY = "GBP"
OSCAR_FROM_EMAIL = DEFAULT_FROM_EMAIL
OSCAR_ALLOW_ANON_CHECKOUT = True
OSCAR_ALLOW_ANON_REVIEWS = False
OSCAR_MODERATE_REVIEWS = True
# Alerts are sent by a periodic task (shop.tasks.send_product_alerts), not inside
# the request that changed the stock record.
OSCAR_EAGER_ALERTS = False

# The order status pipeline. Lines follow their order (OSCAR_ORDER_STATUS_CASCADE).
OSCAR_INITIAL_ORDER_STATUS = "Pending"
OSCAR_INITIAL_LINE_STATUS = "Pending"
OSCAR_ORDER_STATUS_PIPELINE = {
    "Pending": ("Processing", "Cancelled"),
    "Processing": ("Shipped", "Cancelled"),
    "Shipped": ("Delivered", "Returned"),
    "Delivered": ("Returned",),
    "Returned": ("Refunded",),
    "Refunded": (),
    "Cancelled": (),
}
OSCAR_LINE_STATUS_PIPELINE = OSCAR_ORDER_STATUS_PIPELINE
# "User" offers are the segment-targeted ones (shop/offer, dashboard → Offers → Segment offers).
OSCAR_OFFERS_IMPLEMENTED_TYPES = ["SITE", "VOUCHER", "USER"]
OSCAR_ORDER_STATUS_CASCADE = {status: status for status in OSCAR_ORDER_STATUS_PIPELINE}



def _writes_mail_to_folder() -> bool:
    """Dashboard → Campaigns → Sent mail exists only while mail goes to the folder (the demo)."""
    from campaigns.sent_mail import enabled

    return enabled()


def _staff_with(permission: str):
    """A menu entry's access rule: staff holding ``permission`` (what its views require)."""
    return lambda user, *args: user.is_staff and user.has_perm(permission)


def _with_segment_offers(navigation: list) -> list:
    """Oscar's menu with "Segment offers" under Offers, where marketers look for offers."""
    menu = []
    for section in navigation:
        children = section.get("children", [])
        if any(child.get("url_name") == "dashboard:offer-list" for child in children):
            section = {**section, "children": [*children, {
                "label": _("Segment offers"), "url_name": "ecrm-dashboard:segment-offers",
                "access_fn": _staff_with("ecrm.view_segmentoffer")}]}
        menu.append(section)
    return menu


OSCAR_DASHBOARD_NAVIGATION = _with_segment_offers(OSCAR_DASHBOARD_NAVIGATION) + [
    {
        "label": _("Customer care"),
        "icon": "fas fa-headset",
        "children": [
            {"label": _("Support desk"), "url_name": "ecrm-dashboard:customer-search",
             "access_fn": _staff_with("ecrm.view_profile")},
            {"label": _("Segments"), "url_name": "ecrm-dashboard:segments",
             "access_fn": _staff_with("ecrm.view_segment")},
            {"label": _("RFM"), "url_name": "ecrm-dashboard:rfm-report",
             "access_fn": _staff_with("ecrm.view_customer_reports")},
            {"label": _("Customers report"), "url_name": "ecrm-dashboard:customers-report",
             "access_fn": _staff_with("ecrm.view_customer_reports")},
            {"label": _("Funnel"), "url_name": "ecrm-dashboard:funnel-report",
             "access_fn": _staff_with("ecrm.view_customer_reports")},
            {"label": _("Product conversion"), "url_name": "ecrm-dashboard:product-report",
             "access_fn": _staff_with("ecrm.view_customer_reports")},
            {"label": _("Traffic and campaigns"), "url_name": "ecrm-dashboard:traffic-report",
             "access_fn": _staff_with("ecrm.view_customer_reports")},
            {"label": _("Lifetime value"), "url_name": "ecrm-dashboard:clv-report",
             "access_fn": _staff_with("ecrm.view_customer_reports")},
            {"label": _("KPI digest"), "url_name": "ecrm-dashboard:digest",
             "access_fn": _staff_with("ecrm.view_customer_reports")},
            {"label": _("Likely duplicates"), "url_name": "ecrm-dashboard:duplicates",
             "access_fn": _staff_with("ecrm.merge_profile")},
        ],
    },
    {
        "label": _("Campaigns"),
        "icon": "fas fa-paper-plane",
        "children": [
            {"label": _("Outbox"), "url_name": "campaigns-dashboard:outbox",
             "access_fn": _staff_with("campaigns.view_message")},
            {"label": _("Dead letters"), "url_name": "campaigns-dashboard:dead-letters",
             "access_fn": _staff_with("campaigns.view_message")},
            {"label": _("Suppressed addresses"), "url_name": "campaigns-dashboard:suppressions",
             "access_fn": _staff_with("campaigns.view_suppression")},
            {"label": _("Flows"), "url_name": "campaigns-dashboard:flows",
             "access_fn": _staff_with("campaigns.view_flow")},
            {"label": _("E-mail designs"), "url_name": "campaigns-dashboard:designs",
             "access_fn": _staff_with("campaigns.view_emaildesign")},
            {"label": _("Sent mail"), "url_name": "campaigns-dashboard:sent-mail",
             "access_fn": lambda user, *args: _staff_with("campaigns.view_message")(user) and _writes_mail_to_folder()},
            {"label": _("Broadcasts"), "url_name": "campaigns-dashboard:broadcasts",
             "access_fn": _staff_with("campaigns.view_broadcast")},
            {"label": _("Results"), "url_name": "campaigns-dashboard:results-list",
             "access_fn": _staff_with("campaigns.view_campaign_results")},
        ],
    },
    {
        "label": _("Content"),
        "icon": "fas fa-pen-nib",
        "url_name": "wagtailadmin_home",
        "access_fn": lambda user, *args: user.has_perm("wagtailadmin.access_admin"),
    },
    {
        "label": _("Recommender"),
        "icon": "fas fa-magic",
        "children": [
            {"label": _("Model versions"), "url_name": "recommender-dashboard:versions",
             "access_fn": _staff_with("recommender.view_modelversion")},
            {"label": _("Slot report"), "url_name": "recommender-dashboard:slots",
             "access_fn": _staff_with("recommender.view_modelversion")},
            {"label": _("A/B tests"), "url_name": "recommender-dashboard:experiments",
             "access_fn": _staff_with("recommender.view_experiment")},
            {"label": _("Merchandising"), "url_name": "recommender-dashboard:rules",
             "access_fn": _staff_with("recommender.view_merchandisingrule")},
            {"label": _("Repeat purchase"), "url_name": "recommender-dashboard:repurchase",
             "access_fn": _staff_with("recommender.view_repurchasepolicy")},
        ],
    },
    {
        "label": _("Tracking"),
        "icon": "fas fa-satellite-dish",
        "children": [
            {"label": _("Write keys"), "url_name": "tracking-dashboard:write-keys",
             "access_fn": _staff_with("tracking.view_writekey")},
            {"label": _("Live events"), "url_name": "tracking-dashboard:events",
             "access_fn": _staff_with("tracking.view_event")},
            {"label": _("Quarantine"), "url_name": "tracking-dashboard:quarantine",
             "access_fn": _staff_with("tracking.view_quarantinedevent")},
        ],
    },
]

# --- Wagtail ----------------------------------------------------------------------------

WAGTAIL_SITE_NAME = OSCAR_SHOP_NAME
WAGTAILADMIN_BASE_URL = SITE_URL
RECOMMENDER_EMAIL_BASE_URL = SITE_URL  # links in recommendation e-mail blocks
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "pdf", "pptx", "txt", "xlsx", "zip"]
# A CDN or reverse proxy keeping anonymous visitors' shared pages (docs/storefront.md) is told
# to drop a page when it, a promotion, a product or its stock changes (shop.pages.invalidation):
# FRONTEND_CACHE_PURGE_URL is where Varnish, nginx or Squid takes HTTP PURGE requests. For
# Cloudflare, CloudFront or Azure, set WAGTAILFRONTENDCACHE to their backend instead.
if config.env_str("FRONTEND_CACHE_PURGE_URL"):
    WAGTAILFRONTENDCACHE = {"default": {"BACKEND": "wagtail.contrib.frontend_cache.backends.HTTPBackend",
                                        "LOCATION": config.http_url("FRONTEND_CACHE_PURGE_URL")}}
