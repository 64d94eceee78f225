"""Server-side events from Oscar's own signals, named as in Segment's e-commerce spec.

Which source owns which event, so nothing is counted twice: the server owns
every commerce fact (product viewed, searched, added, checkout, orders,
vouchers, reviews, sign-up and sign-in), because it sees them even when the
browser blocks scripts; the browser tracker owns page views, time on page
and clicks on recommendation slots, which only the browser sees.
"""

from __future__ import annotations

import functools
import logging

from django.contrib.auth.signals import user_logged_in
from django.db.models import prefetch_related_objects
from django.dispatch import receiver
from oscar.apps.basket.signals import basket_addition, voucher_addition, voucher_removal
from oscar.apps.catalogue.reviews.signals import review_added
from oscar.apps.catalogue.signals import product_viewed
from oscar.apps.checkout.signals import start_checkout
from oscar.apps.customer.signals import user_registered
from oscar.apps.order.signals import order_placed, order_status_changed
from oscar.apps.search.signals import user_search

from tracking.context import anonymous_id, current_request, request_context
from tracking.services import event_record

VOUCHER_ADD_VIEW = "basket:vouchers-add"  # its outcome is recorded by tracking.basket
STATUS_EVENTS = {"Cancelled": "Order Cancelled", "Refunded": "Order Refunded"}

logger = logging.getLogger(__name__)


def _never_breaks_the_store(receiver_function):
    """Tracking must not turn a page view or an order into an error page."""

    @functools.wraps(receiver_function)
    def wrapper(*args, **kwargs):
        try:
            return receiver_function(*args, **kwargs)
        except Exception:  # noqa: BLE001 - logged with its traceback, the store carries on
            logger.exception("tracking receiver %s failed", receiver_function.__name__)
            return None

    return wrapper


def _who(request, user=None) -> dict:
    user = user if user is not None else getattr(request, "user", None)
    user_id = str(user.pk) if user is not None and user.is_authenticated else ""
    return {"user_id": user_id, "anonymous_id": anonymous_id(request)}


def _product(product, *, quantity: int | None = None, price=None) -> dict:
    # categories.all() uses a prefetch when the caller made one (the demo seeder does).
    category = next(iter(product.categories.all()), None) if product.pk else None
    data = {"product_id": str(product.pk), "sku": product.upc or "", "name": product.get_title(),
            "category": category.name if category else ""}
    if price is not None:
        data["price"] = float(price)
    if quantity is not None:
        data["quantity"] = quantity
    return data


def _record(request, event: str, properties: dict, **kwargs) -> None:
    event_record(event=event, properties=properties, context=request_context(request),
                 **{**_who(request), **kwargs})


@receiver(product_viewed, dispatch_uid="tracking.product_viewed")
@_never_breaks_the_store
def product_was_viewed(sender, product, user, request=None, **kwargs):
    _record(request, "Product Viewed", _product(product))


@receiver(user_search, dispatch_uid="tracking.user_search")
@_never_breaks_the_store
def products_were_searched(sender, query, user, **kwargs):
    request = current_request.get()
    _record(request, "Products Searched", {"query": query})


@receiver(basket_addition, dispatch_uid="tracking.basket_addition")
@_never_breaks_the_store
def product_was_added(sender, product, user, request=None, **kwargs):
    basket = getattr(request, "basket", None)
    properties = _product(product)
    if basket is not None and basket.pk:
        properties["cart_id"] = str(basket.pk)
        # The price the line was added at, as stored: no stock or tax lookup on this hot path.
        line = basket.lines.filter(product=product).values(
            "quantity", "price_incl_tax", "price_excl_tax", "price_currency").first()
        if line is not None:
            price = line["price_incl_tax"] if line["price_incl_tax"] is not None else line["price_excl_tax"]
            properties.update(quantity=line["quantity"], price=float(price or 0),
                              currency=line["price_currency"])
    _record(request, "Product Added", properties)


