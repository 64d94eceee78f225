from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import post_migrate


class ShopConfig(AppConfig):
    """The reference store: management commands, roles and periodic tasks."""

    name = "shop"
    label = "shop"
    verbose_name = "Reference store"

    def ready(self) -> None:
        from shop import roles

        if settings.REDIS_EMBEDDED:
            from shop.embedded_redis import ensure_running

            ensure_running(settings.BASE_DIR)
        # After every migrate, so the groups exist wherever the schema does. The permissions
        # they need are themselves created by post_migrate, app by app: the roles are synced
        # after the last installed app's (the store's pages, whose promotions Marketing edits).
        from django.apps import apps

        post_migrate.connect(roles.sync_role_groups_after_migrate, sender=list(apps.get_app_configs())[-1])
        post_migrate.connect(_prepare_media_after_migrate, sender=self)


def _prepare_media_after_migrate(sender, **kwargs) -> None:
    from shop.media import ensure_missing_image

    ensure_missing_image()
