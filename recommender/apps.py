from django.apps import AppConfig


class RecommenderConfig(AppConfig):
    name = "recommender"
    label = "recommender"
    verbose_name = "Recommender"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from recommender import catalogue, checks, receivers, rules  # noqa: F401  product, stock and rule
        # changes reach serving; settings are checked; each person's recent activity follows tracking
