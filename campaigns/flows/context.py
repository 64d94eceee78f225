"""The "flow-step" context builder (``campaigns.rendering.CONTEXT_BUILDERS``): a flow
message's ids become the objects its template uses, at send time, as the trigger contract
names them (campaigns/triggers/base.py): ``basket``, ``order``, ``products`` (in the
trigger's order), ``category``, ``segment``, ``occasion``, ``voucher`` (after a voucher
step), ``recommendations`` (the recommender's e-mail block, seeded with the first product)
and ``flow``/``step``. ``customer`` comes from the common context."""

from __future__ import annotations

import logging

from django.apps import apps
from oscar.core.loading import get_model

logger = logging.getLogger(__name__)


def _one(app: str, model: str, pk):
    if pk in (None, "") or not str(pk).isdigit():
        return None
    try:
        Model = get_model(app, model)
    except LookupError:
        return None
    return Model._default_manager.filter(pk=int(pk)).first()


def _occasion(pk):
    """Occasions are the triggers' (a gift recipient and date captured at checkout)."""
    for label in ("campaigns", "shop"):
        try:
            return _one(label, "Occasion", pk) if apps.get_model(label, "Occasion") else None
        except LookupError:
            continue
    return None


def message_context(message) -> dict:
    from campaigns.flow_models import Flow, FlowStep

    ids = message.context
    Product = get_model("catalogue", "Product")
    wanted = [int(p) for p in ids.get("product_ids") or [] if str(p).isdigit()]
    found = Product.objects.in_bulk(wanted)
    products = [found[pk] for pk in wanted if pk in found]
    context = {
        "flow": Flow.objects.filter(pk=ids.get("flow_id")).first() if ids.get("flow_id") else None,
        "step": FlowStep.objects.filter(pk=ids.get("step_id")).first() if ids.get("step_id") else None,
        "basket": _one("basket", "Basket", ids.get("basket_id")),
        "order": _one("order", "Order", ids.get("order_id")),
        "products": products,
        "category": _one("catalogue", "Category", ids.get("category_id")),
        "segment": _one("ecrm", "Segment", ids.get("segment_id")),
        "occasion": _occasion(ids.get("occasion_id")),
        "voucher": _one("voucher", "Voucher", ids.get("voucher_id")),
    }
    if message.channel == "email":
        context["recommendations"] = _recommendations(message, products)
    return context


def _recommendations(message, products):
    """The recommender's e-mail block for the customer (impressions counted: this is the
    e-mail being sent). A recommender that cannot answer leaves the block out, not the e-mail."""
    from recommender.email import recommendations_block

    try:
        return recommendations_block(message.person_key, email=f"flow-{message.context.get('flow_id') or 'x'}",
                                     product=products[0] if products else None,
                                     link_parameters={"utm_source": "ecrm", "utm_medium": "email",
                                                      "utm_campaign": message.campaign or "flow"})
    except Exception:  # noqa: BLE001 - logged; the message goes without recommendations
        logger.exception("message %s: recommendations unavailable", message.pk)
        return None
