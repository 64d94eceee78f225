"""Re-order a past order in one click, from the order history or an order's page.

Oscar's customer app already re-orders (``OrderDetailView.do_reorder``, the "Re-order all
items" button): each line is checked with ``Line.is_available_to_reorder`` against the
basket and Oscar's strategy (a stock record, availability, stock for the quantity), the
basket's size limit is respected and the lines are added with their options. This view is
that view with two changes a shopper notices:

* one message says what was added and names every line that could not be, with Oscar's
  reason ("'Copper kettle': no stock available"), instead of Oscar's bare reasons that do
  not say which product they are about;
* each line added sends Oscar's ``basket_addition`` signal, as the product page's button
  does, so tracking records "Product Added" and recommendations see the basket change.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from oscar.apps.basket.signals import basket_addition
from oscar.core.loading import get_class

OrderDetailView = get_class("customer.views", "OrderDetailView")


class OrderReorderView(LoginRequiredMixin, OrderDetailView):
    """POST only (with CSRF): the signed-in customer's own order, else 404."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        self.do_reorder(self.object)
        return self.response

    def do_reorder(self, order):
        basket, strategy = self.request.basket, self.request.strategy
        addable, refused = [], []
        for line in order.lines.select_related("product").prefetch_related("attributes__option"):
            available, reason = line.is_available_to_reorder(basket, strategy)
            if available:
                addable.append(line)
            else:
                refused.append(_named(reason, line))
        allowed, reason = basket.is_quantity_allowed(sum(line.quantity for line in addable))
        if not allowed:
            messages.warning(self.request, reason)
            self.response = redirect("customer:order-list")
            return
        for line in addable:
            options = [{"option": attribute.option, "value": attribute.value}
                       for attribute in self.get_line_attributes_to_copy(line) if attribute.option]
            basket.add_product(line.product, line.quantity, options)
            basket_addition.send(sender=self, product=line.product, user=self.request.user, request=self.request)
        if addable:
            added = sum(line.quantity for line in addable)
            messages.success(self.request, ngettext(
                "%(count)d item from order %(number)s is in your basket.",
                "%(count)d items from order %(number)s are in your basket.", added)
                % {"count": added, "number": order.number})
            self.response = redirect("basket:summary")
        else:
            self.response = redirect("customer:order-list")
        if refused:
            messages.warning(self.request, _("Could not be added: %(lines)s.") % {"lines": "; ".join(refused)})
        elif not addable:
            messages.warning(self.request, _("Order %(number)s has nothing to re-order.") % {"number": order.number})


def _named(reason, line) -> str:
    """Oscar's reason, naming the line's product when the reason does not already."""
    text = str(reason or _("not available"))
    return text if line.title in text else _("'%(title)s': %(reason)s") % {"title": line.title, "reason": text}
