"""Gift occasions: captured at checkout (an optional group on Oscar's order preview), kept
and edited in the customer's account, reminded by the ``occasion`` trigger.

Oscar's checkout is not forked: the shop's ``oscar/checkout/preview.html`` adds the fields
(prefixed ``occasion-``) to the place-order form, and the receiver of Oscar's
``post_checkout`` signal (sent with the request once the order is placed) saves them. A
bad date never stops an order: the customer is told on the thank-you page and can add the
occasion in their account.
"""

from __future__ import annotations

import calendar
import logging

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.dispatch import receiver
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views import View
from oscar.apps.checkout.signals import post_checkout

from campaigns.trigger_models import Occasion

logger = logging.getLogger(__name__)
PREFIX = "occasion"
MONTHS = [(n, calendar.month_name[n]) for n in range(1, 13)]


class OccasionForm(forms.ModelForm):
    month = forms.TypedChoiceField(choices=MONTHS, coerce=int)
    day = forms.IntegerField(min_value=1, max_value=31)

    class Meta:
        model = Occasion
        fields = ["recipient", "kind", "month", "day", "note"]
        labels = {"recipient": "Who is the gift for?", "kind": "Occasion", "note": "Note (for you)"}

    def clean(self):
        cleaned = super().clean()
        month, day = cleaned.get("month"), cleaned.get("day")
        if month and day and day > calendar.monthrange(2024, month)[1]:  # a leap year: 29 February is a date
            self.add_error("day", f"{calendar.month_name[month]} has no day {day}.")
        return cleaned


def person_key_of(user=None, email: str = "") -> str:
    return str(user.pk) if user is not None and user.is_authenticated else f"email:{email.strip().lower()}"


def occasion_from_checkout(*, order, user, data) -> tuple[Occasion | None, str]:
    """The occasion given with the place-order POST ``data``: (saved, "") or (None, why not).
    Nothing given is (None, "")."""
    if not (data.get(f"{PREFIX}-recipient") or "").strip():
        return None, ""
    form = OccasionForm(data, prefix=PREFIX)
    if not form.is_valid():
        reasons = "; ".join(f"{form.fields[name].label or name}: {' '.join(errors)}" if name in form.fields
                            else " ".join(errors) for name, errors in form.errors.items())
        return None, reasons
    occasion = form.save(commit=False)
    occasion.user = user if user is not None and user.is_authenticated else None
    occasion.person_key = person_key_of(occasion.user, order.email)
    occasion.order = order
    occasion.save()
    return occasion, ""


@receiver(post_checkout, dispatch_uid="campaigns.occasion_at_checkout")
def order_was_placed(sender, order, user, request, response, **kwargs):
    if request is None or request.method != "POST":
        return
    try:
        occasion, problem = occasion_from_checkout(order=order, user=user, data=request.POST)
    except Exception:  # noqa: BLE001 - the order is placed; an occasion must never break that
        logger.exception("order %s: the gift occasion could not be saved", order.number)
        return
    if occasion is not None:
        messages.info(request, f"We will remind you before {occasion}.")
    elif problem:
        messages.warning(request, f"Your gift occasion was not saved ({problem}). "
                                  "You can add it under Account → Gift occasions.")


class OccasionListView(LoginRequiredMixin, View):
    """The customer's occasions, and a form to add one."""

    template_name = "campaigns/account/occasions.html"

    def _render(self, request, form):
        return render(request, self.template_name, {
            "occasions": Occasion.objects.filter(user=request.user), "form": form, "active_tab": "occasions",
            "page_title": "Gift occasions"})

    def get(self, request):
        return self._render(request, OccasionForm())

    def post(self, request):
        form = OccasionForm(request.POST)
        if not form.is_valid():
            return self._render(request, form)
        occasion = form.save(commit=False)
        occasion.user, occasion.person_key = request.user, person_key_of(request.user)
        occasion.save()
        messages.success(request, f"Saved: {occasion}.")
        return redirect(reverse("campaigns:occasions"))


class OccasionEditView(LoginRequiredMixin, View):
    template_name = "campaigns/account/occasion_form.html"

    def _occasion(self, request, pk):
        return get_object_or_404(Occasion, pk=pk, user=request.user)  # another customer's is a 404

    def _render(self, request, form, occasion):
        return render(request, self.template_name, {"form": form, "occasion": occasion, "active_tab": "occasions",
                                                    "page_title": f"Edit {occasion}"})

    def get(self, request, pk):
        occasion = self._occasion(request, pk)
        return self._render(request, OccasionForm(instance=occasion), occasion)

    def post(self, request, pk):
        occasion = self._occasion(request, pk)
        form = OccasionForm(request.POST, instance=occasion)
        if not form.is_valid():
            return self._render(request, form, occasion)
        form.save()
        messages.success(request, f"Saved: {occasion}.")
        return redirect(reverse("campaigns:occasions"))


class OccasionDeleteView(LoginRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk):
        deleted, _ = Occasion.objects.filter(pk=pk, user=request.user).delete()
        if not deleted:
            raise Http404("no such occasion")
        messages.success(request, "The occasion is deleted: no more reminders for it.")
        return redirect(reverse("campaigns:occasions"))
