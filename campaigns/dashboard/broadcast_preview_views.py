"""A broadcast's preview as one of its recipients, and a test send to a staff address
(``campaigns.broadcast_preview``). Anyone who may see broadcasts may preview; sending a test
needs ``campaigns.change_broadcast``; choosing any customer by search needs the support
desk's right to see customers (``ecrm.view_profile``) — otherwise the choice is among the
broadcast's first recipients."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from campaigns.broadcast_preview import broadcast_preview, broadcast_test_send
from campaigns.broadcasts import audience_queryset
from campaigns.models import Broadcast
from campaigns.rendering import RenderError
from ecrm.models import Profile
from ecrm.selectors import customer_search
from campaigns.dashboard.test_sends import TestForm, test_send_reported
from tracking.dashboard.views import StaffPermission

SAMPLE = 10


class PreviewForm(forms.Form):
    q = forms.CharField(required=False, max_length=200)
    customer = forms.IntegerField(required=False, min_value=1)


def _recipients(broadcast: Broadcast) -> list[Profile]:
    """The first few customers the broadcast would go to (consenting, reachable members)."""
    if broadcast.segment_id is None:
        return []
    ids = [row[0] for row in audience_queryset(broadcast.segment, broadcast.topic)[:SAMPLE]]
    return list(Profile.objects.filter(pk__in=ids).order_by("pk"))


def _customer(request, broadcast: Broadcast, chosen: int | None, sample: list[Profile]) -> Profile | None:
    if chosen:
        if request.user.has_perm("ecrm.view_profile"):
            return Profile.objects.filter(pk=chosen).exclude(email="").first()
        return next((p for p in sample if p.pk == chosen), None)
    return sample[0] if sample else None


class BroadcastPreviewView(StaffPermission, TemplateView):
    permission_required = "campaigns.view_broadcast"
    template_name = "campaigns/dashboard/broadcast_preview.html"

    def get_context_data(self, pk, **kwargs):
        broadcast = get_object_or_404(Broadcast.objects.select_related("segment"), pk=pk)
        form = PreviewForm(self.request.GET or None)
        data = form.cleaned_data if form.is_valid() else {}
        sample = _recipients(broadcast)
        can_pick = self.request.user.has_perm("ecrm.view_profile")
        customer = _customer(self.request, broadcast, data.get("customer"), sample)
        context = super().get_context_data(
            broadcast=broadcast, form=form, customer=customer, can_pick=can_pick,
            sample=[(p, urlencode({"customer": p.pk})) for p in sample],
            can_test=self.request.user.has_perm("campaigns.change_broadcast"),
            test_form=TestForm(initial={"to": self.request.user.email}), **kwargs)
        if data.get("q") and can_pick:
            context["found"] = [(p, urlencode({"customer": p.pk})) for p in customer_search(data["q"], limit=10)
                                if p.email]
        if customer is None:
            context["error"] = ("Nobody to preview it for: the segment has no member with e-mail consent for "
                                f"“{broadcast.topic}”. Search for a customer instead." if can_pick else
                                "Nobody to preview it for: the segment has no member with e-mail consent.")
            return context
        try:
            context["rendered"] = broadcast_preview(broadcast, customer)
        except RenderError as exc:
            context["error"] = str(exc)
        return context


class BroadcastTestSendView(StaffPermission, View):
    permission_required = "campaigns.change_broadcast"

    def post(self, request, pk):
        broadcast = get_object_or_404(Broadcast.objects.select_related("segment"), pk=pk)
        form, test = PreviewForm(request.POST), TestForm(request.POST)
        back = reverse("campaigns-dashboard:broadcast-preview", args=[broadcast.pk])
        if not (form.is_valid() and test.is_valid()):
            messages.error(request, "Give a valid e-mail address to send the test to.")
            return redirect(back)
        sample = _recipients(broadcast)
        customer = _customer(request, broadcast, form.cleaned_data.get("customer"), sample)
        if customer is not None:
            back += "?" + urlencode({"customer": customer.pk})
        if customer is None:
            messages.error(request, "Not sent: choose a customer to render it for.")
            return redirect(back)
        to = test.cleaned_data["to"]
        test_send_reported(request, lambda: broadcast_test_send(
            broadcast=broadcast, profile=customer, to_email=to, sender=request.user), name=broadcast.name, to=to)
        return redirect(back)
