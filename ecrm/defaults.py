"""Every ``ECRM_*`` setting with its one default. Read them through ``setting()``."""

from django.conf import settings

DEFAULTS = {
    # What customers may agree to hear about, per channel (e-mail, SMS): (slug, label).
    "ECRM_CONSENT_TOPICS": [("newsletter", "Newsletter"), ("offers", "Offers and discounts")],
    # More tabs on the customer card, from apps ecrm does not depend on (the recommender's):
    # dotted paths to functions f(profile, request) -> context, with ``name``, ``label`` and
    # ``template_name`` attributes.
    "ECRM_CARD_TABS": [],
    # What other apps hold on a customer outside the database (the recommender's recent
    # activity in Redis): dotted paths to functions f(*, person_keys, anonymous_ids) that an
    # erasure calls once it has committed.
    "ECRM_ERASURE_HOOKS": [],
    # Predicted lifetime value: over how many months, discounted at what annual rate, and
    # how many days at the end of the order history the diagnostic holds out.
    "ECRM_CLV_HORIZON_MONTHS": 12,
    "ECRM_CLV_DISCOUNT_RATE": 0.1,
    "ECRM_CLV_HOLDOUT_DAYS": 90,
}


def setting(name: str):
    return getattr(settings, name, DEFAULTS[name])
