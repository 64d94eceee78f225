"""Basket events Oscar has no signal for: Cart Viewed and Product Removed.

The middleware looks at the basket before and after the basket page handles
a request; lines that disappear or shrink there are removals the shopper
made. (A model signal would also fire for baskets merged at login.)
"""

from __future__ import annotations

from tracking.context import request_context
from tracking.receivers import _never_breaks_the_store, _product, _who
from tracking.services import event_record

BASKET_VIEWS = {"basket:summary"}


def _lines(request) -> dict[int, tuple]:
    basket = getattr(request, "basket", None)
    if basket is None or not basket.pk:
        return {}
    return {line.product_id: (line.product, line.quantity) for line in basket.all_lines()}


class BasketEventsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        record_removals(request)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = getattr(request, "resolver_match", None)
        if match is None or match.view_name not in BASKET_VIEWS:
            return None
        if request.method == "GET":
            self._cart_viewed(request)
        elif request.method == "POST":
            request._tracking_lines_before = _lines(request)
        return None

    @_never_breaks_the_store
    def _cart_viewed(self, request):
        lines = _lines(request)
        basket = request.basket
        event_record(event="Cart Viewed", context=request_context(request), properties={
            "cart_id": str(basket.pk) if basket.pk else "",
            "products": [_product(product, quantity=quantity) for product, quantity in lines.values()],
        }, **_who(request))


@_never_breaks_the_store
def record_removals(request) -> None:
    before = getattr(request, "_tracking_lines_before", None)
    if before is None:
        return
    after = _lines(request)
    for product_id, (product, quantity) in before.items():
        remaining = after.get(product_id, (product, 0))[1]
        if remaining < quantity:
            event_record(event="Product Removed", context=request_context(request),
                         properties={**_product(product, quantity=quantity - remaining),
                                     "cart_id": str(request.basket.pk)},
                         **_who(request))
