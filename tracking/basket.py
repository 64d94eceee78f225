"""Basket events Oscar has no signal for: Cart Viewed, Product Removed, and the
voucher form's Coupon Entered / Applied / Denied.

The middleware looks at the basket before and after the basket page handles
a request; lines that disappear or shrink there are removals the shopper
made. (A model signal would also fire for baskets merged at login.) Oscar
sends ``voucher_addition`` before it checks that the basket qualifies, and
then silently takes a non-qualifying voucher out again, so the voucher form's
outcome is read from the basket after the view, not from the signal.
"""

from __future__ import annotations

from django.db.models import prefetch_related_objects

from tracking.context import request_context
from tracking.receivers import VOUCHER_ADD_VIEW
from tracking.receivers import _never_breaks_the_store, _product, _who
from tracking.services import event_record

BASKET_VIEWS = {"basket:summary", VOUCHER_ADD_VIEW}


def basket_lines(request) -> dict[int, tuple]:
    basket = getattr(request, "basket", None)
    if basket is None or not basket.pk:
        return {}
    lines = {line.product_id: (line.product, line.quantity) for line in basket.all_lines()}
    # Each event names the product's category: one query for all lines, not one per line.
    prefetch_related_objects([product for product, _quantity in lines.values()], "categories")
    return lines


class BasketEventsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        record_removals(request)
        record_coupon_outcome(request)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = getattr(request, "resolver_match", None)
        if match is None or match.view_name not in BASKET_VIEWS:
            return None
        if request.method == "GET" and match.view_name != VOUCHER_ADD_VIEW:
            record_cart_viewed(request)
        elif request.method == "POST" and match.view_name == VOUCHER_ADD_VIEW:
            request._tracking_coupon_code = request.POST.get("code", "").strip().upper()[:128]
        elif request.method == "POST":
            request._tracking_lines_before = basket_lines(request)
        return None


@_never_breaks_the_store
def record_cart_viewed(request) -> None:
    """The shopper looked at their basket (the basket page, or an importer replaying it)."""
    lines = basket_lines(request)
    basket = request.basket
    event_record(event="Cart Viewed", context=request_context(request), properties={
        "cart_id": str(basket.pk) if basket.pk else "",
        "products": [_product(product, quantity=quantity) for product, quantity in lines.values()],
    }, **_who(request))


@_never_breaks_the_store
def record_removals(request) -> None:
    """Lines that shrank since ``request._tracking_lines_before`` (a ``basket_lines`` snapshot)."""
    before = getattr(request, "_tracking_lines_before", None)
    if before is None:
        return
    after = basket_lines(request)
    for product_id, (product, quantity) in before.items():
        remaining = after.get(product_id, (product, 0))[1]
        if remaining < quantity:
            event_record(event="Product Removed", context=request_context(request),
                         properties={**_product(product, quantity=quantity - remaining),
                                     "cart_id": str(request.basket.pk)},
                         **_who(request))


@_never_breaks_the_store
def record_coupon_outcome(request) -> None:
    code = getattr(request, "_tracking_coupon_code", "")
    if not code:
        return
    basket = request.basket
    cart = {"cart_id": str(basket.pk) if basket.pk else "", "coupon_name": code}
    _record_coupon(request, "Coupon Entered", cart)
    voucher = next((v for v in basket.vouchers.all() if v.code.upper() == code), None) if basket.pk else None
    if voucher is not None:
        _record_coupon(request, "Coupon Applied", {**cart, "coupon_id": str(voucher.pk)})
        return
    # Oscar said why in the message it queued for the shopper (expired, not found, ...).
    queued = getattr(getattr(request, "_messages", None), "_queued_messages", [])
    reason = str(queued[-1].message) if queued else "the voucher was not applied"
    _record_coupon(request, "Coupon Denied", {**cart, "reason": reason})


def _record_coupon(request, event: str, properties: dict) -> None:
    event_record(event=event, context=request_context(request), properties=properties, **_who(request))
