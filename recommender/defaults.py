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
}


def setting(name: str):
    return getattr(settings, name, DEFAULTS[name])


def model_dir():
    from pathlib import Path

    return Path(setting("RECOMMENDER_MODEL_DIR") or Path(settings.BASE_DIR) / "var" / "recommender")
