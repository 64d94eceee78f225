"""Apply simulated events to the store through the same entry points live traffic uses.

Views, searches, basket additions and checkout starts are Oscar's signals,
sent with a request built from the session's context (landing page,
referrer, UTM fields, device) just as Oscar's views send them; baskets are
Oscar baskets; orders go through Oscar's ``OrderCreator``; status changes
through ``Order.set_status``. Anything that listens to those entry points
(Oscar's analytics today, the tracking app next) sees the demo as real
traffic. This module is the one place to change when new entry points exist.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import RequestFactory
from oscar.apps.basket.signals import basket_addition
from oscar.apps.catalogue.signals import product_viewed
from oscar.apps.checkout.signals import start_checkout
from oscar.apps.search.signals import user_search
from oscar.core.loading import get_class, get_model

from campaigns.order_status import notices_silenced
from shop.demo.generate import CustomerSpec
from shop.demo.simulation import Event
from tracking.basket import basket_lines, record_cart_viewed, record_removals
from tracking.context import current_request, event_time
from tracking.defaults import setting as tracking_setting

Basket = get_model("basket", "Basket")
Line = get_model("basket", "Line")
UserProductView = get_model("analytics", "UserProductView")
UserSearch = get_model("analytics", "UserSearch")
Order = get_model("order", "Order")
ShippingAddress = get_model("order", "ShippingAddress")
Country = get_model("address", "Country")
OrderCreator = get_class("order.utils", "OrderCreator")
OrderTotalCalculator = get_class("checkout.calculators", "OrderTotalCalculator")
Repository = get_class("shipping.repository", "Repository")
Selector = get_class("partner.strategy", "Selector")

USER_AGENTS = {
    "desktop": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
    "mobile": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "tablet": "Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
}


class StoreSink:
    """Applies one shopper's events at a time; keeps per-shopper state between events."""

    def __init__(self, products_by_upc: dict):
        self.products = products_by_upc
        self.factory = RequestFactory()
        self.gb = Country.objects.get(iso_3166_1_a2="GB")
        self.counts = {"orders": 0, "status_changes": 0, "views": 0, "searches": 0,
                       "basket_additions": 0, "sessions": 0}

    def apply(self, events: list[Event], *, anonymous_id: str, user=None,
              customer: CustomerSpec | None = None) -> None:
        state = _ShopperState(user or AnonymousUser(), customer)
        state.anonymous_id = anonymous_id
        analytics = _AnalyticsClock(state.user)
        for event in events:
            handler = getattr(self, "_" + event.name.lower().replace(" ", "_"), None)
            if handler is None:
                continue
            # Everything the store records about this action happened at the simulated time.
            clock = event_time.set(event.timestamp)
            if state.request is not None and event.name != "Session Started":
                state.request = self._page(state, event)
            request = current_request.set(state.request)
            try:
                handler(state, event)
                analytics.happened(event)
            finally:
                current_request.reset(request)
                event_time.reset(clock)
        analytics.backdate()
        if state.basket is not None and state.basket.pk and not state.basket.is_empty:
            # Left behind: an open, abandoned basket, dated when it was started.
            Basket.objects.filter(pk=state.basket.pk).update(date_created=state.basket_started)

    # --- sessions and browsing ------------------------------------------------------

    def _session_started(self, state: _ShopperState, event: Event) -> None:
        props = event.properties
        query = urlencode(props.get("utm", {}))
        landing = props["landing_page"]
        product = self.products.get(landing.strip("/").rsplit("/", 1)[-1])
        path = (product.get_absolute_url() if product is not None else landing) + (
            f"?{query}" if query else "")
        state.device = props["device"]
        state.request = self._request(state, path, referrer=props.get("referrer", ""),
                                      session_id=event.session_id)
        state.landed = True
        self.counts["sessions"] += 1

    def _request(self, state: _ShopperState, path: str, *, referrer: str, session_id: str):
        request = self.factory.get(path, HTTP_REFERER=referrer, REMOTE_ADDR="127.0.0.1",
                                   HTTP_USER_AGENT=USER_AGENTS[state.device])
        request.user = state.user
        request.session = {}
        # What tracking's middleware, Oscar's basket middleware and the browser's cookies
        # give a live request.
        request.tracking_anonymous_id = state.anonymous_id
        request.COOKIES[tracking_setting("TRACKING_SESSION_COOKIE")] = session_id
        if state.basket is not None:
            request.basket = state.basket
        return request

    def _page(self, state: _ShopperState, event: Event):
        """The request of the page this event happened on, reached from the previous page."""
        props, previous = event.properties, state.request
        product = self.products.get(props.get("upc", ""))
        if event.name in ("Product Viewed", "Product Added") and product is not None:
            path = product.get_absolute_url()
        elif event.name == "Products Searched":
            path = "/search/?" + urlencode({"q": props["query"]})
        elif event.name in ("Product Removed", "Cart Viewed"):
            path = "/basket/"
        elif event.name in ("Checkout Started", "Order Completed"):
            path = "/checkout/"
        else:
            return previous
        landed, state.landed = state.landed, False
        if landed and previous.path == path:
            # The session's first event happens on the landing page itself: its request
            # carries the visit's external referrer and UTM fields, which make its source.
            return previous
        return self._request(state, path, referrer=previous.build_absolute_uri(),
                             session_id=previous.COOKIES[tracking_setting("TRACKING_SESSION_COOKIE")])

    def _product_viewed(self, state: _ShopperState, event: Event) -> None:
        product = self.products[event.properties["upc"]]
        # Oscar's own receivers keep a recently-viewed cookie on the response.
        product_viewed.send(sender=StoreSink, product=product, user=state.user,
                            request=state.request, response=HttpResponse())
        self.counts["views"] += 1

    def _products_searched(self, state: _ShopperState, event: Event) -> None:
        user_search.send(sender=StoreSink, session=state.request.session, user=state.user,
                         query=event.properties["query"])
        self.counts["searches"] += 1

    # --- basket and checkout ----------------------------------------------------------

    def _product_added(self, state: _ShopperState, event: Event) -> None:
        basket = state.open_basket(event.timestamp)
        state.request.basket = basket  # tracking reads the cart id and price from it
        product = self.products[event.properties["upc"]]
        basket.add_product(product, event.properties["quantity"])
        # The line is dated by the simulated clock, not the seeding machine's.
        Line.objects.filter(basket=basket, product=product, date_created__gt=event.timestamp).update(
            date_created=event.timestamp, date_updated=event.timestamp)
        basket_addition.send(sender=StoreSink, product=product, user=state.user,
                             request=state.request)
        self.counts["basket_additions"] += 1

    def _product_removed(self, state: _ShopperState, event: Event) -> None:
        if state.basket is not None:
            # As the basket page does: tracking compares the lines before and after.
            state.request._tracking_lines_before = basket_lines(state.request)
            state.basket.lines.filter(product=self.products[event.properties["upc"]]).delete()
            state.basket.reset_offer_applications()
            record_removals(state.request)

    def _cart_viewed(self, state: _ShopperState, event: Event) -> None:
        if state.basket is not None:
            record_cart_viewed(state.request)

    def _checkout_started(self, state: _ShopperState, event: Event) -> None:
        start_checkout.send(sender=StoreSink, request=state.request)

    def _order_completed(self, state: _ShopperState, event: Event) -> None:
        basket = state.basket
        if basket is None or basket.is_empty or state.customer is None:
            return
        basket.reset_offer_applications()
        customer = state.customer
        address = ShippingAddress(
            first_name=customer.first_name, last_name=customer.last_name, line1=customer.line1,
            line4=customer.city, postcode=customer.postcode, country=self.gb,
            phone_number=customer.phone,
        )
        address.save()  # as Oscar's checkout does before placing the order
        method = Repository().get_default_shipping_method(
            basket=basket, user=state.user, shipping_addr=address, request=state.request
        )
        charge = method.calculate(basket)
        total = OrderTotalCalculator(request=state.request).calculate(basket, charge)
        order = OrderCreator().place_order(
            basket=basket, total=total, shipping_method=method, shipping_charge=charge,
            user=state.user, shipping_address=address,
            order_number=event.properties["order_number"], request=state.request,
        )
        basket.submit()
        order.date_placed = event.timestamp  # saved, so ecrm's CustomerOrder row follows (post_save)
        order.save(update_fields=["date_placed"])
        Basket.objects.filter(pk=basket.pk).update(
            date_created=state.basket_started, date_submitted=event.timestamp
        )
        state.orders[order.number] = order
        state.basket = None
        self.counts["orders"] += 1

    # --- fulfilment -------------------------------------------------------------------------

    def _order_updated(self, state: _ShopperState, event: Event) -> None:
        order = state.orders.get(event.properties["order_number"])
        if order is None:
            return
        status = event.properties["status"]
        with notices_silenced():  # history being replayed: no "your order has shipped" e-mails
            order.set_status(status)
        order.status_changes.filter(new_status=status).update(date_created=event.timestamp)
        self.counts["status_changes"] += 1

    _order_cancelled = _order_updated
    _order_refunded = _order_updated


