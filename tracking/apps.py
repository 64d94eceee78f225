from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "tracking"
    label = "tracking"
    verbose_name = "Tracking"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tracking import checks, receivers  # noqa: F401  registers checks, connects Oscar's signals
