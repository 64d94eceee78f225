from django.apps import AppConfig


class EcrmConfig(AppConfig):
    name = "ecrm"
    label = "ecrm"
    verbose_name = "eCRM"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ecrm import receivers  # noqa: F401  keeps profiles current as events are stored