class _AnalyticsClock:
    """Oscar's analytics receivers date a signed-in shopper's product views and searches by
    the real clock: give them the simulated times, in one update per shopper."""

    MODELS = {"Product Viewed": UserProductView, "Products Searched": UserSearch}

    def __init__(self, user):
        self.user = user if user.is_authenticated else None
        self.times = {model: [] for model in self.MODELS.values()}
        self.after = {model: (model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0)
                      for model in self.MODELS.values()} if self.user else {}

    def happened(self, event: Event) -> None:
        model = self.MODELS.get(event.name)
        if self.user is not None and model is not None:
            self.times[model].append(event.timestamp)

    def backdate(self) -> None:
        for model, times in self.times.items():
            if not times:
                continue
            rows = list(model.objects.filter(user=self.user, pk__gt=self.after[model]).order_by("pk"))
            for row, when in zip(rows, times):
                row.date_created = when
            model.objects.bulk_update(rows, ["date_created"], batch_size=500)


class _ShopperState:
    def __init__(self, user, customer: CustomerSpec | None):
        self.user = user
        self.customer = customer
        self.request = None
        self.landed = False  # the request is a session's landing, not yet used by an event
        self.basket = None
        self.basket_started: datetime | None = None
        self.device = "desktop"
        self.orders: dict[str, object] = {}
        self.strategy = Selector().strategy(user=user if user.is_authenticated else None)

    def open_basket(self, when: datetime):
        if self.basket is None:
            owner = self.user if self.user.is_authenticated else None
            self.basket = Basket.objects.create(owner=owner)
            self.basket.strategy = self.strategy
            self.basket_started = when
        return self.basket
