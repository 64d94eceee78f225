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
    # Redis key prefix for published lists.
    "RECOMMENDER_REDIS_PREFIX": "reco",
    # Where links and images in e-mail blocks point, e.g. "https://shop.example.com"
    # (None: https:// and the domain of Django's current Site).
    "RECOMMENDER_EMAIL_BASE_URL": None,
}


def setting(name: str):
    return getattr(settings, name, DEFAULTS[name])


def model_dir():
    from pathlib import Path

    return Path(setting("RECOMMENDER_MODEL_DIR") or Path(settings.BASE_DIR) / "var" / "recommender")
