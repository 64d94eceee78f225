"""The support desk and the customer card in Oscar's dashboard."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.views.generic import DetailView, TemplateView

from ecrm.models import Profile
from ecrm.selectors import customer_orders, customer_search, customer_sessions, customer_timeline
from tracking.dashboard.views import StaffPermission

TABS = ("orders", "timeline", "sessions")


class CustomerSearchView(StaffPermission, TemplateView):
    """One box: e-mail (whole or part), phone, name, order number or anonymous id. A single
    exact hit (an order number, an anonymous id) could land on the card directly; the list
    is kept so that support sees when an identifier matches more than one person."""

    permission_required = "ecrm.view_profile"
    template_name = "ecrm/dashboard/customer_search.html"

    def get_context_data(self, **kwargs):
        query = self.request.GET.get("q", "").strip()
        return super().get_context_data(
            query=query, customers=customer_search(query) if query else [],
            too_short=bool(query) and len(query) < 2, **kwargs)


class CustomerCardView(StaffPermission, DetailView):
    permission_required = "ecrm.view_profile"
    template_name = "ecrm/dashboard/customer_card.html"
    context_object_name = "profile"

    def get_object(self, queryset=None):
        return get_object_or_404(Profile.objects.select_related("user"), pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        tab = self.request.GET.get("tab", "orders")
        tab = tab if tab in TABS else "orders"
        profile = self.object
        loaders = {"orders": customer_orders, "timeline": customer_timeline, "sessions": customer_sessions}
        return super().get_context_data(tab=tab, tabs=TABS, rows=loaders[tab](profile), **kwargs)
