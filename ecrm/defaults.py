"""Every ``ECRM_*`` setting with its one default. Read them through ``setting()``."""

from django.conf import settings

DEFAULTS = {
    # What customers may agree to hear about, per channel (e-mail, SMS): (slug, label).
    "ECRM_CONSENT_TOPICS": [("newsletter", "Newsletter"), ("offers", "Offers and discounts")],
    # More tabs on the customer card, from apps ecrm does not depend on (the recommender's):
    # dotted paths to functions f(profile, request) -> context, with ``name``, ``label`` and
    # ``template_name`` attributes.
    "ECRM_CARD_TABS": [],
    # Personal data held by apps ecrm does not depend on (campaigns' outbox, the recommender's
    # recent activity in Redis): dotted paths to objects with ``export(person) -> {file name:
    # data}``, ``plan(person) -> {label: count}`` and ``erase(person) -> {table label: rows}``,
    # called by the export and the erasure (inside its transaction) with ecrm.privacy.Person,
    # and optionally ``forget(person)``, called once the erasure has committed, for what is
    # kept outside the database.
    "ECRM_PERSONAL_DATA": [],
    # Predicted lifetime value: over how many months, discounted at what annual rate, and
    # how many days at the end of the order history the diagnostic holds out.
    "ECRM_CLV_HORIZON_MONTHS": 12,
    "ECRM_CLV_DISCOUNT_RATE": 0.1,
    "ECRM_CLV_HOLDOUT_DAYS": 90,
    # The Customers report's price bands: upper bounds (exclusive) of unit prices incl. tax.
    "ECRM_PRICE_BANDS": [10, 25, 50, 100, 250],
    # The KPI digest: the local hour from which beat's hourly run sends it, the weekday
    # of weekly digests offered first (0 = Monday), and the site address its links use
    # ("" = https:// and the Sites framework's current domain).
    "ECRM_DIGEST_SEND_HOUR": 7,
    "ECRM_DIGEST_DEFAULT_WEEKDAY": 0,
    "ECRM_SITE_URL": "",
}


def setting(name: str):
    return getattr(settings, name, DEFAULTS[name])
