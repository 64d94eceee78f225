"""Segment offers: limit an Oscar offer to a segment's members.

Staff build the offer itself with Oscar's offer wizard (Offers → Offers → Create), choosing
the type "User offer"; here they choose the segment it is for. The store's offer applicator
(``Applicator.get_user_offers``) then gives it to the segment's current members only.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.views.generic import FormView, ListView
from oscar.core.loading import get_model

from ecrm.models import Segment, SegmentOffer
from tracking.dashboard.views import StaffPermission

ConditionalOffer = get_model("offer", "ConditionalOffer")


def user_offers():
    return ConditionalOffer.objects.filter(offer_type=ConditionalOffer.USER)


class SegmentOfferListView(StaffPermission, ListView):
    """Every User offer with the segment it is limited to (none: it applies to nobody)."""

    permission_required = "ecrm.view_segmentoffer"
    template_name = "ecrm/dashboard/segment_offer_list.html"
    context_object_name = "offers"
    paginate_by = 50

    def get_queryset(self):
        return user_offers().select_related("ecrm_segment__segment").order_by("-date_created")

    def get_context_data(self, **kwargs):
        return super().get_context_data(other_offers=ConditionalOffer.objects.exclude(
            offer_type=ConditionalOffer.USER).count(), **kwargs)


class SegmentChoiceForm(forms.Form):
    segment = forms.ModelChoiceField(queryset=Segment.objects.all(), required=False,
                                     empty_label="— No segment: the offer applies to nobody —",
                                     help_text="Customers in this segment get the offer in their basket as soon "
                                               "as they join it, and no longer once they leave it.")


class SegmentOfferEditView(StaffPermission, FormView):
    permission_required = "ecrm.change_segmentoffer"
    template_name = "ecrm/dashboard/segment_offer_form.html"
    form_class = SegmentChoiceForm

    def dispatch(self, request, *args, **kwargs):
        self.offer = get_object_or_404(user_offers(), pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        link = SegmentOffer.objects.filter(offer=self.offer).first()
        return {"segment": link.segment if link else None}

    def get_context_data(self, **kwargs):
        return super().get_context_data(offer=self.offer, **kwargs)

    def form_valid(self, form):
        segment = form.cleaned_data["segment"]
        if segment is None:
            SegmentOffer.objects.filter(offer=self.offer).delete()
            messages.warning(self.request, f"“{self.offer.name}” is limited to no segment: nobody gets it now.")
        else:
            SegmentOffer.objects.update_or_create(offer=self.offer, defaults={
                "segment": segment, "created_by": self.request.user})
            messages.success(self.request, f"“{self.offer.name}” now applies to the {segment.member_count} "
                                           f"members of “{segment.name}”.")
        return redirect("ecrm-dashboard:segment-offers")
