"""Which products an e-mail design's product grid and recommendations show.

Recommendations come from the recommender's e-mail slot (``recommender.email
.recommendations_block``): attributed to ``email:<design slug>``, with their tokens in the
links, impressions counted only for messages really sent (never for previews or tests).
"""

from __future__ import annotations

import re
import time

from oscar.core.loading import get_model

from recommender.email import EmailBlock, recommendations_block
from recommender.serving import recommendations_for
from recommender.slots import PRODUCT_SLOTS

Product = get_model("catalogue", "Product")
SHARED_SECONDS = 60
_SHARED: dict[tuple, tuple[float, list]] = {}


def email_name(design) -> str:
    """The recommender's e-mail name for a design: its slug as ``[a-z0-9_-]{1,40}``."""
    return re.sub(r"[^a-z0-9_-]", "-", (getattr(design, "slug", "") or "").lower())[:40] or "design"


def _newest(category, count: int) -> list:
    products = Product.objects.browsable().filter(is_public=True)
    if category is not None:
        products = products.filter(categories__in=category.get_descendants_and_self()).distinct()
    return list(products.order_by("-date_created", "-pk")[:count])


def _shared(source: str, category, count: int) -> list:
    """Newest or popular: the same for every recipient, so a broadcast looks them up once a
    minute per process rather than once per message."""
    key = (source, getattr(category, "pk", None), count)
    hit = _SHARED.get(key)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    products = []
    if source == "popular":
        products = [rec.product for rec in recommendations_for(slot="trending", category=category, k=count)]
    products = products or _newest(category, count)
    if len(_SHARED) > 256:
        _SHARED.clear()
    _SHARED[key] = (time.monotonic() + SHARED_SECONDS, products)
    return products


def grid_products(value, context: dict) -> list:
    """The products a grid shows: chosen ones (public only), the newest or most popular in a
    category (popular: the recommender's trending/popular lists, the newest when it has none
    yet), or the message's own (``products``: the basket's items, a price drop's product)."""
    source, count, category = value["source"], value["count"], value["category"]
    if source == "chosen":
        return [product for product in value["products"] if product is not None and product.is_public][:count]
    if source == "message":
        return list(context.get("products") or [])[:count]
    if context.get("preview"):
        _SHARED.pop((source, getattr(category, "pk", None), count), None)  # a preview shows the catalogue as it is
    return _shared(source, category, count)


def recommendations(value, context: dict) -> EmailBlock:
    """The recipient's recommendations block (empty when there is nothing to recommend)."""
    slot, products = value["slot"], list(context.get("products") or [])
    product = products[0] if products and slot in PRODUCT_SLOTS else None
    if slot in PRODUCT_SLOTS and product is None:
        slot = "for_you"
    return recommendations_block(context.get("person_key") or "", email=email_name(context.get("design")),
                                 slot=slot, product=product, k=value["count"], heading=value["heading"],
                                 columns=value["columns"], link_parameters=context.get("link_parameters"),
                                 count_impressions=not context.get("preview"))


def shared_products_clear(**kwargs) -> None:
    """Forget the newest/popular lists (connected to product changes; tests call it too)."""
    _SHARED.clear()
