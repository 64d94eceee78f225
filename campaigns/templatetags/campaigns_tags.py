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


@register.simple_tag
def occasion_checkout_form():
    """The optional gift-occasion fields of the checkout preview (saved by campaigns.occasions)."""
    from campaigns.occasions import PREFIX, OccasionForm

    return OccasionForm(prefix=PREFIX, use_required_attribute=False)


def _absolute(url: str) -> str:
    from campaigns.defaults import setting

    return url if url.startswith(("http://", "https://")) else setting("CAMPAIGNS_BASE_URL").rstrip("/") + url


@register.filter
def absolute_url(url) -> str:
    """A site path as an absolute link (CAMPAIGNS_BASE_URL), as e-mail clients need."""
    return _absolute(str(url or "/"))


def _product_cards(products) -> list[dict]:
    from oscar.core.loading import get_class

    strategy = get_class("partner.strategy", "Selector")().strategy()
    cards = []
    for product in products or ():
        info = strategy.fetch_for_product(product) if not product.is_parent else strategy.fetch_for_parent(product)
        price = info.price
        amount = (price.incl_tax if price.is_tax_known else price.excl_tax) if price.exists else None
        image = product.primary_image()
        original = getattr(image, "original", None)
        cards.append({"product": product, "title": product.get_title(), "url": _absolute(product.get_absolute_url()),
                      "price": f"{amount} {price.currency}" if amount is not None else "",
                      "image": _absolute(original.url) if original else "",
                      "available": info.availability.is_available_to_buy})
    return cards


@register.inclusion_tag("campaigns/email/products.html")
def email_products(products, button="See it"):
    """Products as an e-mail grid: image, title, price and an absolute link (two to a row)."""
    cards = _product_cards(products)
    return {"rows": [cards[i:i + 2] for i in range(0, len(cards), 2)], "button": button}


@register.inclusion_tag("campaigns/email/products.txt")
def email_products_text(products):
    return {"cards": _product_cards(products)}
