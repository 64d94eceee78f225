"""Every ``ECRM_*`` setting with its one default. Read them through ``setting()``."""

from django.conf import settings

DEFAULTS = {
    # What customers may agree to hear about, per channel (e-mail, SMS): (slug, label).
    "ECRM_CONSENT_TOPICS": [("newsletter", "Newsletter"), ("offers", "Offers and discounts")],
}


def setting(name: str):
    return getattr(settings, name, DEFAULTS[name])
