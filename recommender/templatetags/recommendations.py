"""``{% recommendations "slot" product=... category=... order=... k=4 as items %}`` for
templates: the shopper is taken from the request (their account, or the tracking cookie's
anonymous id), the basket from Oscar's middleware; ``order`` (an Oscar order) is what
``post_purchase`` is about. ``{% include "recommender/partials/slot.html" %}``
renders a slot whose links carry attribution tokens for the browser tracker, under the
slot's own heading unless ``title`` is given. An unknown slot name is a ValueError that
lists the slots."""

from django import template

from recommender.attribution import record_impressions
from recommender.serving import recommendations_for
from recommender.slots import slot_title as title_of

register = template.Library()


def person_of(request) -> str:
    if request is None:
        return ""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return str(user.pk)
    anonymous = getattr(request, "tracking_anonymous_id", "")
    return f"anon:{anonymous}" if anonymous else ""


@register.simple_tag(takes_context=True)
def recommendations(context, slot, product=None, category=None, order=None, k=4):
    request = context.get("request")
    person = person_of(request)
    products = [line.product_id for line in order.lines.all() if line.product_id] if order is not None else ()
    items = recommendations_for(slot=slot, person=person, product=product, category=category,
                                basket=getattr(request, "basket", None), products=products, k=int(k))
    record_impressions(items, slot, person)
    return items


@register.simple_tag
def slot_title(slot, category=None):
    """``{% slot_title "trending" category %}`` → "Trending in Tea"; other slots their heading."""
    return title_of(slot, category)
