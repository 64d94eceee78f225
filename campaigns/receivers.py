"""Oscar's order status changes become order-status notices in the outbox.

The receiver listens to the creation of Oscar's ``OrderStatusChange`` row rather than to
``order_status_changed``: Oscar sends that signal before it records the change, and the
row's id is what makes the outbox key unique per transition (a status entered twice gets
two notices; the same change seen twice gets one).
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from oscar.core.loading import get_model

from campaigns.order_status import notice_enqueue

logger = logging.getLogger(__name__)
OrderStatusChange = get_model("order", "OrderStatusChange")


@receiver(post_save, sender=OrderStatusChange, dispatch_uid="campaigns.order_status_change_saved")
def order_status_was_changed(sender, instance, created, raw=False, **kwargs):
    if not created or raw:
        return
    # In the status change's own transaction (the outbox row commits with it), in a savepoint:
    # a failure here is logged and does not undo the change staff just made.
    try:
        with transaction.atomic():
            notice_enqueue(change=instance)
    except Exception:  # noqa: BLE001 - logged with its traceback; the order keeps its new status
        logger.exception("order %s: the %s notice could not be queued", instance.order.number, instance.new_status)
