"""Campaigns: triggered flows, broadcasts and order-status notices, sent exactly once through an outbox."""
from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    label = "campaigns"
    verbose_name = "Campaigns"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from campaigns import checks, occasions, receivers, stock_history  # noqa: F401  checks; order-status
        # notices; gift occasions at checkout; price and stock history for the triggers
        from campaigns.design_setup import starter_designs_after_migrate
        from campaigns.order_status import event_types_ensure
        from campaigns.trigger_templates import event_types_ensure as trigger_event_types_ensure

        post_migrate.connect(event_types_ensure, sender=self, dispatch_uid="campaigns.event_types")
        post_migrate.connect(starter_designs_after_migrate, sender=self, dispatch_uid="campaigns.starter_designs")
        post_migrate.connect(trigger_event_types_ensure, sender=self, dispatch_uid="campaigns.trigger_event_types")
        self._forget_shared_products_on_catalogue_changes()

    def _forget_shared_products_on_catalogue_changes(self) -> None:
        """A design's "newest"/"popular" grid is cached for a minute; a product saved or
        deleted in this process clears it at once."""
        from django.db.models.signals import post_delete, post_save
        from oscar.core.loading import get_model

        from campaigns.design_products import shared_products_clear

        for model in (get_model("catalogue", "Product"), get_model("catalogue", "ProductCategory")):
            post_save.connect(shared_products_clear, sender=model, dispatch_uid=f"campaigns.shared.save.{model.__name__}")
            post_delete.connect(shared_products_clear, sender=model,
                                dispatch_uid=f"campaigns.shared.delete.{model.__name__}")
