"""Campaigns: triggered flows, broadcasts and order-status notices, sent exactly once through an outbox."""
from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    label = "campaigns"
    verbose_name = "Campaigns"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from campaigns import checks, receivers  # noqa: F401  registers checks; order-status notices
        from campaigns.order_status import event_types_ensure

        post_migrate.connect(event_types_ensure, sender=self, dispatch_uid="campaigns.event_types")

        from campaigns import occasions, stock_history  # noqa: F401  occasion at checkout; price history
        from campaigns.trigger_templates import event_types_ensure as trigger_event_types_ensure

        post_migrate.connect(trigger_event_types_ensure, sender=self, dispatch_uid="campaigns.trigger_event_types")
