"""Every ``RECOMMENDER_*`` setting with its one default. Read them through ``setting()``."""

from django.conf import settings

DEFAULTS = {
    # Where trained model versions are written (a directory per version).
    "RECOMMENDER_MODEL_DIR": None,  # None: <BASE_DIR>/var/recommender
    # Overrides of recommender.config.DEFAULTS for the shop's training (weights, budget, ...).
    "RECOMMENDER_TRAINING": {},
    # How many recommendations per customer and neighbours per product are published.
    "RECOMMENDER_PUBLISH_TOP_N": 50,
    # Trained versions kept on disk (the serving one always is).
    "RECOMMENDER_KEEP_VERSIONS": 5,
    # The product attribute (its code) that names a product's brand, for content similarity.
    "RECOMMENDER_BRAND_ATTRIBUTE": "brand",
    # Redis key prefix for published lists.
    "RECOMMENDER_REDIS_PREFIX": "reco",
    # Each person's recent product activity (views, basket adds, purchases), fed in real time
    # from tracking: how many entries are kept, and for how long after their last activity.
    "RECOMMENDER_RECENT_ITEMS": 20,
    "RECOMMENDER_RECENT_TTL_SECONDS": 14 * 24 * 3600,
    # How many of the most recent distinct products drive "session" recommendations, and how
    # much each older one counts relative to the one after it (1: all equal).
    "RECOMMENDER_SESSION_ITEMS": 5,
    "RECOMMENDER_SESSION_DECAY": 0.7,
    # Where links and images in e-mail blocks point, e.g. "https://shop.example.com"
    # (None: https:// and the domain of Django's current Site).
    "RECOMMENDER_EMAIL_BASE_URL": None,
    # Up-sell ("you may also like"): similar items priced above the page's product, up to this
    # multiple of its price, come first (1.5: price in (p, 1.5 p]).
    "RECOMMENDER_UPSELL_PRICE_RATIO": 1.5,
    # At most this many items from one category in a slot (None or 0: no cap); the cap gives
    # way only when too few other candidates are left.
    "RECOMMENDER_CATEGORY_CAP": 3,
    # Whether products of a class with no repeat-purchase policy (dashboard: Recommender →
    # Repeat purchase) may be recommended again to someone who bought them.
    "RECOMMENDER_REPEATABLE_DEFAULT": False,
    # A scheduled retrain refits the serving version's configurations (chosen by its last full
    # search) on the new data; it searches again when the last search is this many days old,
    # when the number of interactions changed by more than this share since it, or when the
    # refit's holdout NDCG@10 falls by more than this share below what the search measured.
    # Staff can ask for a full search from the dashboard (or ``recommender_train --search``).
    "RECOMMENDER_SEARCH_EVERY_DAYS": 7,
    "RECOMMENDER_SEARCH_ON_GROWTH": 0.25,
    "RECOMMENDER_SEARCH_ON_DROP": 0.2,
    # How slots that depend on who is looking (recommender.slots.PERSON_SLOTS) render for
    # anonymous visitors: "inline" (their own list in the page's HTML) or "deferred" (the
    # fallback everybody gets in the HTML, so the page can be cached and shared, then their
    # own list fetched by recommender/deferred.js). Signed-in customers always get inline.
    "RECOMMENDER_SLOT_RENDERING": "deferred",
}


def setting(name: str):
    return getattr(settings, name, DEFAULTS[name])


def model_dir():
    from pathlib import Path

    return Path(setting("RECOMMENDER_MODEL_DIR") or Path(settings.BASE_DIR) / "var" / "recommender")
