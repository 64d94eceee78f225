from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PagesConfig(AppConfig):
    name = "shop.pages"
    label = "pages"
    verbose_name = "Store pages"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from shop.pages import checks, invalidation  # noqa: F401  (the settings' checks; purging receivers)
        from shop.pages.setup import ensure_site_pages_after_migrate

        post_migrate.connect(ensure_site_pages_after_migrate, sender=self)
