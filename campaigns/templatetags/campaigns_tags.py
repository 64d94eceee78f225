from django import template

from campaigns.models import Message
from campaigns.order_status import SOURCE, status_history, tracking_of

register = template.Library()


@register.inclusion_tag("campaigns/partials/order_history.html")
def order_history(order):
    """The order's status timeline and the messages sent about it (the customer's account page)."""
    return {"order": order, "history": status_history(order), "tracking": tracking_of(order),
            "notices": Message.objects.filter(source_kind=SOURCE, source_id=order.number).order_by("created_at")}


@register.inclusion_tag("campaigns/partials/status_steps.html")
def order_status_steps(order):
    """The order's status timeline in one line (the customer's order history, one per order)."""
    return {"order": order, "history": status_history(order)}


@register.inclusion_tag("campaigns/partials/frequency_form.html", takes_context=True)
def marketing_frequency_form(context):
    """The preference centre's "how often" and "pause" form for the signed-in customer."""
    from campaigns.preferences import FrequencyForm, preference_of

    request = context["request"]
    preference = preference_of(request.user)
    form = FrequencyForm(initial={"frequency": preference.frequency if preference else "default"})
    return {"form": form, "preference": preference, "csrf_token": context.get("csrf_token")}
