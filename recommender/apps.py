from django.apps import AppConfig


class RecommenderConfig(AppConfig):
    name = "recommender"
    label = "recommender"
    verbose_name = "Recommender"
    default_auto_field = "django.db.models.BigAutoField"