@receiver(start_checkout, dispatch_uid="tracking.start_checkout")
@_never_breaks_the_store
def checkout_was_started(sender, request, **kwargs):
    basket = getattr(request, "basket", None)
    properties = {}
    if basket is not None and basket.pk:
        lines = basket.all_lines()
        prefetch_related_objects([line.product for line in lines], "categories")  # not per line
        properties = {"cart_id": str(basket.pk), "value": float(basket.total_incl_tax or 0),
                      "currency": basket.currency,
                      "products": [_product(line.product, quantity=line.quantity) for line in lines]}
    _record(request, "Checkout Started", properties)


def _coupon(event: str, basket, voucher) -> None:
    _record(current_request.get(), event, {"cart_id": str(basket.pk), "coupon_id": str(voucher.pk),
                                           "coupon_name": voucher.code})


@receiver(voucher_addition, dispatch_uid="tracking.voucher_addition")
@_never_breaks_the_store
def coupon_was_applied(sender, basket, voucher, **kwargs):
    request = current_request.get()
    match = getattr(request, "resolver_match", None)
    if match is not None and match.view_name == VOUCHER_ADD_VIEW:
        return  # Oscar may still take it out again: tracking.basket records what happened
    _coupon("Coupon Applied", basket, voucher)


@receiver(voucher_removal, dispatch_uid="tracking.voucher_removal")
@_never_breaks_the_store
def coupon_was_removed(sender, basket, voucher, **kwargs):
    _coupon("Coupon Removed", basket, voucher)


@receiver(review_added, dispatch_uid="tracking.review_added")
@_never_breaks_the_store
def product_was_reviewed(sender, review, user, request=None, **kwargs):
    _record(request, "Product Reviewed", {"product_id": str(review.product_id),
                                          "review_id": str(review.pk), "rating": review.score})


def _order_properties(order) -> dict:
    return {
        "order_id": order.number, "total": float(order.total_incl_tax),
        "revenue": float(order.total_excl_tax), "shipping": float(order.shipping_incl_tax),
        "tax": float(order.total_tax), "currency": order.currency, "status": order.status,
        "products": [
            {"product_id": str(line.product_id or ""), "sku": line.upc or "", "name": line.title,
             "quantity": line.quantity, "price": float(line.unit_price_incl_tax or 0)}
            for line in order.lines.all()
        ],
    }


def _order_owner(order) -> dict:
    """Order events belong to the order's customer, whoever raised them (staff, a task)."""
    return {"user_id": str(order.user_id) if order.user_id else "",
            "anonymous_id": "" if order.user_id else f"guest:{order.guest_email}"}


@receiver(order_placed, dispatch_uid="tracking.order_placed")
@_never_breaks_the_store
def order_was_placed(sender, order, user, **kwargs):
    request = current_request.get()
    owner = _order_owner(order)
    if request is not None and anonymous_id(request):
        owner["anonymous_id"] = anonymous_id(request)
    properties = _order_properties(order)
    if order.guest_email:
        properties["email"] = order.guest_email
    event_record(event="Order Completed", properties=properties, context=request_context(request),
                 message_id=f"order-{order.number}-completed", **owner)


@receiver(order_status_changed, dispatch_uid="tracking.order_status_changed")
@_never_breaks_the_store
def order_status_was_changed(sender, order, old_status, new_status, **kwargs):
    event = STATUS_EVENTS.get(new_status, "Order Updated")
    properties = {**_order_properties(order), "previous_status": old_status}
    event_record(event=event, properties=properties,
                 message_id=f"order-{order.number}-status-{old_status}-{new_status}",
                 **_order_owner(order))


@receiver(user_registered, dispatch_uid="tracking.user_registered")
@_never_breaks_the_store
def user_signed_up(sender, request, user, **kwargs):
    _identify(request, user)
    _record(request, "Signed Up", {"method": "email"}, user_id=str(user.pk))


@receiver(user_logged_in, dispatch_uid="tracking.user_logged_in")
@_never_breaks_the_store
def user_signed_in(sender, request, user, **kwargs):
    _identify(request, user)
    _record(request, "Signed In", {}, user_id=str(user.pk))


def _identify(request, user) -> None:
    """Tie the visitor's anonymous id to the customer: identity stitching's input."""
    event_record(call_type="identify", event="", properties={}, user_id=str(user.pk),
                 anonymous_id=anonymous_id(request), context=request_context(request),
                 traits={"email": user.email, "first_name": user.first_name,
                         "last_name": user.last_name})
