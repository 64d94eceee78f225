"""Order-status notices: every move along OSCAR_ORDER_STATUS_PIPELINE sends the customer a
transactional e-mail from an Oscar communication event type, one per status
(``ORDER_STATUS_SHIPPED``, ...), which staff edit under dashboard → Content → Email templates.

Carrier and tracking number come from Oscar's own record of a shipment: the shipping event
staff create on the order's lines in the dashboard (event type "Shipped"), whose reference
Oscar keeps in ``ShippingEvent.notes``. Staff type the carrier and number there
("Royal Mail JD014600003GB", "DPD 15501234567890") or paste a tracking URL; a known carrier
becomes a link (CAMPAIGNS_CARRIER_TRACKING_URLS). Create the shipping event before setting
the status to Shipped: the message is rendered when it is sent, from what the order has then.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.template.loader import get_template
from django.template import TemplateDoesNotExist
from oscar.core.loading import get_model

from campaigns.defaults import setting
from campaigns.models import Message
from campaigns.outbox import message_enqueue
from campaigns.tokens import order_status_url

Order = get_model("order", "Order")
CommunicationEventType = get_model("communication", "CommunicationEventType")
ShippingEventType = get_model("order", "ShippingEventType")
SOURCE = "order-status"
GENERIC = "campaigns/email/order_status_generic_{part}"
_silenced: ContextVar[bool] = ContextVar("campaigns_order_notices_silenced", default=False)


@contextmanager
def notices_silenced():
    """Status changes inside send nobody anything: for replaying history (the demo seeder,
    an import of past orders), where a "your order has shipped" e-mail would be wrong."""
    token = _silenced.set(True)
    try:
        yield
    finally:
        _silenced.reset(token)


def event_code(status: str) -> str:
    return "ORDER_STATUS_" + re.sub(r"[^0-9A-Z]+", "_", status.upper()).strip("_")


def notified_statuses() -> list[str]:
    """Every status an order can move into (the pipeline's targets), less the silent ones."""
    pipeline = getattr(settings, "OSCAR_ORDER_STATUS_PIPELINE", {})
    targets = {status for nexts in pipeline.values() for status in nexts}
    silent = set(setting("CAMPAIGNS_SILENT_ORDER_STATUSES"))
    return [status for status in pipeline if status in targets and status not in silent]


def _has_file_template(code: str) -> bool:
    try:
        get_template(CommunicationEventType.email_subject_template_file % code.lower())
        return True
    except TemplateDoesNotExist:
        return False


def event_type_for(status: str):
    """The status's event type, created if missing: file templates when the store ships them
    (``commtype_order_status_<status>_*``), else the generic wording in the database fields,
    where staff can edit it."""
    code = event_code(status)
    event_type = CommunicationEventType.objects.filter(code=code).first()
    if event_type is None:
        defaults = {"name": f"Order status: {status}", "category": CommunicationEventType.ORDER_RELATED}
        if not _has_file_template(code):
            loader = get_template(GENERIC.format(part="subject.txt")).template.source
            defaults.update(email_subject_template=loader.strip(),
                            email_body_html_template=get_template(GENERIC.format(part="body.html")).template.source)
        event_type, _created = CommunicationEventType.objects.get_or_create(code=code, defaults=defaults)
    return event_type


def event_types_ensure(**kwargs) -> None:
    """``post_migrate``: an event type per notified status, and Oscar's "Shipped" shipping event type."""
    for status in notified_statuses():
        event_type_for(status)
    ShippingEventType.objects.get_or_create(code="shipped", defaults={"name": "Shipped"})


def notice_enqueue(*, change) -> Message | None:
    """The notice for this status change (Oscar's ``OrderStatusChange`` row), once."""
    order, old_status, new_status = change.order, change.old_status, change.new_status
    if _silenced.get() or new_status not in notified_statuses() or not order.email:
        return None
    person_key = str(order.user_id) if order.user_id else f"email:{order.guest_email.strip().lower()}"
    message, _created = message_enqueue(
        key=f"{SOURCE}:{order.pk}:{change.pk}", source_kind=SOURCE, source_id=order.number,
        kind=Message.TRANSACTIONAL, person_key=person_key, user=order.user, to_email=order.email,
        template=event_type_for(new_status).code,
        context={"order_id": order.pk, "status": new_status, "previous_status": old_status,
                 "status_change_id": change.pk})
    return message


def tracking_of(order) -> dict | None:
    """{"carrier", "number", "url", "event"} from the order's latest shipping event with a reference."""
    event = order.shipping_events.exclude(notes="").select_related("event_type").order_by("-date_created").first()
    if event is None:
        return None
    reference = event.notes.strip()
    url = re.search(r"https?://\S+", reference)
    if url:
        return {"carrier": reference[:url.start()].strip(" :-"), "number": "", "url": url.group(0), "event": event}
    urls = setting("CAMPAIGNS_CARRIER_TRACKING_URLS")
    for carrier in sorted(urls, key=len, reverse=True):
        if reference.lower().startswith(carrier + " ") or reference.lower().startswith(carrier + ":"):
            number = reference[len(carrier):].strip(" :-")
            return {"carrier": reference[:len(carrier)], "number": number,
                    "url": urls[carrier].format(number=number), "event": event}
    carrier, _space, number = reference.rpartition(" ")
    return {"carrier": carrier, "number": number or reference, "url": "", "event": event}


def status_history(order) -> list:
    return list(order.status_changes.order_by("date_created", "pk"))


def message_context(message: Message) -> dict:
    """Template context of an order-status notice (``CONTEXT_BUILDERS``)."""
    order = Order.objects.select_related("user", "shipping_address").get(pk=message.context["order_id"])
    return {"order": order, "status": message.context["status"],
            "previous_status": message.context.get("previous_status"),
            "tracking": tracking_of(order), "status_url": order_status_url(order),
            "lines": list(order.lines.all())}
