"""E-mail designs in Oscar's dashboard: the list (composing is in Wagtail), a preview as a
customer staff pick by search (their name, recommendations, latest order, a sample
voucher), and a test send to a staff address. A design that cannot be rendered shows why."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views import View
from django.views.generic import ListView, TemplateView

from campaigns.design_preview import design_preview, design_test_send, design_version, sample_voucher
from campaigns.design_rendering import RenderError
from campaigns.designs_models import EmailDesign
from ecrm.models import Profile
from ecrm.selectors import customer_orders, customer_search
from campaigns.dashboard.test_sends import TestForm, test_send_reported
from tracking.dashboard.views import StaffPermission


class DesignListView(StaffPermission, ListView):
    permission_required = "campaigns.view_emaildesign"
    template_name = "campaigns/dashboard/designs.html"
    context_object_name = "designs"
    paginate_by = 50
    model = EmailDesign


class PreviewForm(forms.Form):
    """Who the design is shown to, and with what (GET for the preview, POST for a test)."""

    q = forms.CharField(required=False, max_length=200, label="Find a customer",
                        widget=forms.TextInput(attrs={"placeholder": "Name, e-mail, order number, phone"}))
    customer = forms.ModelChoiceField(Profile.objects.all(), required=False, widget=forms.HiddenInput)
    order = forms.IntegerField(required=False, widget=forms.HiddenInput)
    voucher = forms.BooleanField(required=False, label="with a sample voucher")
    draft = forms.BooleanField(required=False, label="latest draft (not yet published)")

    def order_of(self, customer):
        """The chosen order if it is the customer's, else their latest one (or None)."""
        if customer is None:
            return None
        orders = customer_orders(customer).order_by("-date_placed")
        chosen = self.cleaned_data.get("order")
        return (orders.filter(pk=chosen).first() if chosen else None) or orders.first()


def _query(form: PreviewForm, **overrides) -> str:
    data = {key: value for key, value in form.data.items() if key in form.fields and key != "csrfmiddlewaretoken"}
    data.update(overrides)
    return urlencode({key: value for key, value in data.items() if value not in (None, "", False)})


class DesignPreviewView(StaffPermission, TemplateView):
    permission_required = "campaigns.view_emaildesign"
    template_name = "campaigns/dashboard/design_preview.html"

    def get_context_data(self, pk, **kwargs):
        design = get_object_or_404(EmailDesign, pk=pk)
        form = PreviewForm(self.request.GET or None)
        data = form.cleaned_data if form.is_valid() else {}
        can_pick = self.request.user.has_perm("ecrm.view_profile")  # customers' data: the support desk's right
        customer = data.get("customer") if can_pick else None
        context = super().get_context_data(design=design, form=form, customer=customer,
                                           test_form=TestForm(initial={"to": self.request.user.email}), **kwargs)
        if data.get("q") and can_pick:
            context["found"] = [(profile, _query(form, customer=profile.pk, q="", order=""))
                                for profile in customer_search(data["q"], limit=10)]
        order = form.order_of(customer) if data else None
        version = design_version(design, draft=bool(data.get("draft")))
        try:
            context["rendered"] = design_preview(version, customer=customer, order=order,
                                                 voucher=sample_voucher() if data.get("voucher") else None)
        except RenderError as exc:
            context["error"] = str(exc)
        orders = customer_orders(customer).order_by("-date_placed")[:10] if customer else []
        context.update(can_pick=can_pick, order=order, order_links=[(o, _query(form, order=o.pk)) for o in orders],
                       can_test=self.request.user.has_perm("campaigns.send_test_emaildesign"),
                       can_edit=self.request.user.has_perm("campaigns.change_emaildesign"))
        return context


class DesignTestSendView(StaffPermission, View):
    """Send the preview as it is (same customer, order, voucher, version) to a staff address."""

    permission_required = "campaigns.send_test_emaildesign"

    def post(self, request, pk):
        design = get_object_or_404(EmailDesign, pk=pk)
        form, test = PreviewForm(request.POST), TestForm(request.POST)
        back = reverse("campaigns-dashboard:design-preview", args=[design.pk])
        if not (form.is_valid() and test.is_valid()):
            messages.error(request, "Give a valid e-mail address to send the test to.")
            return redirect(back)
        back += "?" + _query(form)
        data = form.cleaned_data
        customer = data["customer"] if request.user.has_perm("ecrm.view_profile") else None
        to = test.cleaned_data["to"]
        test_send_reported(request, lambda: design_test_send(
            design=design_version(design, draft=data["draft"]), to_email=to, sender=request.user, customer=customer,
            order=form.order_of(customer), voucher=sample_voucher() if data["voucher"] else None),
            name=design.name, to=to)
        return redirect(back)
