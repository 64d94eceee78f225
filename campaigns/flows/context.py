"""The "flow-step" context builder (``campaigns.rendering.CONTEXT_BUILDERS``): a flow
message's ids become the objects its template uses, at send time, as the trigger contract
names them (campaigns/triggers/base.py): ``basket``, ``order``, ``products`` (in the
trigger's order), ``category``, ``segment``, ``occasion``, ``voucher`` (after a voucher
step), ``recommendations`` (the recommender's e-mail block, seeded with the first product)
and ``flow``/``step``. ``customer`` comes from the common context."""

from __future__ import annotations

import logging

from campaigns.context_objects import objects_from_ids

logger = logging.getLogger(__name__)


def message_context(message) -> dict:
    from campaigns.flow_models import Flow, FlowStep

    ids = message.context
    context = {"basket": None, "order": None, "products": [], "category": None, "segment": None,
               "occasion": None, "voucher": None, **objects_from_ids(ids),
               "flow": Flow.objects.filter(pk=ids.get("flow_id")).first() if ids.get("flow_id") else None,
               "step": FlowStep.objects.filter(pk=ids.get("step_id")).first() if ids.get("step_id") else None}
    products = context["products"]
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
