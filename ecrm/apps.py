from django.apps import AppConfig


class EcrmConfig(AppConfig):
    name = "ecrm"
    label = "ecrm"
    verbose_name = "eCRM"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ecrm import checks, receivers  # noqa: F401  registers checks; keeps profiles current
