"""Inside the tracking consumer's transaction: mark the people whose events it just stored, and
record the batch as pending for the reports' daily aggregates. Both are counted moments later,
off the consumer's path: ``ecrm.tasks.refresh_marked_profiles`` recomputes the profiles,
``ecrm.tasks.apply_pending_aggregates`` counts the batches (``ecrm.aggregates_pending``).
Oscar's orders are kept with their resolved customer as they are saved (``ecrm.customer_orders``)."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_delete, post_migrate, post_save
from django.dispatch import receiver
from oscar.core.loading import get_model

from ecrm.models import ProfileRefresh
from ecrm.services import persons_of
from tracking.signals import events_stored

Order = get_model("order", "Order")


@receiver(events_stored, dispatch_uid="ecrm.events_stored")
def mark_profiles_of_stored_events(sender, events, identities=None, **kwargs):
    # A savepoint: if this fails, the events are stored all the same (tracking logs the
    # error) and the scheduled rebuild brings the profiles back in line. One read of the
    # visitors' links (shared with the other receivers), the owners' links, one insert.
    with transaction.atomic():
        persons = persons_of(events, linked=identities.people if identities is not None else None)
        ProfileRefresh.objects.bulk_create(
            [ProfileRefresh(person_key=person) for person in sorted(persons)], ignore_conflicts=True)


@receiver(events_stored, dispatch_uid="ecrm.events_stored.aggregates")
def queue_stored_events_for_the_daily_aggregates(sender, events, **kwargs):
    """One row naming the batch's events, committed with them (``ecrm.aggregates_pending``)."""
    from ecrm.aggregates_pending import batch_record

    with transaction.atomic():  # a failure is logged by tracking; ecrm_rebuild_aggregates repairs
        batch_record(events)


@receiver(post_save, sender=Order, dispatch_uid="ecrm.order_saved.customer_orders")
def keep_the_orders_customer(sender, instance, **kwargs):
    """Placed, re-dated, cancelled or re-totalled: the order's ``CustomerOrder`` row follows."""
    from ecrm.customer_orders import customer_orders_refresh

    customer_orders_refresh(order_ids=[instance.pk])


@receiver(post_delete, sender=Order, dispatch_uid="ecrm.order_deleted.customer_orders")
def forget_the_orders_customer(sender, instance, **kwargs):
    from ecrm.models import CustomerOrder

    CustomerOrder.objects.filter(order_id=instance.pk).delete()


@receiver(post_migrate, dispatch_uid="ecrm.post_migrate.customer_orders")
def resolve_the_customers_of_existing_orders(sender, app_config=None, using="default", **kwargs):
    """A store upgrading to ``CustomerOrder`` has orders but no rows yet: ``migrate`` fills
    them (as ``ecrm_rebuild_aggregates --customers`` would), once every table is current."""
    from ecrm.customer_orders import customer_orders_refresh
    from ecrm.models import CustomerOrder

    if getattr(app_config, "label", None) != "ecrm" or using != "default":
        return
    if Order.objects.exists() and not CustomerOrder.objects.exists():
        customer_orders_refresh()
